"""Statistics of point clouds: per-slice quantiles of clouds cut into height slices, and line slopes; pure numpy."""

from __future__ import annotations

import numpy as np


def slice_quantile(slices: np.ndarray, values: np.ndarray, q: float, n_slices: int):
    """Per-slice ``q`` quantile of ``values`` (NaN for empty slices) and each slice's count, vectorised by sorting."""
    order = np.lexsort((values, slices))
    slices, values = slices[order], values[order]
    counts = np.bincount(slices, minlength=n_slices)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    index = starts + np.floor(q * np.maximum(counts - 1, 0)).astype(np.intp)
    result = np.full(n_slices, np.nan)
    filled = counts > 0
    result[filled] = values[index[filled]]
    return result, counts


def line_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of ``y`` against ``x`` (units of y per unit of x), in closed form.

    The same as ``np.polyfit(x, y, 1)[0]`` without its general solver's
    overhead, which costs more than the sums on a few hundred points.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    x0 = x - x.mean()
    return float(np.dot(x0, y - y.mean()) / np.dot(x0, x0))
