"""Driving an HTTP endpoint with wrk (Debian's ``wrk`` package), the load tool of the benchmarks.

A Lua script makes wrk print one machine-readable line (requests, duration, errors with non-2xx
answers counted, mean / p50 / p99 latency); :func:`wrk` runs it and :func:`pooled` joins rounds.
"""

from __future__ import annotations

import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK_SCRIPT = """
local path, size = "%(path)s", %(size)d
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(seed or 1)
  fixed = wrk.format("GET", path)
end
function request()
  if size > 0 then
    return wrk.format("GET", path .. math.random(0, size - 1))
  end
  return fixed
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %%d %%d %%d %%.1f %%.1f %%.1f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency.mean, latency:percentile(50),
    latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Measured:
    """What wrk saw of one endpoint: requests/s, latency in ms, and errors (non-2xx included)."""

    name: str
    per_second: float
    mean_ms: float
    p50_ms: float
    p99_ms: float
    errors: int


def pooled(rounds: list[Measured]) -> Measured:
    """One endpoint over several rounds: requests/s and errors summed over all, the mean latency
    weighted by each round's requests, p50 and p99 the median of the rounds'."""
    weights = [r.per_second for r in rounds]
    return Measured(
        rounds[0].name,
        statistics.mean(weights),
        sum(r.mean_ms * w for r, w in zip(rounds, weights, strict=True)) / sum(weights),
        statistics.median(r.p50_ms for r in rounds),
        statistics.median(r.p99_ms for r in rounds),
        sum(r.errors for r in rounds),
    )


def wrk(
    base: str,
    path: str,
    *,
    name: str,
    seconds: int,
    threads: int,
    connections: int,
    script_dir: Path,
    token: str | None = None,
    random_below: int = 0,
) -> Measured:
    """Drive ``path`` with wrk (a random integer below ``random_below`` appended to it, if given)."""
    script = script_dir / "wrk.lua"
    script.write_text(WRK_SCRIPT % {"path": path, "size": random_below})
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script)] + (["-H", f"Authorization: Bearer {token}"] if token else [])
    run = subprocess.run([*command, base + path], capture_output=True, text=True, timeout=seconds + 60)
    found = [line.split()[1:] for line in run.stdout.splitlines() if line.startswith("WRK_RESULT ")]
    if run.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed on {path}: {run.stderr.strip() or run.stdout.strip()}")
    requests, duration_us, errors, mean, p50, p99 = found[0]
    return Measured(
        name,
        int(requests) / (int(duration_us) / 1e6),
        float(mean) / 1000,
        float(p50) / 1000,
        float(p99) / 1000,
        int(errors),
    )
