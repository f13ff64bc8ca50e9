"""Search under load: a catalog of 1,000 datasets, 100 concurrent clients, against a real server.

Two measurements in one run, against the same server on loopback:
1. throughput (requests/s) of catalog searches and of a trivial endpoint (the health check), each
   driven flat out by the same closed-loop clients: the ratio must be at least 0.5;
2. latency of searches with 100 concurrent clients, each a person-like user who searches, reads the
   results for a moment (a random pause of 0.2-0.6 s) and searches again: p99 must be under 50 ms.

Run: .venv/bin/python benchmarks/search.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datacommons import auth, registry  # noqa: E402
from datacommons.config import Settings  # noqa: E402
from datacommons.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from datacommons.migrations import upgrade  # noqa: E402
from datacommons.specs import DatasetMeta  # noqa: E402
from tests.support.live_server import data_dir, percentile, server  # noqa: E402

TOPICS = [
    ("disoccupazione", "unemployment"),
    ("occupazione", "employment"),
    ("povertà", "poverty"),
    ("giovani NEET", "NEET youth"),
    ("disabilità", "disability"),
    ("cooperative", "cooperatives"),
    ("salari", "wages"),
    ("formazione", "training"),
    ("migranti", "migrants"),
    ("volontariato", "volunteering"),
]
PLACES = ["Torino", "Piemonte", "Moncalieri", "Collegno", "Rivoli", "Nichelino", "Settimo", "Chieri"]
QUERIES = [
    "disoccupazione",
    "unemployment",
    "povertà torino",
    "cooperative",
    "NEET",
    "salari",
    "employment piemonte",
    "formazione",
    "disabilità",
    "volunteering",
]


def seed(directory: Path, n: int) -> str:
    settings = Settings(_env_file=None, data_dir=directory)
    engine = make_engine(settings.database_url_resolved)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    rng = random.Random(1)
    with transaction(factory) as session:
        for i in range(n):
            it, en = rng.choice(TOPICS)
            place = rng.choice(PLACES)
            registry.upsert_dataset(
                session,
                meta=DatasetMeta(
                    id=f"dataset-{i:04d}",
                    title_it=f"{it.capitalize()} a {place} ({2015 + i % 10})",
                    title_en=f"{en.capitalize()} in {place} ({2015 + i % 10})",
                    description_it=f"Indicatore di {it} per {place}, serie annuale.",
                    description_en=f"Indicator of {en} for {place}, annual series.",
                    publisher=rng.choice(["ISTAT", "Eurostat", "Città metropolitana di Torino"]),
                    theme=rng.choice(["SOCI", "ECON", "REGI"]),
                    geography=rng.choice(["ITC11", "ITC1"]),
                    keywords=[it, en, place],
                    access=rng.choice(["open", "open", "private"]),
                ),
            )
        org = auth.get_or_create_organisation(session, "bench")
        _, token = auth.create_token(session, role="analyst", name="bench", organisation=org)
    engine.dispose()
    return token


async def flat_out(url_of, headers: dict[str, str], clients: int, seconds: float) -> tuple[int, int]:
    done = errors = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def worker(i: int) -> None:
            nonlocal done, errors
            while time.monotonic() < stop:
                try:
                    response = await client.get(url_of(i))
                    errors += response.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                done += 1

        await asyncio.gather(*(worker(i) for i in range(clients)))
    return done, errors


async def paced(
    url_of,
    headers: dict[str, str],
    clients: int,
    seconds: float,
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def user(i: int) -> None:
            nonlocal errors
            rng = random.Random(i)
            await asyncio.sleep(rng.uniform(0, 3.0))
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    response = await client.get(url_of(rng.randrange(1000)))
                    errors += response.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)
                await asyncio.sleep(rng.uniform(1.0, 3.0))

        await asyncio.gather(*(user(i) for i in range(clients)))
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with data_dir() as directory:
        token = seed(directory, args.datasets)
        headers = {"Authorization": f"Bearer {token}"}
        with server(directory) as base:
            search = lambda i: f"{base}/api/v1/datasets?q={QUERIES[i % len(QUERIES)]}"  # noqa: E731
            trivial = lambda i: f"{base}/api/v1/health"  # noqa: E731
            asyncio.run(flat_out(search, headers, 10, 2))  # warm up (index build, caches)
            n_trivial, e_trivial = asyncio.run(flat_out(trivial, headers, args.clients, args.seconds))
            n_search, e_search = asyncio.run(flat_out(search, headers, args.clients, args.seconds))
            latencies, e_paced = asyncio.run(paced(search, headers, args.clients, args.seconds))
    rps_trivial, rps_search = n_trivial / args.seconds, n_search / args.seconds
    ratio = rps_search / rps_trivial
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"catalog: {args.datasets} datasets; {args.clients} concurrent clients")
    print(
        f"throughput: search {rps_search:.0f} req/s, trivial endpoint {rps_trivial:.0f} req/s, "
        f"ratio {ratio:.2f} (goal >= 0.50)"
    )
    print(
        f"latency (paced users, {len(latencies)} searches): p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(goal p99 < 50 ms)"
    )
    print(f"errors: {e_trivial + e_search + e_paced}")
    ok = ratio >= 0.5 and p99 < 50 and (e_trivial + e_search + e_paced) == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
