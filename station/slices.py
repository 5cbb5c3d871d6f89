"""Statistics of point clouds: quantiles, per-slice quantiles of clouds cut into height slices, and line slopes; pure numpy."""

from __future__ import annotations

import numpy as np


# Slice numbers up to these fit a uint8 or a uint16, which numpy sorts by radix.
_UINT8_TOP = np.iinfo(np.uint8).max
_UINT16_TOP = np.iinfo(np.uint16).max
# Not a number, as float64: the per-slice quantiles are float64 whatever the values' type.
_NO_VALUE = np.float64(np.nan)


def slice_quantile(slices: np.ndarray, values: np.ndarray, q: float, n_slices: int):
    """Per-slice ``q`` quantile of ``values`` (float64, NaN for empty slices) and each slice's count, vectorised by sorting.

    ``slices`` are each value's slice number, 0 to ``n_slices`` - 1. Each
    slice's sample at its quantile's place (rounded down) is picked by one
    gather through the sort order: the values are never reordered whole.
    """
    counts = np.bincount(slices, minlength=n_slices)  # (a negative slice number raises here)
    if len(values) == 0:
        return np.full(len(counts), np.nan), counts
    order = _by_slice_then_value(slices, values, len(counts) - 1)
    # Each slice's first position in the order, plus its quantile's place
    # (astype truncates, the floor of these non-negative places); an empty
    # slice's index, past the end for the last ones, is clipped and unused.
    index = np.cumsum(counts) - counts + (q * np.maximum(counts - 1, 0)).astype(np.intp)
    picked = values.take(order.take(index, mode="clip"))
    return np.where(counts > 0, picked, _NO_VALUE), counts


def _by_slice_then_value(slices: np.ndarray, values: np.ndarray, highest: int | None = None) -> np.ndarray:
    """The order of ``np.lexsort((values, slices))``, in about half its time for a few thousand points.

    Two stable sorts, by value and then by slice, give the same order as the
    lexsort (ties keep their original order either way); with the slices as
    small unsigned integers numpy sorts them by radix. ``highest`` is the
    highest slice number when the caller knows it (and that none is negative).
    """
    if len(slices) == 0:
        return np.lexsort((values, slices))
    if highest is None:
        highest = int(slices.max()) if slices.min() >= 0 else -1
    if not 0 <= highest <= _UINT16_TOP:
        return np.lexsort((values, slices))
    by_value = np.argsort(values, kind="stable")
    small = np.uint8 if highest <= _UINT8_TOP else np.uint16
    return by_value.take(np.argsort(slices.take(by_value).astype(small), kind="stable"))


def quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0-1) of a non-empty 1-D array, as ``np.quantile`` gives it (linear interpolation).

    By a partial sort (np.partition) of the one or two values around the
    quantile: np.quantile's and np.median's generality costs 20-50 us a
    call, several times the work on the few thousand points of a frame.
    """
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    part = np.partition(values, (low, high) if high != low else low)
    below, above = part[low], part[high]
    fraction = position - low
    # numpy's own interpolation, so the result is the same to the last bit.
    return float(below + (above - below) * fraction if fraction < 0.5 else above - (above - below) * (1.0 - fraction))


def median(values: np.ndarray):
    """The median of a non-empty 1-D float array of finite values (a numpy scalar of its dtype), to the last bit as ``np.median`` gives it.

    The same as numpy's own: the mean (:func:`mean`) of the one or two
    middle values of a partial sort, without ``np.median``'s wrapper (its
    axis handling, a search for NaN at the end of the partition), which
    costs several times the partition on the few hundred points at the hips.
    """
    middle = len(values) // 2
    if len(values) % 2:
        return mean(np.partition(values, middle)[middle:middle + 1])
    return mean(np.partition(values, (middle - 1, middle))[middle - 1:middle + 1])


def mean(values: np.ndarray):
    """The mean of a non-empty 1-D float array (a numpy scalar of its dtype), to the last bit as ``values.mean()`` gives it.

    The same sum (``np.add.reduce``, pairwise) and the same division by the
    count as numpy's own ``_mean``, without its Python wrapper (counting the
    items, checking for an empty slice), which costs several times the sum
    on the few hundred to few thousand points of a frame: the measuring
    takes some 15 means a frame.
    """
    total = np.add.reduce(values)
    return total.dtype.type(total / np.intp(len(values)))


def line_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of ``y`` against ``x`` (units of y per unit of x), in closed form.

    The same as ``np.polyfit(x, y, 1)[0]`` without its general solver's
    overhead, which costs more than the sums on a few hundred points.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    x0 = x - mean(x)
    return float(np.dot(x0, y - mean(y)) / np.dot(x0, x0))
