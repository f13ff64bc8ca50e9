"""A real server on loopback in a temporary data directory, for the browser tests and the benchmarks."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATACOMMONS_")}
    env.update(
        {
            "DATACOMMONS_DATA_DIR": str(data_dir),
            "DATACOMMONS_ENV": "development",
            "DATACOMMONS_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


@contextmanager
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="datacommons-bench-") as tmp:
        yield Path(tmp)


@contextmanager
def server_process(
    directory: Path, *, workers: int = 1, log_path: Path | None = None, **extra: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``datacommons serve`` on a free loopback port; yield its base URL and process; stop it.

    The server's log (standard error) goes to ``log_path`` when given, else nowhere.
    """
    port = free_port()
    log = log_path.open("ab") if log_path is not None else None
    process = subprocess.Popen(
        [sys.executable, "-m", "datacommons.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=bench_env(directory, **extra),
        stdout=subprocess.DEVNULL,
        stderr=log if log is not None else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not None:
            log.close()


@contextmanager
def server(directory: Path, *, workers: int = 1, log_path: Path | None = None, **extra: str) -> Iterator[str]:
    """Run ``datacommons serve`` on a free loopback port; yield its base URL; stop it."""
    with server_process(directory, workers=workers, log_path=log_path, **extra) as (base, _):
        yield base


def seed_demo(directory: Path, **extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run ``datacommons demo`` in ``directory``: the finished command and its demo tokens by role."""
    demo = subprocess.run(
        [sys.executable, "-m", "datacommons.cli", "demo"],
        env=bench_env(directory, **extra),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if demo.returncode != 0:
        raise RuntimeError(f"datacommons demo failed: {demo.stderr.strip()}")
    tokens = dict(re.findall(r"^\s+(admin|analyst|researcher|donor)\s+(\S+)$", demo.stdout, re.M))
    return demo, tokens


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(fn, repeat: int = 1) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Median seconds of ``repeat`` calls of ``fn``, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
