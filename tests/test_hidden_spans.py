"""The spans in which the patient was there but hidden (station/hidden_spans.py), frame by frame."""

import pytest

from station.hidden_spans import (HIDDEN_BRIDGE_S, HIDDEN_NOTE_MIN_S, HiddenSpan, HiddenSpans, hidden_span_words,
                                  spans_from_record, spans_record)

FRONT, HIPS = "someone in front of the patient", "someone in front of the hips"


def spans_of(reasons, fps=30.0):
    """The spans a run of frames (one hidden reason or None each, from 0 s at ``fps``) gives, closed at the end."""
    spans, hiding = [], HiddenSpans()
    for i, reason in enumerate(reasons):
        spans.append(hiding.update(i / fps, reason))
    spans.append(hiding.close())
    return [span for span in spans if span is not None]


def test_a_run_of_hidden_frames_is_one_span_from_its_first_to_its_last_frame():
    assert spans_of([None] * 30 + [FRONT] * 60 + [None] * 30) == [HiddenSpan(1.0, 89 / 30, FRONT)]


def test_frames_in_view_for_less_than_the_bridge_do_not_split_a_span_and_its_reason_is_the_commonest():
    flicker = [HIPS] * 20 + [None] * 10 + [FRONT] * 15 + [None] * 5 + [HIPS] * 20
    assert HIDDEN_BRIDGE_S >= 11 / 30
    assert spans_of(flicker) == [HiddenSpan(0.0, 69 / 30, HIPS)]


def test_in_view_for_longer_than_the_bridge_ends_the_span_when_the_bridge_is_over():
    hiding = HiddenSpans()
    for i in range(45):
        assert hiding.update(i / 30, FRONT) is None
    assert hiding.update(44 / 30 + HIDDEN_BRIDGE_S * 0.9, None) is None
    assert hiding.update(44 / 30 + HIDDEN_BRIDGE_S * 1.1, None) == HiddenSpan(0.0, 44 / 30, FRONT)
    assert not hiding.open and hiding.close() is None


def test_hidden_for_less_than_a_rep_rides_through_is_not_noted():
    assert spans_of([FRONT] * round(HIDDEN_NOTE_MIN_S * 30 - 2)) == []
    assert spans_of([FRONT] * round(HIDDEN_NOTE_MIN_S * 30 + 2)) != []


def test_spans_keep_to_the_record_and_back_and_say_how_long_when_and_why():
    span = HiddenSpan(41.234, 53.0, FRONT)
    assert spans_from_record(spans_record([span])) == [HiddenSpan(41.23, 53.0, FRONT)]
    assert spans_from_record(None) == []
    words = hidden_span_words(span)
    assert words.startswith("Patient hidden for 12 s (41.2–53.0 s in the recording), someone in front of the patient")
    assert "may not be counted" in words


@pytest.mark.parametrize("reason", [None, ""])
def test_a_frame_with_no_reason_hides_nothing(reason):
    assert spans_of([reason] * 90) == []
