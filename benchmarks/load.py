"""Mixed load against a real server on loopback: search, DP preview, DP release, consent writes.

Several client processes (default 6) drive the demo commons for a bounded time (default 120 s) with a
weighted mix of what its users do:

- search      GET /api/v1/datasets?q=...          (analysts, researchers)   45 %
- preview     POST .../queries/preview             (accuracy before spending) 20 %
- release     POST .../queries                     (spends ε; a third repeat a stored release) 10 %
- consent     POST /consents, POST .../withdraw    (donors giving and taking back)           25 %

Baseline, measured in the same run with the same clients: GET /api/v1/health (a trivial endpoint).
It prints throughput, p50/p99 latency and the answers by status for each operation, the mixed
throughput as a ratio of the baseline, and the server's memory (RSS of all its processes) after
warm-up and at the end. Goal: zero 5xx answers and no transport error; memory stable.

Each client has its own analyst token in its own organisation and its own donors; the server runs
with the rate limits raised (the run measures the service, not the limiter, which tests cover).
A release refused because a privacy budget is spent (429) is the commons working as designed: it is
counted, not an error.

Run: .venv/bin/python benchmarks/load.py [--seconds 120] [--clients 6] [--workers 1] [--warmup 10]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.live_server import data_dir, percentile, seed_demo, server_process  # noqa: E402

DATASET = "inserimento-lavorativo"
SEARCHES = [
    "disoccupazione",
    "unemployment",
    "lavoro",
    "cooperative",
    "NEET",
    "comuni torino",
    "occupazione",
    "inserimento",
    "povertà",
    "plan 2030",
    "",
    "istat",
]
GROUPINGS = [[], ["sex"], ["age_band"], ["pathway"], ["sex", "age_band"], ["disadvantage"]]
RAISED_LIMITS = {
    "DATACOMMONS_RATE_LIMIT_QUERY": "1000000/minute",
    "DATACOMMONS_RATE_LIMIT_LOGIN": "1000000/minute",
}


@dataclass(frozen=True)
class Client:
    """What one client process needs: the server, its token, its donors, the program."""

    index: int
    base: str
    analyst: str
    donors: tuple[str, ...]
    program_id: str
    purpose: str
    text_version: int


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, AttributeError):
            continue
    return total


def drive(client: Client, seconds: float, mix: dict[str, int]) -> list[tuple[str, int, float]]:
    """Run the mix until the time is up; every call as (operation, status, seconds)."""
    rng = random.Random(client.index)
    ops, weights = list(mix), list(mix.values())
    consents: dict[str, str | None] = dict.fromkeys(client.donors)  # donor token -> active consent id
    released: list[dict[str, object]] = []
    analyst = {"Authorization": f"Bearer {client.analyst}"}
    out: list[tuple[str, int, float]] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=client.base, timeout=60) as http:
        while time.monotonic() < deadline:
            op = rng.choices(ops, weights)[0]
            started = time.perf_counter()
            try:
                if op == "health":
                    status = http.get("/api/v1/health").status_code
                elif op == "search":
                    status = http.get(
                        "/api/v1/datasets", headers=analyst, params={"q": rng.choice(SEARCHES), "limit": 20}
                    ).status_code
                elif op in ("preview", "release"):
                    if op == "release" and released and rng.random() < 1 / 3:
                        query = rng.choice(released)  # a repeat: answered from the stored release
                    else:
                        query = {
                            "purpose": client.purpose,
                            "group_by": rng.choice(GROUPINGS),
                            "measures": [
                                {"op": "count"},
                                {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]},
                            ],
                            "epsilon": round(rng.uniform(0.001, 0.01), 6),
                        }
                    path = f"/api/v1/datasets/{DATASET}/queries" + ("/preview" if op == "preview" else "")
                    status = http.post(path, json=query, headers=analyst).status_code
                    if op == "release" and status == 200:
                        released.append(query)
                else:  # consent: give if not given, else withdraw
                    donor = rng.choice(client.donors)
                    headers = {"Authorization": f"Bearer {donor}"}
                    consent_id = consents[donor]
                    if consent_id is None:
                        answer = http.post(
                            "/api/v1/consents",
                            headers=headers,
                            json={"program_id": client.program_id, "text_version": client.text_version},
                        )
                        if answer.status_code == 201:
                            consents[donor] = answer.json()["consent"]["id"]
                    else:
                        answer = http.post(f"/api/v1/consents/{consent_id}/withdraw", headers=headers)
                        if answer.status_code == 200:
                            consents[donor] = None
                    status = answer.status_code
            except httpx.HTTPError:
                status = 0  # a transport error: the server dropped or refused the connection
            out.append((op, status, time.perf_counter() - started))
    return out


def run_clients(clients: list[Client], seconds: float, mix: dict[str, int]) -> list[tuple[str, int, float]]:
    with ProcessPoolExecutor(len(clients)) as pool:
        results = pool.map(drive, clients, [seconds] * len(clients), [mix] * len(clients))
        return [call for calls in results for call in calls]


def set_up(base: str, admin: str, clients: int, donors_each: int) -> list[Client]:
    """One analyst token (own organisation) and a few registered donors per client."""
    out = []
    with httpx.Client(base_url=base, timeout=60) as http:
        programs = http.get("/api/v1/programs").json()["data"]
        program = next(p for p in programs if DATASET in p["current_text"]["datasets"])
        for index in range(clients):
            token = http.post(
                "/api/v1/admin/tokens",
                headers={"Authorization": f"Bearer {admin}"},
                json={"role": "analyst", "name": f"load {index}", "organisation": f"load-org-{index}"},
            )
            token.raise_for_status()
            donors = []
            for _ in range(donors_each):
                answer = http.post("/api/v1/donors", json={})
                answer.raise_for_status()
                donors.append(answer.json()["token"])
            out.append(
                Client(
                    index=index,
                    base=base,
                    analyst=token.json()["token"],
                    donors=tuple(donors),
                    program_id=program["id"],
                    purpose=program["purpose"],
                    text_version=program["current_text"]["version"],
                )
            )
    return out


def report(name: str, calls: list[tuple[str, int, float]], seconds: float) -> dict[str, float]:
    by_op: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for op, status, latency in calls:
        by_op[op].append((status, latency))
    print(f"\n{name}: {len(calls)} calls in {seconds:.0f} s = {len(calls) / seconds:.1f} req/s")
    print(f"  {'operation':<10} {'calls':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  answers")
    for op, rows in sorted(by_op.items()):
        latencies = [lat * 1000 for _, lat in rows]
        statuses = Counter(status for status, _ in rows)
        answers = ", ".join(f"{s or 'transport error'}: {n}" for s, n in sorted(statuses.items()))
        print(
            f"  {op:<10} {len(rows):>7} {len(rows) / seconds:>8.1f} "
            f"{percentile(latencies, 50):>8.1f} {percentile(latencies, 99):>8.1f}  {answers}"
        )
    every = [lat * 1000 for _, _, lat in calls]
    print(
        f"  {'all':<10} {len(calls):>7} {len(calls) / seconds:>8.1f} "
        f"{percentile(every, 50):>8.1f} {percentile(every, 99):>8.1f}"
    )
    return {
        "throughput": len(calls) / seconds,
        "server_errors": sum(1 for _, s, _ in calls if s >= 500 or s == 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--baseline-seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of the mix before measuring")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--donors", type=int, default=20, help="donors per client")
    args = parser.parse_args()

    with data_dir() as directory:
        try:
            _, tokens = seed_demo(directory, **RAISED_LIMITS)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        with server_process(directory, workers=args.workers, **RAISED_LIMITS) as (base, process):
            clients = set_up(base, tokens["admin"], args.clients, args.donors)
            print(
                f"server: {base}, {args.workers} worker process(es); {args.clients} client "
                f"processes; {args.donors} donors each; rate limits raised for the run"
            )
            # warm-up with the whole mix: caches filled, pools opened, before memory is read
            run_clients(clients, args.warmup, {"search": 45, "preview": 20, "release": 10, "consent": 25})
            memory_start = rss_kib(process.pid)
            baseline = report(
                "baseline (GET /api/v1/health)",
                run_clients(clients, args.baseline_seconds, {"health": 1}),
                args.baseline_seconds,
            )
            started = time.monotonic()
            calls = run_clients(
                clients, args.seconds, {"search": 45, "preview": 20, "release": 10, "consent": 25}
            )
            elapsed = time.monotonic() - started
            mixed = report("mixed workload", calls, elapsed)
            memory_end = rss_kib(process.pid)
            alive = process.poll() is None

    errors = mixed["server_errors"] + baseline["server_errors"]
    growth = (memory_end - memory_start) / max(memory_start, 1)
    print(f"\nmixed throughput / trivial endpoint: {mixed['throughput'] / baseline['throughput']:.2f}")
    print(
        f"server memory (RSS): {memory_start / 1024:.0f} MiB after warm-up, "
        f"{memory_end / 1024:.0f} MiB at the end ({growth:+.1%})"
    )
    print(f"5xx answers and transport errors: {errors}; server alive at the end: {alive}")
    ok = errors == 0 and alive
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
