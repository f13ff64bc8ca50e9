"""OpenDP mechanisms: every noise draw and every privacy-loss figure comes from OpenDP.

Counts and sums are released with OpenDP's Laplace measurement on integer vectors (the discrete
Laplace); float columns are summed in fixed point (scaled by ``privacy.frames.FIXED_POINT``, rounded
and clamped), so their sums are exact integers and need no widening for floating-point rounding.
Noise scales are found the way OpenDP's own Context finds them: by binary search on the
measurement's privacy map.
"""

from __future__ import annotations

import ctypes
import math
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import numpy as np
import opendp._lib as opendp_lib  # OpenDP's C API (see invoke_on_rows)
import opendp.prelude as dp
from opendp.core import measurement_input_carrier_type

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


def _float_vectors() -> tuple[dp.Domain, dp.Metric]:
    """What a quantile is computed on: vectors of non-NaN floats of unknown length, one row apart."""
    return dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()


@lru_cache(maxsize=1024)
def quantile_scale(candidates: tuple[float, ...], q: float, contributions: int, epsilon: float) -> float:
    """The scale of OpenDP's private quantile so that ``contributions`` rows cost ``epsilon``."""
    domain, metric = _float_vectors()
    try:
        return float(
            dp.binary_search_param(
                lambda scale: dp.m.make_private_quantile(
                    domain,
                    metric,
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


def quantile_score_transformation(candidates: tuple[float, ...], q: float) -> dp.Transformation:
    """OpenDP's ``make_quantile_score_candidates``: the first half of its private quantile."""
    domain, metric = _float_vectors()
    return dp.t.make_quantile_score_candidates(domain, metric, candidates=list(candidates), alpha=q)


@lru_cache(maxsize=1024)
def quantile_alpha(q: float) -> tuple[int, int]:
    """``(alpha_num, alpha_den)``: the fraction OpenDP scores the ``q`` quantile with.

    OpenDP's ``score_candidates_constants`` takes ``q`` exactly when its denominator is below 10,000
    (0.5 is 1/2), else ``round(q * 10,000) / 10,000`` (0.1 is 1,000/10,000), for inputs of unknown
    size. It is read off OpenDP's own transformation, not recomputed: one value between two
    candidates scores ``alpha_num`` on the lower one and ``alpha_den - alpha_num`` on the upper one.
    """
    lower, upper = quantile_score_transformation((0.0, 1.0), q)([0.5])
    return int(lower), int(lower) + int(upper)


def quantile_scores(below: np.ndarray, at_most: np.ndarray, sizes: np.ndarray, q: float) -> np.ndarray:
    """OpenDP's quantile scores (``make_quantile_score_candidates``) of many cells at once, from counts.

    ``below[i, j]`` and ``at_most[i, j]`` are the numbers of cell ``i``'s values ``< c_j`` and
    ``<= c_j`` (candidates increasing), ``sizes[i]`` its number of values. OpenDP's ``score_candidates``
    gives candidate ``c`` the score ``|(alpha_den - alpha_num) * min(#(x < c), L) - alpha_num *
    min(#(x > c), L)|`` with ``L = (2**64 - 1) // alpha_den`` (unknown size), in unsigned 64-bit
    integers: lower is better, and a value equal to ``c`` counts on neither side.
    """
    num, den = quantile_alpha(q)
    limit = np.uint64((2**64 - 1) // den)
    below, at_most = below.astype(np.uint64), at_most.astype(np.uint64)
    less = np.minimum(below, limit)
    more = np.minimum(sizes.astype(np.uint64)[:, None] - at_most, limit)
    left, right = np.uint64(den - num) * less, np.uint64(num) * more  # each < 2**64: no overflow
    return np.where(left >= right, left - right, right - left)


def quantile_selection(candidates: tuple[float, ...], q: float, scale: float) -> dp.Measurement:
    """The second half of OpenDP's private quantile: its noisy max on a score vector (the index of
    the lowest noisy score), exactly as ``make_private_quantile`` builds it, whose noise ``scale`` it
    multiplies by ``alpha_den`` (the scores are integers ``alpha_den`` times too large)."""
    scores = quantile_score_transformation(candidates, q)
    _num, den = quantile_alpha(q)
    return dp.m.make_noisy_max(
        scores.output_domain, scores.output_metric, dp.max_divergence(), scale=scale * den, negate=True
    )


#: Below this many cells per thread, the quantiles are released on one.
QUANTILES_PARALLEL_FROM = 64


def private_quantiles(
    scores: np.ndarray, candidates: tuple[float, ...], q: float, scale: float
) -> np.ndarray:
    """OpenDP's private quantile of each cell, from the cell's quantile scores (:func:`quantile_scores`).

    ``make_private_quantile`` is ``make_quantile_score_candidates`` then ``make_noisy_max`` then the
    candidate at the index chosen; the scores are computed for all cells at once beforehand, so each
    cell costs one noisy max over its score vector, whatever its number of rows. The measurement is
    built once and invoked on each cell's scores (:func:`invoke_on_rows`), on the sampler threads.
    """
    measurement = quantile_selection(candidates, q, scale)
    rows = np.ascontiguousarray(scores, dtype=np.uint64)
    half = len(rows) // 2 if len(rows) >= 2 * QUANTILES_PARALLEL_FROM else len(rows)
    chunks = [
        _SAMPLERS.submit(invoke_on_rows, measurement, part)
        for part in (rows[:half], rows[half:])
        if len(part)
    ]
    chosen = [index for chunk in chunks for index in chunk.result()]
    return np.asarray(candidates, dtype=float)[np.asarray(chosen, dtype=np.int64)]


def _c_function(name: str, argtypes: list[Any]) -> Any:
    """A function of OpenDP's C API, with a handle of our own (OpenDP's Python wrappers set the
    argument types of theirs at every call, so sharing theirs across threads would be unsafe)."""
    function = opendp_lib.lib[name]
    function.argtypes, function.restype = argtypes, opendp_lib.FfiResult
    return function


_VOID = ctypes.c_void_p
_SLICE = ctypes.POINTER(opendp_lib.FfiSlice)
_SLICE_AS_OBJECT = _c_function("opendp_data__slice_as_object", [_SLICE, ctypes.c_char_p])
_INVOKE = _c_function("opendp_core__measurement_invoke", [_VOID, _VOID])
_OBJECT_TYPE = _c_function("opendp_data__object_type", [_VOID])
_OBJECT_AS_SLICE = _c_function("opendp_data__object_as_slice", [_VOID])
_OBJECT_FREE = _c_function("opendp_data__object_free", [_VOID])
_SLICE_FREE = _c_function("opendp_data__slice_free", [_SLICE])
_STR_FREE = _c_function("opendp_data__str_free", [ctypes.c_char_p])


def invoke_on_rows(measurement: dp.Measurement, rows: np.ndarray) -> list[int]:
    """``measurement(row)`` for each row of a C-ordered uint64 matrix, the measurement's input being a
    ``Vec<u64>`` and its output a ``usize``: the very calls OpenDP's Python ``Measurement.__call__``
    makes through its C API (load the row as an ``AnyObject``, ``opendp_core__measurement_invoke``,
    read the released index, free), without its ~70 us of Python conversions a call.

    OpenDP does all the work, draws all the randomness, and its errors are raised as OpenDP raises
    them. Its FFI calls release the GIL, so two threads run two rows at once.
    """
    if rows.dtype != np.uint64 or rows.ndim != 2 or not rows.flags.c_contiguous:
        raise TypeError("rows must be a C-ordered 2-d uint64 array")
    carrier = measurement_input_carrier_type(measurement)
    if str(carrier) != "Vec<u64>":
        raise TypeError(f"the measurement takes {carrier}, not Vec<u64>")
    this = ctypes.cast(measurement, _VOID)
    base, stride, width = rows.ctypes.data, rows.strides[0], rows.shape[1]
    released: list[int] = []
    for i in range(rows.shape[0]):
        data = opendp_lib.FfiSlice(base + i * stride, width)  # OpenDP copies the row into a Vec<u64>
        arg = opendp_lib.unwrap(_SLICE_AS_OBJECT(ctypes.byref(data), b"Vec<u64>"), _VOID)
        try:
            answer = opendp_lib.unwrap(_INVOKE(this, arg), _VOID)
        finally:
            opendp_lib.unwrap(_OBJECT_FREE(arg), _VOID)
        try:
            if not released:  # the output type is the measurement's, the same for every row
                _check_usize(answer)
            raw = opendp_lib.unwrap(_OBJECT_AS_SLICE(answer), _SLICE)
            try:
                released.append(ctypes.cast(raw.contents.ptr, ctypes.POINTER(ctypes.c_size_t)).contents.value)
            finally:
                opendp_lib.unwrap(_SLICE_FREE(raw), _VOID)
        finally:
            opendp_lib.unwrap(_OBJECT_FREE(answer), _VOID)
    return released


def _check_usize(answer: ctypes.c_void_p) -> None:
    name = opendp_lib.unwrap(_OBJECT_TYPE(answer), ctypes.c_char_p)
    try:
        kind = (name.value or b"").decode()
    finally:
        opendp_lib.unwrap(_STR_FREE(name), _VOID)
    if kind != "usize":
        raise TypeError(f"the measurement releases {kind}, not usize")
