"""Statistics of point clouds: quantiles, per-slice quantiles of clouds cut into height slices, and line slopes; pure numpy."""

from __future__ import annotations

import numpy as np


def slice_quantile(slices: np.ndarray, values: np.ndarray, q: float, n_slices: int):
    """Per-slice ``q`` quantile of ``values`` (NaN for empty slices) and each slice's count, vectorised by sorting."""
    order = _by_slice_then_value(slices, values)
    slices, values = slices[order], values[order]
    counts = np.bincount(slices, minlength=n_slices)
    starts = np.cumsum(counts) - counts  # each slice's first position (np.concatenate costs more)
    index = starts + np.floor(q * np.maximum(counts - 1, 0)).astype(np.intp)
    result = np.full(n_slices, np.nan)
    filled = counts > 0
    result[filled] = values[index[filled]]
    return result, counts


def _by_slice_then_value(slices: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The order of ``np.lexsort((values, slices))``, in about half its time for a few thousand points.

    Two stable sorts, by value and then by slice, give the same order as the
    lexsort (ties keep their original order either way); with the slices as
    small unsigned integers numpy sorts them by radix.
    """
    if len(slices) == 0 or slices.min() < 0 or slices.max() > np.iinfo(np.uint16).max:
        return np.lexsort((values, slices))
    by_value = np.argsort(values, kind="stable")
    small = np.uint8 if slices.max() <= np.iinfo(np.uint8).max else np.uint16
    return by_value[np.argsort(slices[by_value].astype(small), kind="stable")]


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
