"""Ground truth for the placement study: is the patient's back in a camera's view?

From the renderer's label image and Z-depth (which body part each depth
pixel hits, exactly), the back is the skin of the abdomen and thorax behind
the spine's line: the spine joints sacrum-T12 (lumbar) and T12-T7-C7
(thoracic) moved ``BACK_SHELL_M`` forward, so the skin over the spine and a
hand's width either side of it count, the flanks and the front do not. A
region is in view when depth pixels land on its back along most of its
length: at least ``MIN_PIXELS_PER_BIN`` in ``MIN_COVERED_SHARE`` of its bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.sim.body import PART_LABELS, Body
from station.sim.render import LABEL_PATIENT

BACK_SHELL_M = 0.02  # how far in front of the spine's line skin still counts as the back
BINS_PER_SEGMENT = 4  # lumbar: sacrum-T12; thoracic: T12-T7 and T7-C7
MIN_PIXELS_PER_BIN = 3
MIN_COVERED_SHARE = 0.75
_TRUNK_LABELS = (LABEL_PATIENT + PART_LABELS["abdomen"], LABEL_PATIENT + PART_LABELS["thorax"])
_SPINE = (("sacrum", "t12"), ("t12", "t7"), ("t7", "c7"))


@dataclass(frozen=True)
class BackView:
    """How much of the back one frame shows.

    ``lumbar`` and ``thoracic`` are the shares (0-1) of their bins with back
    pixels; ``*_in_view`` applies the coverage rule.
    """

    lumbar: float
    thoracic: float

    @property
    def lumbar_in_view(self) -> bool:
        return self.lumbar >= MIN_COVERED_SHARE

    @property
    def thoracic_in_view(self) -> bool:
        return self.thoracic >= MIN_COVERED_SHARE

    @property
    def in_view(self) -> bool:
        """Both the lumbar and the thoracic back are in view."""
        return self.lumbar_in_view and self.thoracic_in_view


NOTHING = BackView(0.0, 0.0)


def back_view(body: Body, labels: np.ndarray, points_room: np.ndarray) -> BackView:
    """The back's coverage in one rendered frame.

    Parameters
    ----------
    body : Body
        The patient, posed (room frame).
    labels : ndarray (H, W)
        The renderer's label image.
    points_room : ndarray (H, W, 3)
        Room point each pixel's ray hits (metres); only trunk pixels are read.
    """
    trunk = np.isin(labels, _TRUNK_LABELS)
    if not trunk.any():
        return NOTHING
    points = points_room[trunk]
    joints = body.joints
    lateral = joints["left_hip"] - joints["right_hip"]
    lateral /= np.linalg.norm(lateral)
    counts = []
    for bottom_name, top_name in _SPINE:
        low, high = joints[bottom_name], joints[top_name]
        axis = high - low
        length = np.linalg.norm(axis)
        axis /= length
        anterior = np.cross(lateral, axis)  # body frame: x left, y up -> z anterior
        offset = points - low
        along = offset @ axis / length
        behind = offset @ anterior < BACK_SHELL_M
        near = np.abs(offset @ lateral) < 0.12  # within a hand's width of the spine
        on = behind & near & (along >= 0.0) & (along < 1.0)
        bins = np.minimum((along[on] * BINS_PER_SEGMENT).astype(int), BINS_PER_SEGMENT - 1)
        counts.append(np.bincount(bins, minlength=BINS_PER_SEGMENT))
    covered = [np.mean(c >= MIN_PIXELS_PER_BIN) for c in counts]
    return BackView(lumbar=float(covered[0]), thoracic=float(np.mean(covered[1:])))
