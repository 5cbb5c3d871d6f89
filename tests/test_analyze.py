"""``wallhinge analyze``: a recording to the JSON contract of docs/drill.md."""

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from station.analyze import Analysis, analyze_frames
from station.frame_step import calibrate_from_opening
from station.calibration_files import save_calibration
from station.camera import open_recording
from station.errors import WallHingeError
from station.faults import KNEE_NOT_CHECKED_WHY, NOT_SCORED
from station.hidden_spans import HiddenSpan, hidden_span_words
from station.measure import HEAD_ABOVE_PICTURE
from station.reps import GAP_AT_WALL_STANDING
from station.setup import BACK_HIDDEN_BY_SETUP
from wallhinge.cli import _print_rep_table

from tests.test_cli import assert_one_error_line, run, seen_and_unseen_reps

SCHEMA = json.loads((Path(__file__).parent / "data" / "analyze.schema.json").read_text())


@pytest.fixture(scope="module")
def frames(short_recording):
    path, _ = short_recording
    with open_recording(path) as source:
        return list(source)


@pytest.fixture(scope="module")
def analysis(frames, short_recording):
    return analyze_frames(frames, short_recording[0].name)


def test_finds_each_rep_of_the_recording_with_its_truth(analysis, short_recording):
    _, truth = short_recording
    assert len(analysis.reps) == len(truth["reps"]) == 2
    for rep, expected in zip(analysis.reps, truth["reps"]):
        assert rep.start_s <= expected["bottom_s"] <= rep.end_s
        assert rep.touched == expected["touched"]
        assert list(rep.faults) == expected["faults"]
        assert rep.peak_trunk_angle_deg == pytest.approx(expected["peak_trunk_angle_deg"], abs=8.0)


def test_json_with_frames_follows_the_contract(short_recording, frames):
    code, out, err = run(["analyze", str(short_recording[0]), "--json", "--frames"])
    assert code == 0, err
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert len(document["frames"]) == len(frames)
    assert document["frames"][0]["t_s"] == 0.0 and document["frames"][0]["present"] is False
    assert len(document["reps"]) == 2


def test_json_without_frames_has_no_frames(short_recording):
    code, out, _ = run(["analyze", str(short_recording[0]), "--json"])
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert code == 0 and "frames" not in document


def test_table_lists_the_reps(short_recording):
    code, out, _ = run(["analyze", str(short_recording[0])])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["rep", "start"]
    assert lines[-2].startswith("2 reps")
    # The side mount does not measure the back: the table never vouches for it, and says why.
    assert all(line.endswith("; back not checked") for line in lines[1:-2])
    assert "rounded back not checked" in lines[-2]
    assert lines[-1] == f"Back not checked on every rep: {BACK_HIDDEN_BY_SETUP}"


def test_a_saved_calibration_gives_the_same_reps(short_recording, frames, analysis, tmp_path):
    path = tmp_path / "calibration.json"
    save_calibration(analysis.calibration, path)
    code, out, err = run(["analyze", str(short_recording[0]), "--json", "--calibration", str(path)])
    assert code == 0, err
    assert json.loads(out)["reps"] == [rep.as_dict() for rep in analysis.reps]


def test_nobody_in_view_is_zero_reps_not_an_error(frames, short_recording):
    _, truth = short_recording
    first_seen = next(expected["t_s"] for expected in truth["frames"] if expected["patient_pixels"])
    empty = [frame for frame in frames if frame.timestamp_s < first_seen]
    result = analyze_frames(empty, "empty part")
    assert result.reps == [] and not any(record["present"] for record in result.frames)


def test_no_empty_opening_and_no_calibration_is_a_clear_error(frames, short_recording):
    _, truth = short_recording
    busy = [dataclasses.replace(frame, timestamp_s=frame.timestamp_s - truth["reps"][0]["start_s"])
            for frame in frames if frame.timestamp_s >= truth["reps"][0]["start_s"]]
    with pytest.raises(WallHingeError, match="--calibration FILE"):
        analyze_frames(busy, "busy")


def test_a_calibration_for_another_resolution_is_refused(frames, analysis):
    other = dataclasses.replace(analysis.calibration.intrinsics, width=848, height=480)
    with pytest.raises(WallHingeError, match="calibrat"):
        analyze_frames(frames, "x", calibration=dataclasses.replace(analysis.calibration, intrinsics=other))


def test_too_short_an_opening_is_a_clear_error(frames):
    with pytest.raises(WallHingeError, match="too few to calibrate"):
        calibrate_from_opening(frames[:3], "short")


@pytest.mark.parametrize("content", [None, b"", b"SQLite format 3\x00" + b"\x00" * 400])
def test_unreadable_recordings_are_one_error_line(tmp_path, content):
    path = tmp_path / "bad.db3"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(["analyze", str(path), "--json"])
    assert code == 2 and out == ""
    assert_one_error_line(err)


def test_a_bad_calibration_file_is_one_error_line(short_recording, tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text("{not json")
    code, _, err = run(["analyze", str(short_recording[0]), "--calibration", str(path)])
    assert code == 2
    assert_one_error_line(err)


# -- damaged and cut recordings ----------------------------------------------------------------

def damaged_copy(recording, folder, frame_index=150):
    """A copy whose depth frame ``frame_index`` is cut to 64 bytes (as a bad sector would), read through SQLite."""
    import shutil
    import sqlite3
    copy = Path(folder) / "damaged.db3"
    shutil.copyfile(recording, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE messages SET data = substr(data, 1, 64) WHERE id = (SELECT m.id FROM messages m"
                   " JOIN topics t ON t.id = m.topic_id WHERE t.name LIKE '%/image/data%' ORDER BY m.timestamp"
                   " LIMIT 1 OFFSET ?)", (frame_index,))
    return copy


def test_a_recording_damaged_mid_file_is_an_error_that_says_how_much_was_read(short_recording, tmp_path):
    import re
    code, out, err = run(["analyze", str(damaged_copy(short_recording[0], tmp_path))])
    assert code == 2 and out == ""
    assert_one_error_line(err)
    assert re.search(r"ends early: read \d+\.\d of 20\.\d s \(150 of 311 depth frames\); the file is cut short "
                     r"or damaged", err), err


def test_a_replay_of_a_damaged_recording_is_an_error_not_an_end(short_recording, tmp_path, monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    monkeypatch.setenv("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")
    from gpiozero import Device
    saved = Device.pin_factory
    try:
        code, out, err = run(["run", "--replay", str(damaged_copy(short_recording[0], tmp_path)), "--fast",
                              "--no-web", "--set", f"station.data_dir={tmp_path}", "--set", "station.muted=true"])
    finally:
        if Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved
    assert code == 2 and "ended by end of recording" not in out
    assert err.splitlines()[-1].startswith("wallhinge: error: recording ") and "ends early: read " in err
    assert "Traceback" not in err


def test_fuzzed_recordings_give_a_result_or_one_clear_error_never_a_traceback_or_a_hang(short_recording, tmp_path):
    """Bit flips anywhere and cuts: `wallhinge analyze` answers in time, with a result or one error line."""
    import random
    import subprocess
    import sys
    data = short_recording[0].read_bytes()
    rng = random.Random(17)
    cases = []
    for _ in range(3):
        flipped = bytearray(data)
        at = rng.randrange(len(flipped))
        flipped[at] ^= 1 << rng.randrange(8)
        cases.append((f"bit {at}", bytes(flipped)))
    cases += [(f"cut at {share:.0%}", data[:int(len(data) * share)]) for share in (0.02, 0.5, 0.999)]
    for name, blob in cases:
        path = tmp_path / "fuzzed.db3"
        path.write_bytes(blob)
        done = subprocess.run([sys.executable, "-m", "wallhinge.cli", "analyze", str(path)], capture_output=True,
                              text=True, timeout=90)
        assert "Traceback" not in done.stderr, name
        if done.returncode == 0:
            assert "reps" in done.stdout or "no reps" in done.stdout, name
        else:
            assert done.returncode == 2, (name, done.stderr)
            assert_one_error_line(done.stderr)


def test_table_shows_a_rep_whose_bottom_was_out_of_sight_as_not_measured(capsys):
    # Someone in front of the patient at the bottom: no peak trunk, no closest gap, no knee (station/reps.py).
    _, unseen = seen_and_unseen_reps()
    _print_rep_table(SimpleNamespace(frames=[{"present": True}], reps=[unseen], back=None, hidden=[]))
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[4:8] == ["-", "-", "-", "-"]  # gap, touch (not checked, not missed), trunk, knee
    jsonschema.validate({"reps": [unseen.as_dict()]}, SCHEMA)



def test_the_table_says_when_a_reps_knees_were_not_read_and_why_its_back_was_not_checked(capsys):
    # Seen at its bottom but no knee bend read (the legs out of view): its squat was not judged, and the row says so;
    # a rep whose bottom was not seen says that instead. Each reason the back was not checked is said once.
    seen, unseen = seen_and_unseen_reps()
    legs_hidden = dataclasses.replace(seen, index=3, peak_knee_flexion_deg=None, back_note=BACK_HIDDEN_BY_SETUP)
    _print_rep_table(SimpleNamespace(frames=[{"present": True}], reps=[seen, unseen, legs_hidden], back=None,
                                     hidden=[]))
    lines = capsys.readouterr().out.splitlines()
    assert [KNEE_NOT_CHECKED_WHY in line for line in lines[1:4]] == [False, False, True]
    assert lines[-1] == f"Back not checked on 1 of 3 reps: {BACK_HIDDEN_BY_SETUP}"


def test_the_table_says_in_how_many_frames_the_head_was_above_the_picture(capsys):
    # The trunk then reads less well (station.measure.HEAD_ABOVE_PICTURE): the clinician is told, with or without reps.
    seen, _ = seen_and_unseen_reps()
    frames = ([{"present": True, "trunk_angle_deg": 4.0, "view_note": HEAD_ABOVE_PICTURE}] * 3
              + [{"present": True, "trunk_angle_deg": 4.0, "view_note": None}]
              + [{"present": True, "trunk_angle_deg": None, "view_note": HEAD_ABOVE_PICTURE}])
    for reps in ([seen], []):
        _print_rep_table(SimpleNamespace(frames=frames, reps=reps, back=None, hidden=[]))
        last = capsys.readouterr().out.splitlines()[-1]
        assert last.startswith(f"in 3 of the 4 frames with the trunk measured, {HEAD_ABOVE_PICTURE}")
    _print_rep_table(SimpleNamespace(frames=frames[3:4], reps=[seen], back=None, hidden=[]))
    assert HEAD_ABOVE_PICTURE not in capsys.readouterr().out

def test_the_table_says_in_how_many_frames_the_hips_were_at_the_wall_standing(capsys):
    # stress-401: no rep can be told from standing there (station.reps.GAP_AT_WALL_STANDING), so "no reps"
    # alone would leave the clinician guessing.
    frames = ([{"present": True, "trunk_angle_deg": 4.0, "setup_note": GAP_AT_WALL_STANDING}] * 5
              + [{"present": True, "trunk_angle_deg": 4.0, "setup_note": None}])
    _print_rep_table(SimpleNamespace(frames=frames, reps=[], back=None, hidden=[]))
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"set-up: in 5 frames {GAP_AT_WALL_STANDING}")


def test_a_rep_whose_bottom_was_read_with_the_head_above_the_picture_says_so_in_its_row_and_json(capsys):
    seen, unseen = seen_and_unseen_reps(view_note=HEAD_ABOVE_PICTURE)
    unseen = dataclasses.replace(unseen, view_note=None)  # a bottom not seen at all has no note (station.reps)
    _print_rep_table(SimpleNamespace(frames=[{"present": True}], reps=[seen, unseen], back=None, hidden=[]))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith(f"; at its bottom {HEAD_ABOVE_PICTURE}")
    assert HEAD_ABOVE_PICTURE not in lines[2]
    jsonschema.validate({"reps": [seen.as_dict(), unseen.as_dict()]}, SCHEMA)
    assert seen.as_dict()["view_note"] == HEAD_ABOVE_PICTURE


def test_a_rep_whose_bottom_was_out_of_sight_is_not_scored_in_the_table_and_null_in_the_json(capsys):
    # Its squat, rounded back and speed were not judged (station.scoring): no score, never 100.
    seen, unseen = seen_and_unseen_reps(score=80)
    _print_rep_table(SimpleNamespace(frames=[{"present": True}], reps=[seen, unseen], back=None, hidden=[]))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[11] == "80" and NOT_SCORED not in lines[1]
    assert lines[2].split()[11] == "-" and f"; {NOT_SCORED}" in lines[2]
    assert lines[3].startswith("2 reps, 2 without faults seen; mean score 80 (of the scored reps; 1 not scored)")
    _print_rep_table(SimpleNamespace(frames=[{"present": True}], reps=[unseen], back=None, hidden=[]))
    assert capsys.readouterr().out.splitlines()[2].startswith(f"1 reps, 1 without faults seen; mean score -: all 1 "
                                                              f"{NOT_SCORED}")
    record = json.loads(json.dumps({"reps": [seen.as_dict(), unseen.as_dict()]}))
    assert [rep["score"] for rep in record["reps"]] == [80, None]
    jsonschema.validate(record, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):  # null, or a whole 0-100: nothing else
        jsonschema.validate({"reps": [dict(record["reps"][0], score=101)]}, SCHEMA)


def test_the_table_and_the_json_say_when_the_patient_was_hidden(capsys):
    # One side camera cannot see through a person: reps done then may be missed, so the count is not complete.
    seen, _ = seen_and_unseen_reps()
    span = HiddenSpan(8.27, 20.0, "someone in front of the patient")
    for reps in ([seen], []):
        _print_rep_table(SimpleNamespace(frames=[{"present": True}], reps=reps, back=None, hidden=[span]))
        assert capsys.readouterr().out.splitlines()[-1] == hidden_span_words(span)
    analysis = Analysis(reps=[seen], frames=[], calibration=None, hidden=[span])
    document = analysis.as_json()
    jsonschema.validate(document, SCHEMA)
    assert document["hidden"] == [{"start_s": 8.27, "end_s": 20.0, "reason": "someone in front of the patient"}]
