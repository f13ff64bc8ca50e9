"""OpenDP mechanisms: every noise draw and every privacy-loss figure comes from OpenDP.

Counts and sums are released with OpenDP's Laplace measurement on integer vectors (the discrete
Laplace); float columns are summed in fixed point (scaled by ``privacy.frames.FIXED_POINT``, rounded
and clamped), so their sums are exact integers and need no widening for floating-point rounding.
Noise scales are found the way OpenDP's own Context finds them: by binary search on the
measurement's privacy map.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import opendp.prelude as dp

from datacommons.errors import InvalidInput

dp.enable_features("contrib")

CALIBRATION_FAILED = (
    "invalid query: epsilon: too small for OpenDP to calibrate the noise of "
    "this query (spend more epsilon, or narrow the bounds)"
)


def _int_domain() -> tuple[dp.Domain, dp.Metric]:
    return dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")


@lru_cache(maxsize=4096)
def laplace_scale(sensitivity: int, epsilon: float) -> float:
    """The smallest noise scale whose integer Laplace measurement spends at most ``epsilon``."""
    domain, metric = _int_domain()
    try:
        return float(
            dp.binary_search_param(
                lambda scale: dp.m.make_laplace(domain, metric, scale=scale),
                d_in=int(sensitivity),
                d_out=float(epsilon),
            )
        )
    except dp.OpenDPException as exc:  # no scale in OpenDP's search range is enough
        raise InvalidInput(CALIBRATION_FAILED) from exc


def laplace_measurement(scale: float) -> dp.Measurement:
    """OpenDP's Laplace measurement on vectors of 64-bit integers."""
    domain, metric = _int_domain()
    return dp.m.make_laplace(domain, metric, scale=scale)


def spent(sensitivity: int, scale: float) -> float:
    """The privacy loss OpenDP's map gives a Laplace release at this scale and sensitivity."""
    return float(laplace_measurement(scale).map(int(sensitivity)))


#: OpenDP's exact discrete-Laplace sampler takes ~14 µs a draw. Its FFI call releases the GIL, so
#: long vectors are drawn in chunks on two threads (independent draws: the same distribution).
_SAMPLERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="opendp-noise")
PARALLEL_FROM = 512


def noisy_integers(values: np.ndarray, scale: float) -> np.ndarray:
    """``values`` plus discrete Laplace noise of ``scale``, drawn by OpenDP."""
    return values.astype(np.int64) + draw_noise([(values.shape, scale)]).wait()[0]


class Noise:
    """Discrete Laplace noise being drawn by OpenDP on the sampler threads (see :func:`draw_noise`)."""

    def __init__(self, shapes: list[tuple[int, ...]], chunks: list[list[Future[list[int]]]]) -> None:
        self.shapes, self.chunks = shapes, chunks

    def wait(self) -> list[np.ndarray]:
        """The noise vectors, in the order and shapes they were asked for."""
        return [
            np.asarray([z for chunk in chunks for z in chunk.result()], dtype=np.int64).reshape(shape)
            for shape, chunks in zip(self.shapes, self.chunks, strict=True)
        ]


def draw_noise(vectors: list[tuple[tuple[int, ...], float]]) -> Noise:
    """Start drawing one discrete Laplace noise vector per ``(shape, scale)``, with OpenDP.

    OpenDP's Laplace measurement on integer vectors releases ``x + Z``, Z drawn independently of
    ``x``; released on a zero vector it gives Z alone, and adding Z to the exact values later is
    the same release. Drawing is data-independent, so it starts before the aggregation and runs
    beside it (OpenDP's exact sampler takes ~14 µs a draw; its FFI call releases the GIL).
    """
    chunks: list[list[Future[list[int]]]] = []
    for shape, scale in vectors:
        size = int(np.prod(shape)) if shape else 1
        measurement = laplace_measurement(scale)
        half = size // 2 if size >= PARALLEL_FROM else size
        chunks.append([_SAMPLERS.submit(measurement, [0] * n) for n in (half, size - half) if n])
    return Noise([tuple(shape) for shape, _scale in vectors], chunks)


@lru_cache(maxsize=4096)
def accuracy(scale: float, alpha: float) -> float:
    """Half-width of the (1 - alpha) interval of discrete Laplace noise of ``scale``."""
    return float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha))


def _pair_tail(t: float, r: float) -> float:
    """P(|L1 + L2| > t) for independent Laplace variables of scales 1 and ``r`` (0 <= r <= 1)."""
    if r < 1e-9:
        return math.exp(-t)
    if r > 1 - 1e-6:
        return math.exp(-t) * (1 + t / 2)
    return (math.exp(-t) - r * r * math.exp(-t / r)) / (1 - r * r)


@lru_cache(maxsize=64)
def _pair_table(alpha: float) -> tuple[float, ...]:
    """The (1 - alpha) half-width of L1 + L2 (scales 1 and r) on a grid of r from 0 to 1."""
    widths = []
    for i in range(PAIR_GRID + 1):
        r, low, high = i / PAIR_GRID, 0.0, 2 * (math.log(1 / alpha) + 10)
        for _ in range(80):  # bisection: the tail falls as t grows
            mid = (low + high) / 2
            low, high = (mid, high) if _pair_tail(mid, r) > alpha else (low, mid)
        widths.append(high)
    return tuple(widths)


PAIR_GRID = 200


def pair_accuracy(b1: float, b2: float, alpha: float) -> float:
    """Half-width of the (1 - alpha) interval of the sum of two independent Laplace noises of
    scales ``b1`` and ``b2`` (the error of a ratio of two noisy values, to first order).

    Exact for continuous Laplace noise (OpenDP's discrete Laplace at these scales is within a
    fraction of a unit of it); the grid is read at the next larger ratio, so it never understates.
    """
    big, small = max(b1, b2), min(b1, b2)
    if big <= 0:
        return 0.0
    table = _pair_table(alpha)
    return big * table[math.ceil(small / big * PAIR_GRID)]


@lru_cache(maxsize=1024)
def quantile_scale(candidates: tuple[float, ...], q: float, contributions: int, epsilon: float) -> float:
    """The scale of OpenDP's private quantile so that ``contributions`` rows cost ``epsilon``."""
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    try:
        return float(
            dp.binary_search_param(
                lambda scale: dp.m.make_private_quantile(
                    domain,
                    dp.symmetric_distance(),
                    dp.max_divergence(),
                    candidates=list(candidates),
                    alpha=q,
                    scale=scale,
                ),
                d_in=int(contributions),
                d_out=float(epsilon),
            )
        )
    except dp.OpenDPException as exc:
        raise InvalidInput(CALIBRATION_FAILED) from exc


def private_quantiles(
    cells: list[np.ndarray], candidates: tuple[float, ...], q: float, scale: float
) -> list[float]:
    """OpenDP's private quantile (exponential mechanism over the candidates) of each cell's values.

    The measurement is built once and invoked per cell (building it costs more than a small cell).
    """
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    measurement = dp.m.make_private_quantile(
        domain,
        dp.symmetric_distance(),
        dp.max_divergence(),
        candidates=list(candidates),
        alpha=q,
        scale=scale,
    )
    return [float(measurement(values.astype(float).tolist())) for values in cells]
