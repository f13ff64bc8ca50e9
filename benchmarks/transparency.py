"""The public transparency log at a million entries: proofs, a donor's uses, and the cost of an append.

One run, on a real server on loopback, with the demo commons in a temporary directory:

1. the demo is seeded (its donor has a token and a consent), a fresh self-registered donor gets a
   token for the baseline, and half of ``--releases`` DP releases include the demo donor;
2. the log is filled to ``--entries`` (default 1,000,000) by writing synthetic release entries
   straight into the tables, in big batches: chain hashes (:func:`consent.transparency.entry_hash`),
   head row, leaves and every complete subtree exactly as :func:`consent.tlog.append` writes them. At
   about 1k and 32k entries it stops to time real appends (step 5); the other half of the releases
   come after the fill, so the donor's leaves sit before and after a million others;
3. the result is checked: the signed checkpoint verifies, a consistency proof from the checkpoint
   kept before the fill, inclusion proofs of random leaves and of the donor's uses fold to its root
   (each leaf hashed here from the entry's published fields), and, in-process, the whole hash chain
   and every stored tree node against the leaves recomputed from the entries' rows;
4. wrk drives, in ``--rounds`` rounds of ``--seconds`` each in which the endpoints take turns (so
   that a machine slowing down for a while slows them all), after a warm-up: (a) the baseline,
   ``GET /api/v1/consents`` with the fresh donor's token (authenticates, one small query,
   ``{"data": [], "count": 0}``);
   (b) ``GET /api/v1/donors/me/uses`` with the demo donor's token (every use with its inclusion
   proof against the whole tree); (c) ``GET /api/v1/transparency/proof/inclusion?index=…`` over
   random leaves; (d) ``GET /api/v1/transparency/checkpoint``; (e) ``GET /api/v1/donors/me`` (the
   donor's profile, for comparison). Goal: (b) and (c) at most 3x the mean latency of (a), no error.
   In-process, the statements that (b) and (c) issue are counted, to explain their cost;
5. :func:`consent.transparency.record_use` is timed, one transaction per append, at tree sizes 1023,
   32767 (the first append there completes a subtree of 2^10, 2^15 leaves: the worst case) and
   ``--entries``, with the database statements each append issues. Goal: O(log n), at most
   c + 2·⌈log2 n⌉ statements (one read and one write per subtree the leaf completes).

Exit 0 when every goal is met, 1 when one is not (or a check fails), 2 when wrk is missing.

Run: .venv/bin/python -m benchmarks.transparency [--entries 1000000] [--rounds 5] [--seconds 3] [--workers 1]
     [--database-url postgresql+psycopg://…/empty_db]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, event, insert, select, update  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from benchmarks.wrk import Measured, pooled, wrk  # noqa: E402
from consent import donors, merkle, tlog, transparency  # noqa: E402
from consent.demo import DEMO_DONOR  # noqa: E402
from consent.models import TransparencyEntry, TransparencyHead, TransparencyNode  # noqa: E402
from datacommons.config import Settings  # noqa: E402
from datacommons.db import Base, make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from tests.support.live_server import data_dir, seed_demo, server_process  # noqa: E402

DATASET = "inserimento-lavorativo"
RESEARCH = "dpv:ScientificResearch"
#: Who the synthetic entries say asked: (organisation, purpose, program), as real releases name them.
CALLERS = [
    ("Cooperativa sociale Il Ponte (bench)", RESEARCH, "inserimento-lavorativo-ricerca"),
    ("Università di Torino (bench)", RESEARCH, "inserimento-lavorativo-ricerca"),
    ("Città metropolitana di Torino (bench)", "dpv:PublicPolicyMaking", "inserimento-lavorativo-politiche"),
]
#: Entries per committed batch of the fill (each batch leaves a complete, consistent log).
BATCH = 25_000
#: Tree sizes at which appends are timed during the fill (one less than a power of two, so that the
#: first timed append completes the largest subtree possible at that size).
APPEND_SIZES = (2**10 - 1, 2**15 - 1)
GOAL = 3.0
MISSING_WRK = "wrk is not installed: apt-get install wrk"


# --- filling the log ------------------------------------------------------------------------------


def head_of(session: Session) -> tuple[int, str]:
    """The log's head row: (entries, hash of the last one)."""
    seq, last = session.execute(
        select(TransparencyHead.seq, TransparencyHead.entry_hash).where(TransparencyHead.id == tlog.HEAD_ID)
    ).one()
    return int(seq), str(last)


def synthetic(entry_id: int, at: datetime, prev_hash: str) -> dict[str, Any]:
    """The fields of a synthetic release entry, as ``transparency._append`` would write them."""
    organisation, purpose, program = CALLERS[entry_id % len(CALLERS)]
    values: dict[str, Any] = {
        "id": entry_id,
        "at": at,
        "kind": "release",
        "actor": "token:bench",
        "organisation": organisation,
        "purpose": purpose,
        "datasets": [DATASET],
        "fee_eur": None,
        "details": {
            "release_id": f"{entry_id:032x}",
            "program": program,
            "epsilon": round(0.001 * (1 + entry_id % 50), 3),
            "version": 1,
        },
        "prev_hash": prev_hash,
    }
    values["entry_hash"] = transparency.entry_hash(**values)
    return values


def frontier_of(session: Session, size: int) -> dict[int, bytes]:
    """The complete subtrees still waiting for a right sibling, by level: the nodes a next append
    reads (the left siblings :func:`tlog.append` looks up)."""
    frontier = {}
    for level in range(size.bit_length()):
        if (size >> level) & 1:
            node = session.get(TransparencyNode, (level, (size >> level) - 1))
            if node is None:
                raise RuntimeError(f"the stored tree lacks node {level}/{(size >> level) - 1}")
            frontier[level] = bytes(node.hash)
    return frontier


def fill(factory: sessionmaker[Session], until: int) -> None:
    """Append synthetic entries until the log has ``until``, straight into the tables."""
    with factory() as session:
        size, prev = head_of(session)
        last = session.get(TransparencyEntry, size) if size else None
        frontier = frontier_of(session, size)
    if size >= until:
        return
    # One microsecond apart, after the last entry: the log stays in time order.
    at = last.at if last is not None else utcnow()
    entries_table = Base.metadata.tables[TransparencyEntry.__tablename__]
    nodes_table = Base.metadata.tables[TransparencyNode.__tablename__]
    started, report_every, first = time.perf_counter(), max(BATCH, (until - size) // 10), size
    next_report = size
    print(f"  filling the log from {size:,} to {until:,} entries")
    while size < until:
        entries: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        for entry_id in range(size + 1, min(until, size + BATCH) + 1):
            at += timedelta(microseconds=1)
            values = synthetic(entry_id, at, prev)
            entries.append(values)
            prev = values["entry_hash"]
            # tlog.append, with the left siblings kept in memory instead of read back
            index, level = entry_id - 1, 0
            current = merkle.leaf_hash(tlog.entry_bytes(TransparencyEntry(**values)))
            nodes.append({"level": 0, "idx": index, "hash": current})
            while index & 1:
                current = merkle.node_hash(frontier[level], current)
                index, level = index >> 1, level + 1
                nodes.append({"level": level, "idx": index, "hash": current})
            frontier[level] = current
        with transaction(factory, immediate=True) as session:
            if session.get_bind().dialect.name == "sqlite":
                session.connection().exec_driver_sql("PRAGMA cache_size = -262144")
            if head_of(session)[0] != size:
                raise RuntimeError("someone else appended to the log during the fill")
            session.execute(insert(entries_table), entries)
            session.execute(insert(nodes_table), nodes)
            session.execute(
                update(TransparencyHead)
                .where(TransparencyHead.id == tlog.HEAD_ID)
                .values(seq=entries[-1]["id"], entry_hash=prev)
            )
        size = entries[-1]["id"]
        if size >= next_report + report_every or size == until:
            next_report = size
            elapsed = time.perf_counter() - started
            print(f"    {size:>12,} entries  ({elapsed:6.1f} s, {(size - first) / elapsed:,.0f} entries/s)")


# --- appends ---------------------------------------------------------------------------------------


class Statements:
    """Counts the statements an engine sends to the database while it is listening."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.count = engine, 0

    def _seen(self, *_args: object) -> None:
        self.count += 1

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@dataclass(frozen=True)
class AppendCost:
    """Timed appends starting at tree size ``size``: seconds and database statements of each."""

    size: int
    seconds: list[float]
    statements: list[int]


def time_appends(engine: Engine, factory: sessionmaker[Session], count: int) -> AppendCost:
    """``count`` real appends (:func:`transparency.record_use`), each in its own transaction."""
    with factory() as session:
        size = tlog.tree_size(session)
    seconds, statements = [], []
    with Statements(engine) as issued:
        for n in range(count):
            with transaction(factory, immediate=True) as session:
                session.connection()  # the transaction (BEGIN IMMEDIATE) is not the append's cost
                issued.count = 0
                start = time.perf_counter()
                transparency.record_use(
                    session,
                    kind="release",
                    actor="token:bench",
                    purpose=RESEARCH,
                    datasets=[DATASET],
                    organisation=CALLERS[0][0],
                    details={"release_id": f"append-{size + n}", "program": CALLERS[0][2], "epsilon": 0.01},
                )
                seconds.append(time.perf_counter() - start)
                statements.append(issued.count)
    return AppendCost(size, seconds, statements)


def report_appends(costs: list[AppendCost]) -> bool:
    """Print the appends' table; whether they grow like log n (statements within the bound)."""
    first = costs[0]
    base_time, base_log = statistics.median(first.seconds), math.log2(first.size)
    fixed = min(min(c.statements) for c in costs)  # an append that completes no subtree
    print(f"\nappends (transparency.record_use, one transaction each, {len(first.seconds)} per size)")
    print(
        f"  {'tree size':>10} {'mean µs':>8} {'median µs':>9} {'x smallest':>10} {'log2 n':>7} "
        f"{'x smallest':>10} {'stmts mean':>10} {'max':>4} {'bound':>5}"
    )
    ok = True
    for cost in costs:
        median = statistics.median(cost.seconds)
        bound = fixed + 2 * math.ceil(math.log2(cost.size))
        ok = ok and max(cost.statements) <= bound
        print(
            f"  {cost.size:>10,} {statistics.mean(cost.seconds) * 1e6:>8.0f} {median * 1e6:>9.0f} "
            f"{median / base_time:>10.2f} {math.log2(cost.size):>7.1f} "
            f"{math.log2(cost.size) / base_log:>10.2f} "
            f"{statistics.mean(cost.statements):>10.2f} {max(cost.statements):>4} {bound:>5}"
        )
    largest = costs[-1]
    growth = statistics.median(largest.seconds) / base_time
    log_growth = math.log2(largest.size) / base_log
    print(
        f"  bound: {fixed} statements + 2 per level (read the left sibling, write the parent); "
        f"time x{growth:.2f} for log2 n x{log_growth:.2f} from {first.size:,} to {largest.size:,}"
    )
    # Time is noisy: O(n) would be x1000 here; allow twice the growth of log n.
    ok = ok and growth <= 2 * log_growth
    print(f"  append O(log n): {'yes' if ok else 'NO'}")
    return ok


# --- the server and its answers --------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def release(http: httpx.Client, analyst: str, n: int) -> None:
    """A DP release that includes the demo donor (a new query each time: a repeat is not logged)."""
    answer = http.post(
        f"/api/v1/datasets/{DATASET}/queries",
        headers=bearer(analyst),
        json={
            "purpose": RESEARCH,
            "group_by": [],
            "measures": [{"op": "count"}],
            "epsilon": round(0.01 + n / 1000, 3),
        },
    )
    answer.raise_for_status()


def checkpoint(http: httpx.Client) -> tlog.Checkpoint:
    """The server's checkpoint, its signature verified with the published key."""
    key = http.get("/api/v1/transparency/key").text
    return tlog.verify_checkpoint(http.get("/api/v1/transparency/checkpoint").text, key)


def published_leaf(http: httpx.Client, index: int) -> bytes:
    """The leaf hash of entry ``index``, computed here from its published fields."""
    entry = http.get("/api/v1/transparency/entries", params={"start": index, "end": index + 1}).json()
    fields = entry["entries"][0]["entry"]
    return merkle.leaf_hash(
        json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    )


def check_proofs(http: httpx.Client, donor: str, saved: tlog.Checkpoint, samples: int) -> tlog.Checkpoint:
    """Check the server's proofs against its signed checkpoint; the checkpoint. RuntimeError if not."""
    final = checkpoint(http)
    answer = http.get(
        "/api/v1/transparency/proof/consistency", params={"first": saved.size, "second": final.size}
    ).json()
    proof = [base64.b64decode(p) for p in answer["proof"]]
    if not merkle.verify_consistency(saved.size, final.size, saved.root, final.root, proof):
        raise RuntimeError(f"the log of {final.size} entries does not extend the one of {saved.size}")
    uses = http.get("/api/v1/donors/me/uses", headers=bearer(donor)).json()["data"]
    proved = [(u["log_index"], [base64.b64decode(p) for p in u["inclusion_proof"]]) for u in uses]
    step = max(1, final.size // samples)
    for index in [*range(step // 2, final.size, step), final.size - 1]:
        answer = http.get("/api/v1/transparency/proof/inclusion", params={"index": index}).json()
        proved.append((index, [base64.b64decode(p) for p in answer["proof"]]))
    for index, path in proved:
        if merkle.root_from_inclusion(index, final.size, published_leaf(http, index), path) != final.root:
            raise RuntimeError(f"the inclusion proof of leaf {index} does not lead to the checkpoint's root")
    print(
        f"  checkpoint of {final.size:,} entries verified; consistent with the one of {saved.size} "
        f"before the fill; {len(proved)} inclusion proofs fold to its root ({len(uses)} of them the "
        f"donor's uses; up to {max(len(path) for _, path in proved)} hashes each)"
    )
    return final


def check_database(factory: sessionmaker[Session], final: tlog.Checkpoint) -> None:
    """The whole chain, and every stored node against the leaves recomputed from the entries."""
    started = time.perf_counter()
    with factory() as session:
        verdict = transparency.verify_chain(session)
        if not verdict.ok or verdict.count != final.size:
            raise RuntimeError(f"the hash chain does not verify: {verdict.reason}")
        print(f"  hash chain of {verdict.count:,} entries verified ({time.perf_counter() - started:.0f} s)")
        level_hashes = tlog.leaves_from_entries(session, final.size)
        level, nodes = 0, 0
        while level_hashes:
            stored = session.scalars(
                select(TransparencyNode.hash)
                .where(TransparencyNode.level == level)
                .order_by(TransparencyNode.idx)
            ).all()
            if [bytes(h) for h in stored] != level_hashes:
                raise RuntimeError(f"the stored tree differs from the entries at level {level}")
            nodes += len(stored)
            level_hashes = [
                merkle.node_hash(level_hashes[i], level_hashes[i + 1])
                for i in range(0, len(level_hashes) - 1, 2)
            ]
            level += 1
        if tlog.Tree(session, final.size).root() != final.root:
            raise RuntimeError("the stored tree's root is not the checkpoint's")
    print(
        f"  all {nodes:,} stored tree nodes equal the ones recomputed from the entries, and the root "
        f"the checkpoint's ({time.perf_counter() - started:.0f} s in all)"
    )


def diagnose(engine: Engine, factory: sessionmaker[Session], size: int) -> None:
    """Statements and time, in-process, of what (b) and (c) compute: the donor's uses with their
    proofs, and one inclusion proof."""
    with factory() as session, Statements(engine) as issued:
        start = time.perf_counter()
        uses = donors.uses_of(session, DEMO_DONOR)
        took = time.perf_counter() - start
        print(
            f"  in-process: the donor's {len(uses)} uses with proofs: {issued.count} statements, "
            f"{took * 1000:.1f} ms",
            end="; ",
        )
        issued.count, start = 0, time.perf_counter()
        tree = tlog.Tree(session, tlog.tree_size(session))
        merkle.inclusion_proof(size // 3, tree.size, tree.subtree)
        tree.root()
        took = time.perf_counter() - start
        print(f"one inclusion proof and the root: {issued.count} statements, {took * 1000:.1f} ms")


# --- wrk --------------------------------------------------------------------------------------------


def report_wrk(results: list[Measured], size: int, uses: int) -> bool:
    """Print wrk's table and the ratios to the baseline; whether both goals are met."""
    baseline = results[0]
    print(f"\nHTTP, log of {size:,} entries; the donor has {uses} uses, each with its inclusion proof")
    print(
        f"  {'endpoint':<48} {'req/s':>8} {'mean ms':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'x (a)':>6}"
    )
    for r in results:
        print(
            f"  {r.name:<48} {r.per_second:>8.0f} {r.mean_ms:>8.2f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} "
            f"{r.errors:>6} {r.mean_ms / baseline.mean_ms:>6.2f}"
        )
    ok = all(r.errors == 0 for r in results)
    print(f"  mean latency against (a), goal at most {GOAL:.0f}x:")
    for r in results[1:]:
        ratio = r.mean_ms / baseline.mean_ms
        gated = r.name.startswith(("(b)", "(c)"))
        ok = ok and (ratio <= GOAL or not gated)
        verdict = ("ok" if ratio <= GOAL else "ABOVE THE GOAL") if gated else "(not a goal)"
        print(f"    {r.name[:3]}/(a) = {ratio:.2f}  (p99 {r.p99_ms / baseline.p99_ms:.2f})  {verdict}")
    return ok


# --- the run ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries the log is filled to")
    parser.add_argument("--releases", type=int, default=10, help="DP releases that include the donor")
    parser.add_argument("--seconds", type=int, default=3, help="seconds of wrk per endpoint and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds in which the endpoints take turns")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk per endpoint before")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--appends", type=int, default=200, help="appends timed at each tree size")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print(MISSING_WRK, file=sys.stderr)
        return 2
    after = args.releases - args.releases // 2
    if args.entries < 2 * APPEND_SIZES[0]:
        print(f"--entries must be at least {2 * APPEND_SIZES[0]}", file=sys.stderr)
        return 2
    extra = {"DATACOMMONS_DATABASE_URL": args.database_url} if args.database_url else {}

    with data_dir() as directory:
        url = Settings(
            _env_file=None, env="development", data_dir=directory, database_url=args.database_url
        ).database_url_resolved
        started = time.perf_counter()
        print(f"seeding the demo in {directory} ...")
        _, tokens = seed_demo(directory, **extra)
        with (
            server_process(directory, workers=args.workers, **extra) as (base, _),
            httpx.Client(base_url=base, timeout=120) as http,
        ):
            answer = http.post("/api/v1/donors", json={})
            answer.raise_for_status()
            fresh = answer.json()["token"]
            for n in range(args.releases // 2):
                release(http, tokens["analyst"], n)
            saved = checkpoint(http)
        print(
            f"  demo seeded, {args.releases // 2} releases: log of {saved.size} entries "
            f"({time.perf_counter() - started:.0f} s)"
        )

        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        costs = []
        started = time.perf_counter()
        for size in APPEND_SIZES:
            if size + args.appends + after < args.entries:
                fill(factory, size)
                costs.append(time_appends(engine, factory, args.appends))
                print(f"  timed {args.appends} appends at {size:,} entries")
        fill(factory, args.entries - after)
        print(f"  log filled in {time.perf_counter() - started:.0f} s ({engine.dialect.name})")
        engine.dispose()

        with (
            server_process(directory, workers=args.workers, **extra) as (base, _),
            httpx.Client(base_url=base, timeout=120) as http,
        ):
            for n in range(args.releases // 2, args.releases):
                release(http, tokens["analyst"], n)
            print("checking the log ...")
            final = check_proofs(http, tokens["donor"], saved, samples=20)
            uses = http.get("/api/v1/donors/me/uses", headers=bearer(tokens["donor"])).json()["count"]
            endpoints: list[tuple[str, str, str | None, int]] = [
                ("(a) GET /api/v1/consents (fresh donor)", "/api/v1/consents", fresh, 0),
                ("(b) GET /api/v1/donors/me/uses", "/api/v1/donors/me/uses", tokens["donor"], 0),
                (
                    "(c) GET /api/v1/transparency/proof/inclusion",
                    "/api/v1/transparency/proof/inclusion?index=",
                    None,
                    final.size,
                ),
                ("(d) GET /api/v1/transparency/checkpoint", "/api/v1/transparency/checkpoint", None, 0),
                ("(e) GET /api/v1/donors/me (the donor's profile)", "/api/v1/donors/me", tokens["donor"], 0),
            ]
            print(
                f"driving the server with wrk ({args.workers} worker(s); {args.threads} thread(s), "
                f"{args.connections} connections; {args.rounds} rounds of {args.seconds} s per endpoint, "
                f"taking turns, after {args.warmup} s of warm-up each) ..."
            )
            # The endpoints take turns, round after round: a machine that slows down for a while
            # (a neighbour, a noisy virtual machine) slows each of them, not the ones measured then.
            rounds: dict[str, list[Measured]] = {name: [] for name, *_ in endpoints}
            for n in range(-1 if args.warmup else 0, args.rounds):
                for name, path, token, below in endpoints:
                    measured = wrk(
                        base,
                        path,
                        name=name,
                        seconds=args.warmup if n < 0 else args.seconds,
                        threads=args.threads,
                        connections=args.connections,
                        script_dir=directory,
                        token=token,
                        random_below=below,
                    )
                    if n >= 0:
                        rounds[name].append(measured)
            results = [pooled(measured) for measured in rounds.values()]

        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        check_database(factory, final)
        diagnose(engine, factory, final.size)
        costs.append(time_appends(engine, factory, args.appends))
        engine.dispose()

    http_ok = report_wrk(results, final.size, uses)
    append_ok = report_appends(costs)
    ok = http_ok and append_ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
