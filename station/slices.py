"""Per-slice statistics of point clouds cut into height slices: pure numpy."""

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
