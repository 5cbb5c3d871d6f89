"""Following the patient from frame to frame: where they stand on the floor plan.

During the drill the feet stay planted, so where the patient stands (the
middle of their lower legs on the floor plan: x along the wall, z out from
it) is the steadiest thing a depth camera sees of them. The patient is
chosen once, as the person who comes to the drill spot; afterwards only what
lies in their own slab of the room (:data:`SLAB_HALF_WIDTH_M` either side
of their feet along the wall) can be them, so a clinician beside them, even
touching or leaning in, is not taken for them, and the patient stays
chosen while part of them is hidden. (Their body can still fall inside the
slab above the hips as they step in: docs/accuracy.md.) The track follows
them as they walk in or out, and is dropped when nothing of them has been
seen for :data:`MEMORY_S`, or when they walk off the drill spot.

The patient is at the drill while their feet stay put: from
:data:`SETTLE_S` after they stop moving (walking in, turning round and
stepping back into place) until their feet move off again.

Pure state on numbers: no I/O, no arrays kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

# A person doing the drill keeps every part that matters within this of
# their feet along the wall (metres): the pelvis is 0.3-0.45 m across, and
# elbows of hands set on the hips reach about 0.3 m out. A second person
# half a metre away stands beyond it.
SLAB_HALF_WIDTH_M = 0.32
# How far beyond the drill wall a patient's body reaches at the deepest
# hinge (metres): a 2 m person's head, leaning 80 degrees from hips at the
# wall. Anyone further out is someone else.
PATIENT_REACH_Z_M = 1.25
# Forget the patient after this long with nothing of them seen (seconds):
# longer than an occlusion the rep detector rides through.
MEMORY_S = 2.0
# The feet move at walking speed at most (metres per second), and a reading
# may be off by the legs' own width.
FEET_SPEED_M_S = 1.5
FEET_SLACK_M = 0.12
# Feet "stay put" within this of where they stopped (m): the ankles and
# feet (``planted`` in PatientTracker.seen) move a few centimetres at most as
# the knees bend.
STILL_RADIUS_M = 0.1
# Where they stopped follows where they are with this time constant (s), so
# the last slow centimetres of stepping into place, or a shuffle, never add
# up to a step; a walk (1 m/s: 0.3 m behind) leaves it at once.
STILL_FOLLOW_S = 1.0
# Standing put this long (s) after moving makes someone the one at the drill.
SETTLE_S = 0.4
# A step is this many readings in a row beyond STILL_RADIUS_M of the spot: a
# step lasts a third of a second or more (5-10 frames), while one reading
# alone is what the ankles' median does when part of them flickers out of
# view (a hanging kettlebell at the bottom of a hinge, someone's legs in
# front): it flipped 0.1 m for a frame and made a settled patient absent
# for the next SETTLE_S (stress-213; with FEET_WINDOW_M in station.measure,
# stress tune presence 99.1 -> 99.2%, the clinician in front of stress-103
# 93 -> 98%).
STEP_READINGS = 2


@dataclass(frozen=True)
class Track:
    """Where the patient stands: feet ``x_m`` along the wall, ``z_m`` out from it (metres), seen at ``t_s``.

    Their feet have stayed within :data:`STILL_RADIUS_M` of
    (``still_x_m``, ``still_z_m``) since ``still_since_s``; that spot is
    their ankles' (``still_by_ankles``) or, where those did not show, their
    shanks' middle. ``still_shanks_x_m``, ``still_shanks_z_m`` is where their
    shanks' middle was when they stopped there. ``readings_off_spot`` counts
    the latest readings in a row beyond that radius, short of a step
    (:data:`STEP_READINGS`).
    """

    x_m: float
    z_m: float
    t_s: float
    still_x_m: float
    still_z_m: float
    still_since_s: float
    still_shanks_x_m: float
    still_shanks_z_m: float
    still_by_ankles: bool = False
    # Readings in a row beyond STILL_RADIUS_M of the still spot (fewer than STEP_READINGS: not yet a step).
    readings_off_spot: int = 0

    @classmethod
    def stopped(cls, x_m: float, z_m: float, t_s: float, still_x_m: float, still_z_m: float, since_s: float,
                by_ankles: bool = False) -> Track:
        """Feet whose shanks' middle is at (``x_m``, ``z_m``) at ``t_s``, stood put at the still spot since ``since_s``."""
        return cls(x_m, z_m, t_s, still_x_m, still_z_m, since_s, x_m, z_m, by_ankles)


class PatientTracker:
    """Keeps the patient chosen from frame to frame.

    ``track`` is None until a patient is chosen. ``seen(t_s, x, z)`` moves
    it to where their feet were measured, if that is a step they could have
    taken; ``expire(t_s)`` drops it once they have been out of sight for
    :data:`MEMORY_S`.
    """

    def __init__(self, *, memory_s: float = MEMORY_S):
        if not memory_s > 0:
            raise ValueError("memory_s must be a positive number of seconds")
        self.memory_s = memory_s
        self.track: Track | None = None
        # Whether the followed person has hinged: until then someone else at
        # the spot who hinges is the patient (see switch).
        self.hinged = False

    def reset(self) -> None:
        self.track = None
        self.hinged = False

    def expire(self, t_s: float) -> None:
        """Forget the patient when nothing of them was seen for ``memory_s``, or the clock went back."""
        if self.track is not None and not (0.0 <= t_s - self.track.t_s <= self.memory_s):
            self.reset()

    def switch(self, t_s: float, x_m: float, z_m: float) -> None:
        """Follow someone else, already standing put at (x, z) and hinging: they are the patient."""
        t_s = float(t_s)
        # They have stood put for a while (how long is not known): at the drill now.
        self.track = Track.stopped(float(x_m), float(z_m), t_s, float(x_m), float(z_m), t_s - 2 * SETTLE_S)
        self.hinged = True

    def plausible(self, t_s: float, x_m: float, z_m: float) -> bool:
        """Whether feet at (x, z) can be the tracked patient's, given how far they could have walked."""
        if self.track is None:
            return True
        reach = FEET_SLACK_M + FEET_SPEED_M_S * max(0.0, t_s - self.track.t_s)
        return abs(x_m - self.track.x_m) <= reach and abs(z_m - self.track.z_m) <= reach

    def seen(self, t_s: float, x_m: float, z_m: float, planted: tuple[float, float] | None = None) -> None:
        """The patient's feet were measured at (x, z): follow them there.

        ``planted`` (x, z; m) is where the ankles and feet are, when they
        show: whether the patient stands put is judged there, as the middle
        of the shanks moves a few centimetres when the knees bend.
        """
        x_m, z_m, t_s = float(x_m), float(z_m), float(t_s)
        by_ankles = planted is not None
        still_x, still_z = (float(planted[0]), float(planted[1])) if by_ankles else (x_m, z_m)
        track = self.track
        if track is None:
            self.track = Track.stopped(x_m, z_m, t_s, still_x, still_z, t_s, by_ankles)
            return
        moved = np.hypot(still_x - track.still_x_m, still_z - track.still_z_m)
        if by_ankles != track.still_by_ankles:
            # The ankles came into view or left it (the frame's edge, someone
            # in front): the two readings of the spot differ by what is
            # measured (the shanks' middle stands up to the knees' bend further
            # forward; someone's feet beside the patient's pull the ankles'
            # middle toward them), so a step is told by the shanks' middle
            # against where it was when they stopped there (within the knees'
            # bend), and the spot is kept, now as measured.
            shanks_moved = np.hypot(x_m - track.still_shanks_x_m, z_m - track.still_shanks_z_m)
            if shanks_moved <= 2 * STILL_RADIUS_M:
                self.track = replace(track, x_m=x_m, z_m=z_m, t_s=t_s, still_x_m=still_x, still_z_m=still_z,
                                     still_by_ankles=by_ankles, readings_off_spot=0)
            else:
                self.track = Track.stopped(x_m, z_m, t_s, still_x, still_z, t_s, by_ankles)
        elif moved <= STILL_RADIUS_M:
            follow = min(1.0, max(0.0, t_s - track.t_s) / STILL_FOLLOW_S)
            self.track = replace(track, x_m=x_m, z_m=z_m, t_s=t_s,
                                 still_x_m=track.still_x_m + follow * (still_x - track.still_x_m),
                                 still_z_m=track.still_z_m + follow * (still_z - track.still_z_m),
                                 readings_off_spot=0)
        elif track.readings_off_spot + 1 < STEP_READINGS:
            # Off the spot once: a stray reading until the next one says otherwise.
            self.track = replace(track, x_m=x_m, z_m=z_m, t_s=t_s, readings_off_spot=track.readings_off_spot + 1)
        else:
            self.track = Track.stopped(x_m, z_m, t_s, still_x, still_z, t_s, by_ankles)

    def glimpsed(self, t_s: float) -> None:
        """Part of the patient was seen, but not their feet: they are still here, where they were."""
        if self.track is not None:
            self.track = replace(self.track, t_s=float(t_s))

    def settled(self, t_s: float, for_s: float = SETTLE_S) -> bool:
        """Whether the patient is at the drill: their feet have stayed put for ``for_s`` seconds (:data:`SETTLE_S`) by ``t_s``."""
        return self.track is not None and t_s - self.track.still_since_s >= for_s
