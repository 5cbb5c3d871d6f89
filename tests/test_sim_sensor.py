"""Tests of the D400 sensor model on small hand-built scenes."""

import math

import numpy as np
import pytest

from station.geometry import Intrinsics
from station.sim.sensor import SensorModel, sense

RESOLUTIONS = [(424, 240), (848, 480)]
# Artefacts off, so that only the effect under test shapes the image.
QUIET = dict(dropout_fraction=0.0, flying_pixel_fraction=0.0)


def plane(width, height, z_m, cos_incidence=1.0):
    """A head-on plane filling the view: (z, cos, intrinsics)."""
    intrinsics = Intrinsics.from_fov(width, height, 87.0)
    return (np.full((height, width), float(z_m)), np.full((height, width), float(cos_incidence)),
            intrinsics)


def box_scene(width, height, z_box=1.5, z_wall=3.0):
    """A nearer box (rows h/4..3h/4, columns w/3..w/2) in front of a wall."""
    z, cos, intrinsics = plane(width, height, z_wall)
    rows, cols = slice(height // 4, 3 * height // 4), slice(width // 3, width // 2)
    z[rows, cols] = z_box
    return z, cos, intrinsics, rows, cols


def disparity_px(intrinsics, model, z_m):
    return intrinsics.fx * model.baseline_m / z_m


def right_of_left_band(depth, intrinsics, model, z_m):
    """The image without the invalid band at its left edge (and a margin)."""
    return depth[:, math.ceil(disparity_px(intrinsics, model, z_m)) + 2:]


def errors_m(depth, z_m, model):
    valid = depth > 0
    return depth[valid] * model.depth_unit_m - z_m


@pytest.mark.parametrize("width, height, expected_rms_m", [(424, 240, 0.040), (848, 480, 0.020)])
def test_flat_plane_at_2m_has_calibrated_noise(width, height, expected_rms_m):
    z, cos, intrinsics = plane(width, height, 2.0)
    model = SensorModel.d435()
    depth = sense(z, cos, intrinsics, model, np.random.default_rng(1))
    assert depth.dtype == np.uint16
    assert depth.shape == (height, width)
    error = errors_m(depth, 2.0, model)
    assert error.size > 0.9 * depth.size
    rms = np.sqrt(np.mean(error**2))
    assert rms == pytest.approx(expected_rms_m, rel=0.15)
    assert abs(np.mean(error)) < 0.1 * expected_rms_m


def test_noise_grows_with_the_square_of_depth():
    model = SensorModel(**QUIET)
    rms = {}
    for z_m in (1.0, 3.0):
        z, cos, intrinsics = plane(424, 240, z_m)
        depth = sense(z, cos, intrinsics, model, np.random.default_rng(2))
        rms[z_m] = np.sqrt(np.mean(errors_m(depth, z_m, model) ** 2))
    assert rms[3.0] / rms[1.0] == pytest.approx(9.0, rel=0.15)


def lag_correlation(depth, z_m, model, lag, axis=1):
    """Correlation of the depth error of pixels ``lag`` apart along ``axis``."""
    if axis == 0:
        depth = depth.T
    error = depth * model.depth_unit_m - z_m
    a, b = error[:, :-lag], error[:, lag:]
    both = (depth[:, :-lag] > 0) & (depth[:, lag:] > 0)
    return np.corrcoef(a[both], b[both])[0, 1]


@pytest.mark.parametrize("width, height", RESOLUTIONS)
def test_part_of_the_noise_is_correlated_in_blobs(width, height):
    z, cos, intrinsics = plane(width, height, 2.0)
    model = SensorModel(**QUIET)
    blobs = sense(z, cos, intrinsics, model, np.random.default_rng(3))
    # Share 0.6 of the variance has a Gaussian autocorrelation 6 px wide
    # (FWHM) at 848x480, 3 px at 424x240.
    fwhm_px = 6.0 * width / 848
    sigma_px = fwhm_px / (2 * math.sqrt(2 * math.log(2)))
    for axis in (0, 1):
        for lag in (1, 2, 3, 6):
            expected = 0.6 * math.exp(-(lag**2) / (2 * sigma_px**2))
            assert lag_correlation(blobs, 2.0, model, lag, axis) == pytest.approx(expected, abs=0.06)
    white_model = SensorModel(correlated_share=0.0, **QUIET)
    white = sense(z, cos, intrinsics, white_model, np.random.default_rng(3))
    assert abs(lag_correlation(white, 2.0, white_model, 1)) < 0.05


@pytest.mark.parametrize("z_m", [0.2, 6.5, np.inf])
def test_out_of_range_gives_no_data(z_m):
    z, cos, intrinsics = plane(424, 240, z_m)
    assert not sense(z, cos, intrinsics, SensorModel(), np.random.default_rng(4)).any()


def test_reported_depth_stays_within_range():
    # At 5.9 m the noise (about 0.35 m) pushes many pixels past 6 m.
    z, cos, intrinsics = plane(424, 240, 5.9)
    depth = sense(z, cos, intrinsics, SensorModel(), np.random.default_rng(5))
    valid = depth[depth > 0]
    assert 0.3 * depth.size < valid.size < 0.9 * depth.size
    assert valid.max() <= 6000


@pytest.mark.parametrize("width, height", RESOLUTIONS)
def test_a_nearer_box_casts_a_shadow_on_its_left_only(width, height):
    z, cos, intrinsics, rows, cols = box_scene(width, height)
    model = SensorModel.d435()
    depth = sense(z, cos, intrinsics, model, np.random.default_rng(6))
    expected = intrinsics.fx * model.baseline_m * (1 / 1.5 - 1 / 3.0)

    left_of_box = depth[rows, :cols.start]
    last_valid = cols.start - 1 - np.argmax(left_of_box[:, ::-1] > 0, axis=1)
    band = cols.start - 1 - last_valid
    assert abs(np.median(band) - expected) <= 2.0
    assert np.mean(np.abs(band - expected) <= 2.0) > 0.9

    right_of_box = depth[rows, cols.stop:cols.stop + 20]
    assert np.mean(right_of_box == 0) < 0.05


def test_left_edge_has_the_invalid_depth_band():
    z, cos, intrinsics = plane(848, 480, 2.0)
    model = SensorModel.d435()
    depth = sense(z, cos, intrinsics, model, np.random.default_rng(7))
    band = disparity_px(intrinsics, model, 2.0)  # 11.2 px
    assert not depth[:, :math.ceil(band)].any()
    assert np.mean(depth[:, math.ceil(band):math.ceil(band) + 20] > 0) > 0.95


@pytest.mark.parametrize("angle_deg, lost_low, lost_high", [
    (30.0, 0.0, 0.03),   # well before the limit: only the usual dropouts
    (83.0, 0.4, 0.6),    # halfway from the 78 degree limit to 88: half lost
    (89.0, 1.0, 1.0),    # past 88 degrees: nothing
])
def test_grazing_surfaces_fade_out(angle_deg, lost_low, lost_high):
    z, cos, intrinsics = plane(424, 240, 2.0, math.cos(math.radians(angle_deg)))
    model = SensorModel()
    depth = sense(z, cos, intrinsics, model, np.random.default_rng(8))
    lost = np.mean(right_of_left_band(depth, intrinsics, model, 2.0) == 0)
    assert lost_low <= lost <= lost_high


def test_backfacing_cosines_count_as_their_magnitude():
    z, cos, intrinsics = plane(424, 240, 2.0, -math.cos(math.radians(89.0)))
    assert not sense(z, cos, intrinsics, SensorModel(), np.random.default_rng(9)).any()


def test_dropouts_are_small_blobs_covering_the_requested_share():
    z, cos, intrinsics = plane(848, 480, 2.0)
    model = SensorModel(dropout_fraction=0.05, flying_pixel_fraction=0.0)
    depth = right_of_left_band(sense(z, cos, intrinsics, model, np.random.default_rng(10)),
                               intrinsics, model, 2.0)
    lost = depth == 0
    assert np.mean(lost) == pytest.approx(0.05, abs=0.01)
    # Blobs, not single pixels: most lost pixels have a lost right neighbour.
    assert np.mean(lost[:, 1:][lost[:, :-1]]) > 0.5


def test_flying_pixels_take_depths_between_foreground_and_background():
    z, cos, intrinsics, rows, cols = box_scene(848, 480)
    inner_rows = slice(rows.start + 2, rows.stop - 2)

    def right_edge(flying_pixel_fraction):
        """Noise-free depth of the box's last column and the wall's next one."""
        model = SensorModel(rms_fraction_at_2m=0.0, dropout_fraction=0.0,
                            flying_pixel_fraction=flying_pixel_fraction)
        depth = sense(z, cos, intrinsics, model, np.random.default_rng(11))
        return depth[inner_rows, cols.stop - 1:cols.stop + 1].astype(int)

    sharp = right_edge(0.0)
    box, wall = sharp[0]  # 1.5 m and 3 m, up to the 1/32 px disparity steps
    assert abs(box - 1500) <= 5 and abs(wall - 3000) <= 5
    assert np.all(sharp == [box, wall])

    def mixed_share(flying_pixel_fraction):
        edge = right_edge(flying_pixel_fraction)
        assert edge.min() >= box and edge.max() <= wall
        return np.mean((edge > box) & (edge < wall))

    assert mixed_share(0.3) == pytest.approx(0.3, abs=0.08)
    assert mixed_share(1.0) > 0.95


def test_no_noise_gives_the_exact_scene_in_depth_units():
    z, cos, intrinsics = plane(424, 240, 1.234)
    model = SensorModel(rms_fraction_at_2m=0.0, **QUIET)
    depth = right_of_left_band(sense(z, cos, intrinsics, model, np.random.default_rng(12)),
                               intrinsics, model, 1.234)
    # Only the 1/32 px disparity quantisation remains: under a millimetre here.
    assert np.all(np.abs(depth.astype(int) - 1234) <= 1)


def test_depth_is_clipped_to_the_uint16_range():
    z, cos, intrinsics = plane(424, 240, 4.0)
    model = SensorModel(depth_unit_m=0.00005, **QUIET)  # 4 m is 80000 units
    depth = right_of_left_band(sense(z, cos, intrinsics, model, np.random.default_rng(13)),
                               intrinsics, model, 4.0)
    assert np.all(depth == 65535)


def test_same_seed_same_image_other_seed_other_image():
    z, cos, intrinsics, _, _ = box_scene(424, 240)
    model = SensorModel()
    first = sense(z, cos, intrinsics, model, np.random.default_rng(14))
    again = sense(z, cos, intrinsics, model, np.random.default_rng(14))
    other = sense(z, cos, intrinsics, model, np.random.default_rng(15))
    np.testing.assert_array_equal(first, again)
    assert np.mean(first != other) > 0.5


def test_inputs_are_not_mutated():
    z, cos, intrinsics, _, _ = box_scene(424, 240)
    z[:10] = np.inf
    cos[:10] = np.nan  # allowed where nothing is hit
    z_before, cos_before = z.copy(), cos.copy()
    z.flags.writeable = False
    cos.flags.writeable = False
    sense(z, cos, intrinsics, SensorModel(), np.random.default_rng(16))
    np.testing.assert_array_equal(z, z_before)
    np.testing.assert_array_equal(cos, cos_before)


def test_d455_is_quieter_than_d435_at_the_same_depth():
    z, cos, intrinsics = plane(848, 480, 2.5)
    rms = {}
    for name, model in (("d435", SensorModel.d435()), ("d455", SensorModel.d455())):
        depth = sense(z, cos, intrinsics, model, np.random.default_rng(17))
        rms[name] = np.sqrt(np.mean(errors_m(depth, 2.5, model) ** 2))
    assert rms["d455"] < 0.6 * rms["d435"]
    assert SensorModel.d455().baseline_m == 0.095


@pytest.mark.parametrize("field, value", [
    ("baseline_m", 0.0),
    ("rms_fraction_at_2m", -0.01),
    ("correlated_share", 1.5),
    ("correlation_px", 0.0),
    ("min_range_m", -1.0),
    ("max_range_m", 0.2),
    ("grazing_limit_deg", 88.0),
    ("dropout_fraction", 1.0),
    ("flying_pixel_fraction", -0.1),
    ("edge_jump_m", 0.0),
    ("depth_unit_m", 0.0),
    ("baseline_m", float("nan")),
    ("depth_unit_m", "1 mm"),
])
def test_invalid_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SensorModel(**{field: value})


def test_settings_are_keyword_only():
    with pytest.raises(TypeError):
        SensorModel(0.05)


@pytest.mark.parametrize("z_fill, cos_fill, shape", [
    (2.0, 1.0, (240, 423)),       # not the intrinsics' shape
    (np.nan, 1.0, (240, 424)),    # NaN depth
    (0.0, 1.0, (240, 424)),       # zero depth
    (2.0, np.nan, (240, 424)),    # NaN cosine on a surface
])
def test_bad_scenes_are_rejected(z_fill, cos_fill, shape):
    intrinsics = Intrinsics.from_fov(424, 240, 87.0)
    with pytest.raises(ValueError):
        sense(np.full(shape, z_fill), np.full(shape, cos_fill), intrinsics, SensorModel(),
              np.random.default_rng(18))
