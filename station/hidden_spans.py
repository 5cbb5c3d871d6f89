"""When the patient was there but hidden: the spans a set's record carries, and their words.

A frame's measures say why they are None while the patient is there
(:attr:`station.measure.Measures.hidden_reason`: someone in front of the
patient or of their hips, or too close to tell apart). One side camera
cannot see through a person, so reps done then may be missed, and a set's
rep count then reads as complete when it is not. :class:`HiddenSpans`
gathers such frames into spans, which the live session stores with the set
and ``wallhinge analyze`` reports, so every screen and export can say that
the patient was out of view, when, and why.

Pure: times in, spans out; no I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

__all__ = ["HIDDEN_BRIDGE_S", "HIDDEN_NOTE_MIN_S", "PATIENT_HIDDEN_BADGE", "PATIENT_HIDDEN_WHY", "HiddenSpan", "HiddenSpans", "hidden_span_words",
           "set_hidden_words", "spans_from_record", "spans_record"]

#: Hidden for less than this is not noted (s): an occlusion up to about a second neither loses nor splits a
#: rep (the rep detector rides through it), so a note would only cry wolf.
HIDDEN_NOTE_MIN_S = 1.0
#: Frames in view for no longer than this between hidden ones do not end a span (s): while someone
#: stands in front of the patient, the odd frame reads the patient between their arm and body, and a
#: rep done then is no more likely to be counted.
HIDDEN_BRIDGE_S = 0.5


@dataclass(frozen=True)
class HiddenSpan:
    """The patient there but hidden from ``start_s`` to ``end_s`` (s from the session's or recording's start).

    ``reason`` is the hidden reason of most of its frames (:attr:`station.measure.Measures.hidden_reason`).
    """

    start_s: float
    end_s: float
    reason: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def as_dict(self) -> dict:
        return {"start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2), "reason": self.reason}


class HiddenSpans:
    """Gathers the frames in which the patient was hidden into spans, frame by frame.

    Feed every measured frame to :meth:`update`, in time order; it returns a
    span when that frame ends one that lasted at least ``min_s``.
    :meth:`close` ends the open span (the set or the recording ended).
    """

    def __init__(self, min_s: float = HIDDEN_NOTE_MIN_S, bridge_s: float = HIDDEN_BRIDGE_S):
        self.min_s, self.bridge_s = min_s, bridge_s
        self._start_s: float | None = None
        self._last_hidden_s = 0.0
        self._reasons: Counter = Counter()

    @property
    def open(self) -> bool:
        """Whether the patient is hidden now (a span has begun and not ended)."""
        return self._start_s is not None

    def update(self, t_s: float, hidden_reason: str | None) -> HiddenSpan | None:
        """Take one frame at ``t_s`` (s): why the patient is hidden in it, or None (in view, or nobody there)."""
        ended = None
        if self._start_s is not None and t_s - self._last_hidden_s > self.bridge_s:
            ended = self.close()
        if hidden_reason:
            if self._start_s is None:
                self._start_s = t_s
            self._last_hidden_s = t_s
            self._reasons[hidden_reason] += 1
        return ended

    def close(self) -> HiddenSpan | None:
        """End the open span at its last hidden frame: the span, or None if none was open or it was too short."""
        if self._start_s is None:
            return None
        span = HiddenSpan(self._start_s, self._last_hidden_s, self._reasons.most_common(1)[0][0])
        self._start_s = None
        self._reasons.clear()
        return span if span.duration_s >= self.min_s else None


def spans_record(spans) -> list[dict]:
    """Spans as the store and the JSON outputs keep them: ``[{start_s, end_s, reason}, ...]``."""
    return [span.as_dict() for span in spans]


def spans_from_record(record) -> list[HiddenSpan]:
    """The spans of a stored record (:func:`spans_record`; None or empty for none)."""
    return [HiddenSpan(float(item["start_s"]), float(item["end_s"]), str(item["reason"])) for item in record or ()]


#: The badge of a session with such a span, in the session lists (its sets say when and why), and what it means.
PATIENT_HIDDEN_BADGE = "Patient hidden"
PATIENT_HIDDEN_WHY = "someone stood in front of the patient for a while: reps done then may not be counted"


def set_hidden_words(set_record) -> list[str]:
    """What a stored set (``hidden_spans``: :func:`spans_record`'s) says of its spans, one sentence each."""
    return [hidden_span_words(span) for span in spans_from_record(set_record.get("hidden_spans"))]


def hidden_span_words(span: HiddenSpan) -> str:
    """What every screen and export says of a span: how long, when, why, and what it means for the count."""
    return (f"Patient hidden for {span.duration_s:.0f} s ({span.start_s:.1f}–{span.end_s:.1f} s in the recording), "
            f"{span.reason}: reps done then may not be counted")
