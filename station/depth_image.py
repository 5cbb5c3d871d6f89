"""Depth images as pictures a person can read (PNG), for docs and debugging."""

from __future__ import annotations

import numpy as np
from PIL import Image

# A perceptually ordered ramp, near (warm) to far (cool); no data is black.
_RAMP = np.array([[255, 245, 160], [250, 170, 60], [220, 80, 70], [150, 40, 120], [70, 40, 150], [20, 60, 110]], float)


def colourise(depth: np.ndarray, depth_unit_m: float = 0.001, near_m: float = 0.5, far_m: float = 4.5) -> np.ndarray:
    """RGB uint8 image of a depth frame: near warm, far cool, no data black."""
    metres = depth.astype(np.float64) * depth_unit_m
    position = np.clip((metres - near_m) / (far_m - near_m), 0.0, 1.0) * (len(_RAMP) - 1)
    anchors = np.arange(len(_RAMP))
    rgb = np.stack([np.interp(position, anchors, _RAMP[:, c]) for c in range(3)], axis=-1)
    rgb[depth == 0] = 0
    return rgb.astype(np.uint8)


def save_png(path, depth: np.ndarray, depth_unit_m: float = 0.001, scale: int = 1) -> None:
    """Write a colourised depth frame, enlarged ``scale`` times with square pixels."""
    image = Image.fromarray(colourise(depth, depth_unit_m))
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    image.save(path)
