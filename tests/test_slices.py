"""Point-cloud statistics (station.slices) against plain per-slice numpy."""

import numpy as np
import pytest

from station.slices import _by_slice_then_value, line_slope, mean, median, quantile, slice_quantile


def clouds():
    """Slices and values as the measures give them, and with ties, NaN, signed zeros and many slices."""
    rng = np.random.default_rng(3)
    yield rng.integers(0, 46, 2000), rng.normal(0.3, 0.1, 2000).astype(np.float32)
    yield rng.integers(0, 30, 4000), rng.normal(0.0, 0.05, 4000)
    yield rng.integers(0, 5, 300), rng.choice(np.array([-0.0, 0.0, 1.0, -1.0, np.nan, np.inf]), 300)
    yield rng.integers(0, 300, 1000), np.round(rng.uniform(0, 1, 1000), 1)  # more slices than a uint8 holds
    yield np.zeros(0, np.intp), np.zeros(0)


@pytest.mark.parametrize("slices, values", list(clouds()))
def test_points_are_ordered_by_slice_then_value_as_lexsort_orders_them(slices, values):
    assert np.array_equal(_by_slice_then_value(slices.astype(np.intp), values), np.lexsort((values, slices)))


@pytest.mark.parametrize("q", [0.0, 0.03, 0.5, 1.0])
@pytest.mark.parametrize("slices, values", list(clouds())[:2])
def test_each_slices_quantile_is_its_sample_at_the_quantiles_place(slices, values, q):
    n_slices = int(slices.max()) + 3  # the last two slices are empty
    result, counts = slice_quantile(slices.astype(np.intp), values, q, n_slices)
    for index in range(n_slices):
        mine = np.sort(values[slices == index])
        assert counts[index] == len(mine)
        if len(mine):
            assert result[index] == mine[int(np.floor(q * (len(mine) - 1)))]
        else:
            assert np.isnan(result[index])


def test_line_slope_is_the_least_squares_slope():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert line_slope(x, 2.0 * x + 1.0) == pytest.approx(2.0)


@pytest.mark.parametrize("q", [0.0, 0.03, 0.5, 0.995, 1.0])
@pytest.mark.parametrize("size", [1, 2, 21, 1000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantile_is_numpys_to_the_last_bit(q, size, dtype):
    values = np.random.default_rng(size).normal(1.0, 0.5, size).astype(dtype)
    expected = float(np.median(values)) if q == 0.5 else float(np.quantile(values, q))
    assert quantile(values, q) == expected


@pytest.mark.parametrize("size", [1, 2, 7, 8, 9, 127, 128, 129, 1000, 4400])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("column", [False, True])
def test_mean_is_numpys_to_the_last_bit(size, dtype, column):
    """slices.mean, the measures' mean without np.mean's wrapper, is its value and type exactly (a points column too)."""
    points = np.random.default_rng(size).normal(1.3, 0.7, (size, 3)).astype(dtype)
    values = points[:, 1] if column else np.ascontiguousarray(points[:, 1])
    expected = values.mean()
    result = mean(values)
    assert type(result) is type(expected)
    assert result.tobytes() == expected.tobytes()


@pytest.mark.parametrize("size", [1, 2, 3, 20, 21, 500, 501])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_is_numpys_to_the_last_bit(size, dtype):
    """slices.median, the hips' depth in the back's curvature, is np.median's value and type exactly."""
    rng = np.random.default_rng(size)
    for values in (rng.normal(0.3, 0.1, size).astype(dtype), np.round(rng.normal(0.3, 0.1, size), 2).astype(dtype)):
        expected = np.median(values)
        result = median(values)
        assert type(result) is type(expected)
        assert result.tobytes() == expected.tobytes()


@pytest.mark.parametrize("size", [1, 2, 5, 12, 13])
def test_quantile_of_the_values_that_are_not_nan_is_nanpercentiles(size):
    """The back's upper quartile: quantile over the slices that show is np.nanpercentile's, to the last bit."""
    rear = np.random.default_rng(size).normal(0.1, 0.05, size + 8)
    rear[[0, 3, 5, 7]] = np.nan
    assert quantile(rear[~np.isnan(rear)], 0.75) == np.nanpercentile(rear, 75)


def test_slice_quantiles_are_float64_whatever_the_values_type():
    """The measures smooth and compare the quantiles in float64 (float32 points' quantiles as before, not float32)."""
    result, counts = slice_quantile(np.array([0, 0, 2], np.intp), np.array([0.25, 0.5, 1.0], np.float32), 0.5, 4)
    assert result.dtype == np.float64
    assert result[0] == 0.25 and np.isnan(result[1]) and result[2] == 1.0 and np.isnan(result[3])
    assert counts.tolist() == [2, 0, 1, 0]
