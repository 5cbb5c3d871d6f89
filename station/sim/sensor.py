"""What a RealSense D400 stereo camera reports for an exact scene.

The renderer ray-casts the scene and gives, per pixel, the true Z-depth in
metres (``np.inf`` where the ray hits nothing) and the cosine of the angle
between the ray and the surface normal. :func:`sense` turns that into the
uint16 Z-depth image (depth units, 0 = no data) a D435 or D455 would deliver,
with the artefacts the measurement code meets on real recordings:

1. Noise in the disparity domain. A D400 matches the left and right infrared
   images and measures the disparity ``d = fx * B / z`` (pixels); its error is
   a roughly constant fraction of a pixel, so the depth error grows as
   ``z**2 / (fx * B)``. The error is calibrated so that a flat, head-on plane
   at 2 m has an RMS depth error of ``rms_fraction_at_2m * 2 m`` in the
   424x240 mode; finer modes have a longer focal length in pixels and so
   proportionally less error (half at 848x480), as Intel's RMS formula
   ``z**2 * subpixel / (fx * B)`` says. Part of it is spatially correlated, because neighbouring
   pixels share most of their stereo matching window: that part is a smooth
   random field (Gaussian blobs about ``correlation_px`` across at 848x480),
   the rest is independent per pixel. The disparity is then quantised to the
   ASIC's 1/32 pixel, which makes distant surfaces come out in discrete
   depth layers as they do on a real camera.
2. Stereo shadow. Depth is aligned to the left imager and the right imager
   sits ``B`` to its right (+x). Background that the right imager cannot see
   behind a nearer surface has no match, so each foreground object casts a
   band of zeros on its left, ``fx * B * (1/z_fg - 1/z_bg)`` pixels wide.
   Likewise the leftmost ``fx * B / z`` columns fall outside the right
   image: the "invalid depth band" at the left edge of every D400 image.
3. Range limits. Nothing nearer than ``min_range_m`` (beyond the disparity
   search range) or farther than ``max_range_m`` (too little signal), in the
   true depth and in the reported one; nothing where the ray hits nothing.
4. Grazing surfaces. Beyond ``grazing_limit_deg`` of incidence the projected
   pattern and the texture are stretched so thin that matching fails more and
   more often; the probability of no data rises smoothly to 1 at 88 degrees.
5. Dropouts. Low-texture or infrared-absorbing patches (dark fabric, hair)
   lose small blobs of pixels, a few pixels across.
6. Flying pixels. A matching window that straddles a depth edge finds a
   disparity between those of the foreground and the background, so some
   pixels along each edge float in mid-air between the two surfaces.
7. Quantisation to depth units, clipped to the uint16 range.

Everything is vectorised numpy; ``rng`` supplies all randomness, so the same
seed gives the same image.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields

import numpy as np

from station.errors import ConfigError
from station.geometry import Intrinsics

# The D400 ASIC reports disparity with 5 fractional bits.
_SUBPIXEL_STEPS = 32
# Incidence angle at which no surface gives data any more, degrees.
_GRAZING_BLIND_DEG = 88.0
# Image width at which the pixel sizes below and ``correlation_px`` are given;
# 848x480 is the D400's native depth resolution for its 87 degree field.
_REFERENCE_WIDTH_PX = 848
# Image width at which ``rms_fraction_at_2m`` holds: the coarsest (and the
# station's default) mode, where the noise is largest.
_NOISE_REFERENCE_WIDTH_PX = 424
# Radii of the dropout blobs at the reference width, pixels; each blob takes
# one at random.
_DROPOUT_RADII_PX = (1.0, 1.5, 2.0)
# FWHM of a Gaussian as a multiple of its standard deviation.
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True, kw_only=True)
class SensorModel:
    """Noise and artefacts of a D400-series stereo depth camera.

    Attributes
    ----------
    baseline_m : float
        Distance from the left to the right imager, metres (D435 50 mm,
        D455 95 mm). Sets the disparity and so the width of stereo shadows.
    rms_fraction_at_2m : float
        RMS depth error on a flat head-on plane at 2 m in the 424x240 mode,
        as a fraction of 2 m; the error grows as ``z**2`` (stereo) and is
        smaller in finer modes.
    correlated_share : float
        Share (0-1) of the noise variance that is spatially correlated
        (stereo matching windows); the rest is independent per pixel.
    correlation_px : float
        Full width at half maximum of the correlated noise's autocorrelation,
        pixels at 848x480; scaled with the image width.
    min_range_m, max_range_m : float
        Depth range with data, metres; outside it the camera reports 0.
    grazing_limit_deg : float
        Incidence angle, degrees, beyond which data fades out; the probability
        of no data rises smoothly from 0 here to 1 at 88 degrees.
    dropout_fraction : float
        Share (0-1) of valid pixels lost in small random blobs.
    flying_pixel_fraction : float
        Share (0-1) of depth-edge pixels that take a depth between the
        foreground and the background.
    edge_jump_m : float
        A depth difference between 4-neighbours above this, metres, is a
        depth edge.
    depth_unit_m : float
        Metres per unit of the output image.
    """

    baseline_m: float = 0.050
    rms_fraction_at_2m: float = 0.02
    correlated_share: float = 0.6
    correlation_px: float = 6.0
    min_range_m: float = 0.28
    max_range_m: float = 6.0
    grazing_limit_deg: float = 78.0
    dropout_fraction: float = 0.01
    flying_pixel_fraction: float = 0.3
    edge_jump_m: float = 0.10
    depth_unit_m: float = 0.001

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
                    or not math.isfinite(value)):
                raise ConfigError(f"SensorModel.{field.name} must be a finite number, not {value!r}")
        checks = (
            ("baseline_m", self.baseline_m > 0, "must be above 0"),
            ("rms_fraction_at_2m", self.rms_fraction_at_2m >= 0, "must be 0 or more"),
            ("correlated_share", 0 <= self.correlated_share <= 1, "must be within 0..1"),
            ("correlation_px", self.correlation_px > 0, "must be above 0"),
            ("min_range_m", self.min_range_m > 0, "must be above 0"),
            ("max_range_m", self.max_range_m > self.min_range_m, "must be above min_range_m"),
            ("grazing_limit_deg", 0 <= self.grazing_limit_deg < _GRAZING_BLIND_DEG,
             f"must be within 0..{_GRAZING_BLIND_DEG:g} (exclusive)"),
            ("dropout_fraction", 0 <= self.dropout_fraction < 1, "must be within 0..1 (exclusive)"),
            ("flying_pixel_fraction", 0 <= self.flying_pixel_fraction <= 1, "must be within 0..1"),
            ("edge_jump_m", self.edge_jump_m > 0, "must be above 0"),
            ("depth_unit_m", self.depth_unit_m > 0, "must be above 0"),
        )
        for name, ok, requirement in checks:
            if not ok:
                raise ConfigError(f"SensorModel.{name} {requirement}, not {getattr(self, name)!r}")

    @classmethod
    def d435(cls) -> "SensorModel":
        """A D435 or D435i: 50 mm baseline, about 2% RMS error at 2 m."""
        return cls()

    @classmethod
    def d455(cls) -> "SensorModel":
        """A D455: 95 mm baseline.

        The same sub-pixel matching error over a longer baseline gives
        ``50/95`` of the D435's depth error at the same depth (about 1% at
        2 m, in line with Intel's "under 2% at 4 m"); its longer baseline
        also pushes the nearest usable depth out to about 0.52 m.
        """
        return cls(baseline_m=0.095, rms_fraction_at_2m=0.02 * 0.050 / 0.095, min_range_m=0.52)


def sense(z_m, cos_incidence, intrinsics: Intrinsics, model: SensorModel,
          rng: np.random.Generator) -> np.ndarray:
    """uint16 depth image (depth units) a D400 would report for this exact scene.

    Parameters
    ----------
    z_m : array_like, shape (height, width)
        True Z-depth per pixel, metres; ``np.inf`` where the ray hits nothing.
    cos_incidence : array_like, shape (height, width)
        Cosine of the angle between each pixel's ray and the surface normal
        (1 head-on, near 0 grazing; the sign is ignored). Only read where
        ``z_m`` is finite, so it may hold anything (NaN) elsewhere.
    intrinsics : Intrinsics
        Of the depth stream (the left imager).
    model : SensorModel
        The camera's noise and artefacts.
    rng : numpy.random.Generator
        Source of all randomness.

    Returns
    -------
    ndarray, shape (height, width), uint16
        Z-depth in ``model.depth_unit_m`` units, 0 where there is no data.
    """
    # C order, so that flat views of the images below are views, not copies.
    z = np.ascontiguousarray(z_m, dtype=np.float64)
    cos_inc = np.ascontiguousarray(cos_incidence, dtype=np.float64)
    shape = (intrinsics.height, intrinsics.width)
    if z.shape != shape or cos_inc.shape != shape:
        raise ValueError(f"z_m {z.shape} and cos_incidence {cos_inc.shape} must both have "
                         f"the intrinsics' shape {shape}")
    if not np.all(z > 0):
        raise ValueError("z_m must be above 0 everywhere (np.inf where nothing is hit), without NaN")
    hit = np.isfinite(z)
    if np.any(np.isnan(cos_inc) & hit):
        raise ValueError("cos_incidence must not be NaN where z_m is finite")

    scale = intrinsics.width / _REFERENCE_WIDTH_PX
    fb = intrinsics.fx * model.baseline_m  # disparity (px) times depth (m)
    disparity = fb / z  # 0 where nothing is hit; modified in place below

    valid = hit & (z >= model.min_range_m) & (z <= model.max_range_m)
    valid &= ~_stereo_shadow(disparity)
    _drop_grazing(valid, cos_inc, model, rng)

    _mix_flying_pixels(disparity, z, model, rng)
    # Depth error = z**2 / fb * disparity error: the disparity error that
    # gives the calibrated depth error at 2 m in the 424x240 mode, the same at
    # every depth. The matcher's sub-pixel error is about constant in the
    # mode's own pixels (Intel: RMS = z**2 * subpixel / (fx * B)), so finer
    # modes are less noisy in proportion: 848x480 has half the error.
    noise_scale = intrinsics.width / _NOISE_REFERENCE_WIDTH_PX
    sigma_px = (model.rms_fraction_at_2m * 2.0) * (fb / noise_scale) / 2.0**2
    if sigma_px > 0:
        disparity += _disparity_noise(shape, sigma_px, model, scale, rng)

    steps = disparity  # in 1/32 px from here on
    steps *= _SUBPIXEL_STEPS
    np.rint(steps, out=steps)
    # The reported depth must lie in range too: z = steps_per_m / steps.
    steps_per_m = _SUBPIXEL_STEPS * fb
    valid &= (steps >= steps_per_m / model.max_range_m) & (steps <= steps_per_m / model.min_range_m)
    valid &= ~_dropout_blobs(shape, model, scale, rng)

    steps[~valid] = np.inf  # depth 0 after the division below
    depth = np.divide(steps_per_m / model.depth_unit_m, steps, out=steps)
    np.rint(depth, out=depth)
    np.minimum(depth, np.iinfo(np.uint16).max, out=depth)
    return depth.astype(np.uint16)


def _stereo_shadow(disparity: np.ndarray) -> np.ndarray:
    """Pixels the right imager cannot see, as a bool image.

    Pixel ``u`` lands in the right image at column ``x_r = u - d(u)``. It is
    hidden when some pixel ``u' > u`` lands at or left of it (which needs a
    larger disparity, i.e. a nearer surface), so it is compared with the
    running minimum of ``x_r`` taken from the right edge of its row. Pixels
    landing left of the right image (``x_r < 0``) have no match either.
    """
    # float32 is plenty: it resolves a thousandth of a pixel at the D400's
    # widest 1280 columns, and occlusion margins are far larger.
    x_right = np.subtract(np.arange(disparity.shape[1], dtype=np.float32), disparity, dtype=np.float32)
    min_from_right = np.minimum.accumulate(x_right[:, ::-1], axis=1)[:, ::-1]
    hidden = x_right < 0
    hidden[:, :-1] |= min_from_right[:, 1:] <= x_right[:, :-1]
    return hidden


def _drop_grazing(valid: np.ndarray, cos_inc: np.ndarray, model: SensorModel,
                  rng: np.random.Generator) -> None:
    """Clear, in place, the valid pixels that a grazing incidence loses.

    The loss probability is a smoothstep of the incidence angle, 0 at
    ``grazing_limit_deg`` and 1 at 88 degrees, so the surface thins out
    instead of ending at a hard contour.
    """
    flat_valid = valid.reshape(-1)
    cos_flat = cos_inc.reshape(-1)
    limit = math.cos(math.radians(model.grazing_limit_deg))
    # Only the few grazing pixels need an angle and a random number.
    grazing = np.flatnonzero(flat_valid & (cos_flat < limit) & (cos_flat > -limit))
    angle_deg = np.degrees(np.arccos(np.abs(cos_flat[grazing])))
    t = np.clip((angle_deg - model.grazing_limit_deg) / (_GRAZING_BLIND_DEG - model.grazing_limit_deg), 0.0, 1.0)
    loss_probability = t * t * (3.0 - 2.0 * t)
    flat_valid[grazing[rng.random(grazing.size) < loss_probability]] = False


def _mix_flying_pixels(disparity: np.ndarray, z: np.ndarray, model: SensorModel,
                       rng: np.random.Generator) -> None:
    """Put mixed pixels along the depth edges of ``z`` into ``disparity``, in place.

    An edge is a pair of 4-neighbours, both hit, whose depths differ by more
    than ``edge_jump_m``; both pixels of the pair are edge pixels. A
    ``flying_pixel_fraction`` share of them takes a disparity uniformly
    between its own and its neighbour's, as a matching window straddling the
    edge does (the mix happens in disparity, where the matching works).
    Edges against rays that hit nothing are left sharp: there is no second
    surface to mix with.
    """
    width = z.shape[1]
    with np.errstate(invalid="ignore"):  # inf - inf where both rays miss
        jump = np.diff(z, axis=1)
        # Flat index k of the (height, width - 1) differences is pixel k + row.
        left = np.flatnonzero(np.abs(jump, out=jump) > model.edge_jump_m)
        left += left // (width - 1)
        jump = np.diff(z, axis=0)
        upper = np.flatnonzero(np.abs(jump, out=jump) > model.edge_jump_m)
    # Flat indices of the two pixels of each edge pair.
    first = np.concatenate([left, upper])
    second = np.concatenate([left + 1, upper + width])
    z_flat = z.reshape(-1)
    both_hit = np.isfinite(z_flat[first]) & np.isfinite(z_flat[second])
    first, second = first[both_hit], second[both_hit]
    # Each edge pixel once, with one of the neighbours across its edge.
    pixels, where = np.unique(np.concatenate([first, second]), return_index=True)
    partners = np.concatenate([second, first])[where]

    flying = rng.random(pixels.size) < model.flying_pixel_fraction
    pixels, partners = pixels[flying], partners[flying]
    flat = disparity.reshape(-1)
    own = flat[pixels]
    flat[pixels] = own + rng.random(pixels.size) * (flat[partners] - own)


def _disparity_noise(shape: tuple[int, int], sigma_px: float, model: SensorModel, scale: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Disparity error image, float32 pixels, with standard deviation ``sigma_px``.

    The correlated part is iid noise on a coarse grid of nodes, spread to the
    pixels by separable Gaussian weights: along the rows, then down the
    columns. Each pixel's weights have unit norm, so its variance is exactly
    the requested share. The spread is a few shifted multiply-adds (one per
    node within reach), not a matrix product: on small matrices a threaded
    BLAS spends longer waking its threads than computing.
    """
    noise = rng.standard_normal(shape, dtype=np.float32)
    noise *= sigma_px * math.sqrt(1.0 - model.correlated_share)
    if model.correlated_share > 0:
        # Autocorrelation of Gaussian-weighted white noise is a Gaussian
        # sqrt(2) times wider than the weights.
        sigma_weights = model.correlation_px * scale / (_FWHM_PER_SIGMA * math.sqrt(2.0))
        row_nodes, row_weights = _blob_weights(shape[0], sigma_weights)
        col_nodes, col_weights = _blob_weights(shape[1], sigma_weights)
        coarse = rng.standard_normal((row_nodes.max() + 1, col_nodes.max() + 1), dtype=np.float32)
        coarse *= sigma_px * math.sqrt(model.correlated_share)
        along_rows = np.zeros((coarse.shape[0], shape[1]), dtype=np.float32)
        for tap in range(col_nodes.shape[1]):
            along_rows += coarse[:, col_nodes[:, tap]] * col_weights[:, tap]
        for tap in range(row_nodes.shape[1]):
            noise += along_rows[row_nodes[:, tap]] * row_weights[:, tap, np.newaxis]
    return noise


@functools.lru_cache(maxsize=16)
def _blob_weights(n_pixels: int, sigma_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights spreading a line of coarse-grid nodes to pixels.

    Nodes are two weight sigmas apart (close enough for a stationary field)
    but at least a pixel, one of them on pixel 0, and extend three sigmas past
    both ends so the edge pixels are as random as the rest. Every pixel then
    has a node within a sigma, or on it when the blobs are below a pixel (the
    field is white noise then). Weights are cut at three sigmas.

    Returns
    -------
    nodes : ndarray, shape (n_pixels, taps), int
        Index of each node within reach of each pixel (0 is the first node).
    weights : ndarray, shape (n_pixels, taps), float32
        Their Gaussian weights, 0 beyond three sigmas; each row has unit L2
        norm.
    """
    spacing = max(2.0 * sigma_px, 1.0)
    margin = math.ceil(3.0 * sigma_px / spacing)  # nodes before pixel 0
    pixels = np.arange(n_pixels)
    first = np.ceil((pixels - 3.0 * sigma_px) / spacing).astype(np.intp) + margin
    nodes = first[:, np.newaxis] + np.arange(int(6.0 * sigma_px / spacing) + 1)
    offset = (pixels[:, np.newaxis] - (nodes - margin) * spacing) / sigma_px
    weights = np.where(np.abs(offset) <= 3.0, np.exp(-0.5 * offset**2), 0.0)
    weights /= np.sqrt(np.sum(weights**2, axis=1, keepdims=True))
    weights = weights.astype(np.float32)
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


def _dropout_blobs(shape: tuple[int, int], model: SensorModel, scale: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Bool image of the pixels lost in small random blobs.

    Blob centres are a Poisson process over the image (and a margin around
    it, so the border is hit as often as the middle); discs of random radius
    around them then cover a share ``1 - exp(-density * mean_area)`` of every
    region, which is solved for ``dropout_fraction``.
    """
    height, width = shape
    lost = np.zeros(shape, dtype=bool)
    if model.dropout_fraction == 0:
        return lost
    radii = np.array(_DROPOUT_RADII_PX) * scale
    reach = int(radii.max())
    dy, dx = np.mgrid[-reach:reach + 1, -reach:reach + 1].reshape(2, -1)
    distance = np.hypot(dy, dx)
    mean_area = np.mean(np.count_nonzero(distance <= radii[:, np.newaxis], axis=1))
    density = -math.log1p(-model.dropout_fraction) / mean_area  # blobs per pixel
    count = rng.poisson(density * (height + 2 * reach) * (width + 2 * reach))
    centre_rows = rng.integers(-reach, height + reach, count)
    centre_cols = rng.integers(-reach, width + reach, count)
    blob_radii = radii[rng.integers(0, radii.size, count)]
    rows = centre_rows[:, np.newaxis] + dy
    cols = centre_cols[:, np.newaxis] + dx
    inside = ((distance <= blob_radii[:, np.newaxis])
              & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width))
    lost[rows[inside], cols[inside]] = True
    return lost
