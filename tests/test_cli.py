"""Tests of the ``wallhinge`` command (wallhinge.cli)."""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wallhinge.cli import main
from station.sim.body import ARM_STYLES
from station.sim.placements import PAIRS, PLACEMENTS
from station.sim.scenarios import SCENARIOS

REPO_ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("demo", "simulate", "inspect", "snapshot", "cameras", "calibrate", "analyze", "backup", "restore")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(argv):
    """main(argv) with its output caught: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_one_error_line(err):
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("wallhinge: error:"), lines[0]
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """``wallhinge simulate`` of the empty scenario at 15 fps: (recording, exit code, stdout, stderr)."""
    out = tmp_path_factory.mktemp("cli") / "out.db3"
    code, stdout, stderr = run(["simulate", str(out), "--scenario", "empty", "--fps", "15", "--seed", "2", "--quiet"])
    return out, code, stdout, stderr


def truth_of(recording):
    return json.loads(recording.with_name(recording.stem + ".truth.json").read_text())


# -- help and listings -----------------------------------------------------------

def test_help_lists_every_subcommand_with_its_purpose(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert re.search(rf"^[ \t]+{name}\s+\w.*\w", out, re.MULTILINE), f"no purpose line for {name!r} in:\n{out}"


def test_no_subcommand_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_simulate_list_names_every_scenario_placement_and_variant(capsys):
    assert main(["simulate", "--list"]) == 0
    body = capsys.readouterr().out.splitlines()
    heads = [line for line in body if not line.startswith("  ")]
    assert [head.split()[0] for head in heads] == ["scenarios", "camera", "drill"]
    starts = [body.index(head) for head in heads] + [len(body)]
    scenarios, placements, variants = (body[a + 1:b] for a, b in zip(starts, starts[1:]))
    assert {line.split()[0] for line in scenarios} == set(SCENARIOS) | {"stress"}
    assert {line.split()[0] for line in placements} == set(PLACEMENTS) | set(PAIRS)
    for line in scenarios + placements:
        assert len(line.split()) > 1, f"listed without a description: {line!r}"
    assert set(variants[0].strip().split(", ")) == set(ARM_STYLES)


def test_simulate_refuses_an_unknown_placement_in_one_line(capsys):
    assert main(["simulate", "out.db3", "--placement", "behind"]) == 2
    err = capsys.readouterr().err
    assert "unknown placement 'behind'" in err and "Traceback" not in err


def test_cameras_says_none_is_connected(capsys):
    assert main(["cameras"]) == 0
    captured = capsys.readouterr()
    assert "no RealSense camera is connected" in captured.out
    assert captured.err == ""


# -- simulate, inspect, snapshot -------------------------------------------------

def test_simulate_writes_a_recording_and_its_truth(simulated):
    out, code, stdout, stderr = simulated
    assert code == 0
    assert stderr == ""  # --quiet: no progress
    assert out.is_file() and out.stat().st_size > 0
    truth = truth_of(out)
    frames = len(truth["frames"])
    assert frames > 0
    assert str(out) in stdout
    assert f"{frames} frames" in stdout


def test_inspect_reports_frames_and_resolution(simulated, capsys):
    out, code, _, _ = simulated
    assert code == 0
    assert main(["inspect", str(out)]) == 0
    stdout = capsys.readouterr().out
    count = re.search(r"^frames\s+(\d+)\b", stdout, re.MULTILINE)
    assert count, stdout
    assert int(count.group(1)) == len(truth_of(out)["frames"])
    assert "424x240" in stdout
    assert "15 fps" in stdout


def test_snapshot_writes_a_png_of_the_frame_asked_for(simulated, tmp_path, capsys):
    from PIL import Image

    out, code, _, _ = simulated
    assert code == 0
    png = tmp_path / "frame.png"
    assert main(["snapshot", str(out), str(png), "--at", "1.0"]) == 0
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size == (848, 480)  # 424x240 at the default scale 2
    said = re.search(r"frame at ([\d.]+) s", capsys.readouterr().out)
    assert said and 1.0 <= float(said.group(1)) <= 1.0 + 1 / 15 + 0.005


# -- bad input -------------------------------------------------------------------

def test_inspect_missing_file_is_one_error_line(tmp_path):
    missing = tmp_path / "missing.db3"
    code, _, err = run(["inspect", str(missing)])
    assert code == 2
    assert_one_error_line(err)
    assert str(missing) in err


def test_inspect_garbage_is_one_error_line(tmp_path):
    garbage = tmp_path / "garbage.db3"
    garbage.write_bytes(os.urandom(20_000))
    code, _, err = run(["inspect", str(garbage)])
    assert code == 2
    assert_one_error_line(err)
    assert str(garbage) in err


@pytest.mark.parametrize("options, mentions", [
    (["--scenario", "no-such-scenario"], "no-such-scenario"),
    (["--reps", "0"], "reps"),
    (["--resolution", "100x100"], "100x100"),
    (["--scenario", "stress", "--seed", "5"], "stress seeds"),
    (["--scenario", "stress", "--seed", "100", "--fps", "15"], "--fps"),
])
def test_simulate_bad_option_is_one_error_line(tmp_path, options, mentions):
    out = tmp_path / "bad.db3"
    code, _, err = run(["simulate", str(out), *options])
    assert code == 2
    assert_one_error_line(err)
    assert mentions in err
    assert not out.exists()


@pytest.mark.parametrize("resolution", ["abc", "424", "424x"])
def test_simulate_unparsable_resolution_is_an_argparse_error(tmp_path, capsys, resolution):
    with pytest.raises(SystemExit) as caught:
        main(["simulate", str(tmp_path / "bad.db3"), "--resolution", resolution])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "--resolution" in err
    assert "Traceback" not in err


def test_unwritable_outputs_are_one_error_line(simulated, tmp_path):
    recording = simulated[0]
    for argv in (["snapshot", str(recording), str(tmp_path / "no-folder" / "frame.png")],
                 ["snapshot", str(recording), str(tmp_path / "frame.xyz")],
                 ["simulate", "/proc/no-such/out.db3", "--scenario", "empty", "--quiet"]):
        code, _, err = run(argv)
        assert code == 2, argv
        assert_one_error_line(err)


def test_snapshot_scale_below_one_is_an_argparse_error(simulated, tmp_path, capsys):
    recording = simulated[0]
    with pytest.raises(SystemExit) as caught:
        main(["snapshot", str(recording), str(tmp_path / "f.png"), "--scale", "0"])
    assert caught.value.code == 2
    assert "--scale" in capsys.readouterr().err


def test_simulate_without_output_is_one_error_line():
    code, _, err = run(["simulate"])
    assert code == 2
    assert_one_error_line(err)


# -- as a real process -----------------------------------------------------------

def test_command_as_a_process_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "nonexistent.db3"
    result = subprocess.run([sys.executable, "-m", "wallhinge.cli", "inspect", str(missing)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert str(missing) in result.stderr
    assert result.stdout == ""


def test_the_drill_reference_is_in_the_repository_and_everything_points_there(capsys):
    """A clone has no ../shared/: the help, the README and the code point to docs/drill.md, which exists."""
    root = Path(__file__).resolve().parent.parent
    reference = (root / "docs" / "drill.md").read_text()
    for heading in ("## The five faults", "## The room frame", "## The measures", "## `wallhinge analyze`"):
        assert heading in reference
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "docs/drill.md" in capsys.readouterr().out
    assert "docs/drill.md" in (root / "README.md").read_text()
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    outside = [name for name in tracked if name.endswith((".py", ".md", ".toml", ".json"))
               and "shared/" + "domain.md" in (root / name).read_text(errors="replace")]
    assert outside == []


def test_run_tells_of_reps_kept_in_the_journal_and_exits_non_zero(tmp_path, monkeypatch):
    """The end-of-session line never says "stored" of reps the store could not write."""
    import station.session
    from station.session import SessionSummary

    def failing_session(settings, **kwargs):
        reps = [{"good": True}] * 6
        return SessionSummary(session_id=4, sets=1, reps=reps, ended_by="end of recording",
                              reps_not_stored=5, journal=str(tmp_path / "station.db.unsaved.jsonl"))

    monkeypatch.setattr(station.session, "run_session", failing_session)
    code, out, err = run(["run", "--no-web", "--set", f"station.data_dir={tmp_path}"])
    assert code == 1
    assert (f"6 reps (6 good) in 0 s, ended by end of recording; 1 stored in {tmp_path / 'station.db'}, 5 reps not "
            f"stored, kept in journal {tmp_path / 'station.db.unsaved.jsonl'}") in out


def seen_and_unseen_reps(**seen_changes):
    """Two reps as the detector gives them: one seen throughout (52 degrees, score 100, with ``seen_changes``), and
    one whose bottom was not seen (no closest gap, peak trunk, knee or score; station/reps.py)."""
    from station.reps import Rep
    figures = dict(dict(start_s=1.0, bottom_s=2.5, end_s=4.0, min_wall_gap_mm=5.0, touched=True,
                        peak_trunk_angle_deg=52.0, peak_knee_flexion_deg=10.0, peak_spine_flexion_deg=None,
                        descent_s=1.5, hold_s=0.2, ascent_s=1.3, return_trunk_angle_deg=2.0, faults=(), score=100,
                        lost_points=()), **seen_changes)
    return Rep(index=1, **figures), Rep(index=2, **dict(figures, min_wall_gap_mm=None, touched=False,
                                                        peak_trunk_angle_deg=None, peak_knee_flexion_deg=None,
                                                        score=None))


def test_the_rep_table_says_when_a_reps_bottom_was_not_seen(capsys):
    from types import SimpleNamespace

    from station.faults import BOTTOM_NOT_SEEN_WHY
    from wallhinge.cli import _print_rep_table
    seen, hidden = seen_and_unseen_reps()
    _print_rep_table(SimpleNamespace(frames=[{"present": True}], reps=[seen, hidden], back=None, hidden=[]))
    first, second = capsys.readouterr().out.splitlines()[1:3]
    assert first.split()[6] == "52" and BOTTOM_NOT_SEEN_WHY not in first
    assert second.split()[6] == "-" and second.endswith(BOTTOM_NOT_SEEN_WHY)
