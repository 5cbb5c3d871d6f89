"""The ``wallhinge`` command (the console script and ``python -m wallhinge``).

Each subcommand is a small function over the station's modules. Errors the
station expects (a missing camera, an unreadable recording, a bad option)
end the command with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from station.errors import WallHingeError
from station.faults import (BACK_NOT_CHECKED, BOTTOM_NOT_SEEN_WHY, KNEE_NOT_CHECKED_WHY, NOT_SCORED, back_notes,
                            bottom_view_words)
from station.hidden_spans import hidden_span_words
from station.malloc import limit_malloc_arenas
from station.setup import DRILL_VARIANTS, SetupSettings, back_check


def _resolution(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 424x240, not {text!r}") from None
    return width, height


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _simulate(args) -> int:
    from station.camera_pair import back_recording_path
    from station.sim.body import ARM_STYLES
    from station.sim.placements import PAIRS, PLACEMENTS, pair_placements, placement_mount
    from station.sim.scenarios import SCENARIOS, build_scene
    from station.sim.simulate import simulate, truth_path
    from station.sim.stress import seed_ranges, stress_scene

    if args.list:
        print("scenarios (--scenario):")
        for name, scenario in SCENARIOS.items():
            print(f"  {name:20} {scenario.description}")
        print(f"  {'stress':20} the whole envelope, everything drawn by the seed: seeds {seed_ranges()}")
        print("camera placements (--placement; docs/back-view.md compares them):")
        for name, placement in PLACEMENTS.items():
            print(f"  {name:20} {placement.description}")
        for name, description in PAIRS.items():
            print(f"  {name:20} {description}")
        print("drill variants (--arms; default: the scenario's own, hands on the hips but for 'stick'):")
        print("  " + ", ".join(ARM_STYLES))
        return 0
    if args.output is None:
        raise WallHingeError("say where to write the recording, e.g. wallhinge simulate session.db3")
    pair = None
    try:
        if args.scenario == "stress":
            chosen = [f"--{name}" for name in ("resolution", "fps", "side", "camera", "reps", "placement", "arms")
                      if getattr(args, name) is not None]
            if chosen:
                raise ValueError(f"a stress scene draws everything from its seed; drop {', '.join(chosen)}")
            spec = stress_scene(args.seed)
        else:
            width, height = args.resolution or (424, 240)
            pair = pair_placements(args.placement or "side")
            spec = build_scene(args.scenario, args.seed, width=width, height=height, fps=args.fps or 30,
                               side=args.side, camera_model=args.camera, reps=args.reps,
                               placement=pair[0] if pair else args.placement or "side", arms=args.arms)
            if pair is not None:
                pair = (pair[1], placement_mount(pair[1], spec.mount.side, args.seed))
    except ValueError as error:
        raise WallHingeError(str(error)) from None
    width, height = spec.width, spec.height
    output = Path(args.output)
    started = time.monotonic()

    def progress(done, total):
        if not args.quiet and (done % (spec.fps * 5) == 0 or done == total):
            print(f"\r{done}/{total} frames", end="" if done < total else "\n", file=sys.stderr, flush=True)

    truth = simulate(spec, output, progress=progress, back=pair)
    elapsed = time.monotonic() - started
    second = "" if pair is None else f", {back_recording_path(output)} (the {pair[0]} camera)"
    print(f"wrote {output} ({len(truth['frames'])} frames, {spec.duration_s:.1f} s at {width}x{height} "
          f"{spec.fps} fps, {len(truth['reps'])} reps){second} and {truth_path(output)} in {elapsed:.1f} s")
    return 0


def _inspect(args) -> int:
    from station.camera import FilterSettings, open_recording

    count, first, last = 0, None, None
    no_filters = FilterSettings(min_distance_m=0.0, max_distance_m=0.0)
    with open_recording(args.recording, filters=no_filters) as source:
        info = source.info
        for frame in source:
            count += 1
            first = frame.timestamp_s if first is None else first
            last = frame.timestamp_s
    intr = info.intrinsics
    print(f"recording   {info.path}")
    print(f"device      {info.name} (serial {info.serial})")
    print(f"depth       {intr.width}x{intr.height} at {info.fps} fps, {info.depth_unit_m * 1000:g} mm units")
    print(f"intrinsics  fx {intr.fx:.2f} fy {intr.fy:.2f} ppx {intr.ppx:.2f} ppy {intr.ppy:.2f}")
    span = (last - first) if count else 0.0
    print(f"frames      {count} over {span:.2f} s")
    return 0


def _snapshot(args) -> int:
    from station.camera import FilterSettings, open_recording
    from station.depth_image import save_png

    no_filters = FilterSettings(min_distance_m=0.0, max_distance_m=0.0)
    with open_recording(args.recording, filters=no_filters) as source:
        chosen = None
        for frame in source:
            chosen = frame
            if frame.timestamp_s >= args.at:
                break
    if chosen is None:
        raise WallHingeError(f"{args.recording} has no depth frames")
    try:
        save_png(args.output, chosen.depth, chosen.depth_unit_m, scale=args.scale)
    except (OSError, ValueError) as error:
        raise WallHingeError(f"cannot write {args.output}: {error}") from None
    print(f"wrote {args.output}: frame at {chosen.timestamp_s:.2f} s")
    return 0


def _cameras(args) -> int:
    from station.camera import connected_cameras

    cameras = connected_cameras()
    if not cameras:
        print("no RealSense camera is connected (recordings work without one: see wallhinge simulate)")
    for name, serial in cameras:
        print(f"{serial}  {name}")
    return 0


def _calibrate(args) -> int:
    import numpy as np

    from station.calibration_files import save_calibration
    from station.camera import open_camera, open_recording
    from station.frame_step import calibrate_frames

    if not args.seconds > 0:
        raise WallHingeError(f"--seconds must be above 0, not {args.seconds:g}")
    output = Path(args.output)
    if not output.parent.is_dir():
        raise WallHingeError(f"cannot write {output}: folder {output.parent} does not exist")
    if args.recording is not None:
        source = open_recording(args.recording)
        settle_s = 0.0
    else:
        width, height = args.resolution
        source = open_camera(serial=args.serial, width=width, height=height, fps=args.fps)
        # A live camera's auto exposure needs a moment after it starts.
        settle_s = 1.0
    frames = []
    with source:
        if args.recording is None:
            print(f"calibrating: keep the drill area empty for {settle_s + args.seconds:g} s", file=sys.stderr)
        for frame in source:
            if frame.timestamp_s >= settle_s + args.seconds:
                break
            if frame.timestamp_s >= settle_s:
                frames.append(frame)
        label = source.info.path if args.recording is not None else source.info.serial
    if not frames:
        raise WallHingeError(f"no depth frames in the first {args.seconds:g} s of {label}")
    calibration = calibrate_frames(frames, label)
    save_calibration(calibration, output)
    pose = calibration.camera_pose
    forward = pose.rotation[:, 2]  # the optical axis in the room
    toward_wall = np.degrees(np.arctan2(-forward[2], abs(forward[0])))
    pitch = np.degrees(np.arcsin(np.clip(forward[1], -1.0, 1.0)))
    print(f"wrote {output}: camera {pose.translation[1]:.2f} m above the floor and {pose.translation[2]:.2f} m "
          f"from the wall, turned {toward_wall:.0f} degrees toward it, pitch {pitch:+.0f} degrees; "
          f"floor {calibration.floor_rms_mm:.1f} mm RMS, wall {calibration.wall_rms_mm:.1f} mm RMS, "
          f"{calibration.planes_angle_deg:.1f} degrees apart ({calibration.frames_used} frames)")
    return 0


def _analyze(args) -> int:
    import json

    from station.analyze import analyze_frames
    from station.calibration_files import load_calibration
    from station.camera import open_recording
    from station.camera_pair import open_recording_pair

    calibration = load_calibration(args.calibration) if args.calibration else None
    # The pair side+wall-above: is the back judged with this drill variant, and why (not).
    judge_back, back_sentence = back_check("side+wall-above", args.arms)
    if args.back_camera is None:
        with open_recording(args.recording) as source:
            analysis = analyze_frames(source, source.info.path, calibration=calibration)
    else:
        with open_recording_pair(args.recording, args.back_camera) as pair:
            analysis = analyze_frames(pair.side, pair.side.info.path, calibration=calibration,
                                      back_frames=pair.back, back_label=pair.back_label,
                                      period_s=1.0 / (pair.side.info.fps or 30),
                                      judge_back=judge_back)
    if args.json:
        json.dump(analysis.as_json(with_frames=args.frames), sys.stdout, indent=1 if args.frames else 2)
        print()
        return 0
    _print_rep_table(analysis, None if args.back_camera is None else back_sentence)
    return 0


def _print_rep_table(analysis, back_sentence: str | None = None) -> None:
    present = sum(frame["present"] for frame in analysis.frames)
    if not analysis.reps:
        print("no reps" + ("" if present else ": nobody was at the drill spot"))
        _print_view_notes(analysis.frames)
        _print_hidden(analysis.hidden)
        return
    print(f"{'rep':>3} {'start s':>8} {'bottom s':>8} {'end s':>7} {'gap mm':>7} {'touch':>5} {'trunk':>6} "
          f"{'knee':>5} {'down s':>6} {'hold s':>6} {'up s':>5} {'score':>5}  faults")
    for rep in analysis.reps:
        gap = "-" if rep.min_wall_gap_mm is None else f"{rep.min_wall_gap_mm:.0f}"
        knee = "-" if rep.peak_knee_flexion_deg is None else f"{rep.peak_knee_flexion_deg:.0f}"
        trunk = "-" if rep.peak_trunk_angle_deg is None else f"{rep.peak_trunk_angle_deg:.0f}"
        # No gap read at the bottom: the touch was not checked, not missed.
        touch = "-" if rep.min_wall_gap_mm is None else "yes" if rep.touched else "no"
        # No score: the rep's bottom was not seen (station.scoring), so '-' and the row says so, never 100.
        score = "-" if rep.score is None else str(rep.score)
        print(f"{rep.index:3d} {rep.start_s:8.2f} {rep.bottom_s:8.2f} {rep.end_s:7.2f} {gap:>7} "
              f"{touch:>5} {trunk:>6} {knee:>5} {rep.descent_s:6.2f} "
              f"{rep.hold_s:6.2f} {rep.ascent_s:5.2f} {score:>5}  {', '.join(rep.faults) or '-'}"
              + ("" if rep.peak_spine_flexion_deg is not None else f"; {BACK_NOT_CHECKED}")
              + ("" if rep.peak_knee_flexion_deg is not None or rep.peak_trunk_angle_deg is None
                 else f"; {KNEE_NOT_CHECKED_WHY}")
              + ("" if rep.score is not None else f"; {NOT_SCORED}")
              + ("" if rep.peak_trunk_angle_deg is not None else f"; {BOTTOM_NOT_SEEN_WHY}")
              + ("" if rep.view_note is None else f"; {bottom_view_words(rep.view_note)}"))
    good = sum(not rep.faults for rep in analysis.reps)
    unchecked = sum(rep.peak_spine_flexion_deg is None for rep in analysis.reps)
    scores = [rep.score for rep in analysis.reps if rep.score is not None]
    unscored = len(analysis.reps) - len(scores)
    if not scores:
        mean = f"mean score -: all {unscored} {NOT_SCORED}"
    else:
        mean = f"mean score {sum(scores) / len(scores):.0f}"
        if unscored:
            mean += f" (of the scored reps; {unscored} {NOT_SCORED})"
    print(f"{len(analysis.reps)} reps, {good} without faults seen; {mean}"
          + (f"; the back was not measured on {unchecked} (rounded back not checked)" if unchecked else ""))
    for note in back_notes([rep.as_dict() for rep in analysis.reps]):  # why, with the reps each reason covers
        print(note)
    _print_view_notes(analysis.frames)
    _print_hidden(analysis.hidden)
    if analysis.back is not None:
        read = sum(frame["spine_flexion_deg"] is not None for frame in analysis.frames)
        print(f"the camera above read spine flexion in {read} of {present} frames with the patient at the spot "
              f"(per frame: --json --frames); {back_sentence}")


def _print_view_notes(frames) -> None:
    """Say in how many measured frames the measures read less well, and why (the frames' ``view_note``),
    and in how many the set-up kept a rep from being told (their ``setup_note``)."""
    measured = [frame for frame in frames if frame.get("trunk_angle_deg") is not None]
    notes = Counter(frame["view_note"] for frame in measured if frame.get("view_note"))
    for note, count in notes.most_common():
        print(f"in {count} of the {len(measured)} frames with the trunk measured, {note} (per frame: --json --frames)")
    for note, count in Counter(frame["setup_note"] for frame in frames if frame.get("setup_note")).most_common():
        print(f"set-up: in {count} frames {note} (per frame: --json --frames)")


def _print_hidden(spans) -> None:
    """One line per span in which the patient was there but hidden: reps done then may not have been found."""
    for span in spans:
        print(hidden_span_words(span))


def _store_file(args) -> Path:
    """The station's database file: ``--store``, else the settings' ``station.database``."""
    return Path(args.store) if args.store else _load_run_settings(args).station.database_path


def _backup(args) -> int:
    from station.store import backup

    started = time.monotonic()
    args.store = _store_file(args)
    dest = backup(args.store, args.output)
    print(f"backed up {args.store} to {dest} ({dest.stat().st_size / 1e6:.1f} MB) "
          f"in {time.monotonic() - started:.1f} s")
    return 0


def _restore(args) -> int:
    from station.store import restore

    args.store = _store_file(args)
    kept = restore(args.backup, args.store)
    print(f"restored {args.store} from {args.backup}" + (f"; the replaced store is kept as {kept}" if kept else ""))
    return 0


def _demo(args) -> int:
    from wallhinge.demo import run_demo

    logger, handler = _session_log_on_stderr()
    try:
        return run_demo(data_dir=Path(args.data_dir), port=args.port, real_time=not args.fast, rounds=args.rounds,
                        loop=args.loop, keep_serving=True)
    finally:
        logger.removeHandler(handler)


def _session_log_on_stderr():
    """The session reports what it does (ready, sets, reps, trouble) as log lines on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("wallhinge: %(message)s"))
    logger = logging.getLogger("station.session")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, handler


def _run(args) -> int:
    from station.session import run_session

    settings = _load_run_settings(args)
    if args.duration is not None and not args.duration > 0:
        raise WallHingeError(f"--duration must be above 0 seconds, not {args.duration:g}")
    if args.fast and args.replay is None:
        raise WallHingeError("--fast needs --replay: a live camera runs at its own pace")
    if args.back_camera is not None and args.replay is None:
        raise WallHingeError("--back-camera needs --replay: a live camera above is [setup] back_camera_serial")
    logger, handler = _session_log_on_stderr()
    dashboard = None
    if not args.no_web:
        # The dashboard and kiosk run in this process so they share the session's live feed.
        from wallhinge.in_station import StationDashboard

        try:
            dashboard = StationDashboard(settings).start()
        except (OSError, ValueError) as error:  # waitress says ValueError of a host it cannot resolve
            reason = getattr(error, "strerror", None) or error
            raise WallHingeError(f"cannot serve the dashboard on {settings.station.web_host}:"
                                 f"{settings.station.web_port}: {reason}") from None
        logger.info("dashboard on %s", dashboard.url)
    delivering = _start_delivery(settings.station)
    try:
        summary = run_session(settings, replay=args.replay, back_replay=args.back_camera,
                              max_duration_s=args.duration, real_time=not args.fast,
                              publisher=None if dashboard is None else dashboard.live,
                              speech_enabled=None if dashboard is None else dashboard.speech_enabled)
    finally:
        if delivering is not None:
            delivering.set()
        if dashboard is not None:
            dashboard.stop()
        logger.removeHandler(handler)
    if summary.session_id is None:
        print(f"no session: the station never got ready in {summary.elapsed_s:.0f} s (ended by {summary.ended_by})")
        return 0
    good = sum(1 for rep in summary.reps if rep["good"])
    reps = len(summary.reps)
    if summary.journal is not None:
        where = (f"{reps - summary.reps_not_stored} stored in {settings.station.database_path}, "
                 f"{summary.reps_not_stored} reps not stored, kept in journal {summary.journal} "
                 "(the next start writes them in)")
    else:
        where = f"stored in {settings.station.database_path}"
    if summary.store_failures:
        where += f"; {summary.store_failures} items the store refused or lost (see the log)"
    print(f"session {summary.session_id}: {summary.sets} sets, {reps} reps ({good} good) "
          f"in {summary.elapsed_s:.0f} s, ended by {summary.ended_by}; {where}")
    if summary.back_camera is not None:
        print(f"the camera above ({summary.back_camera}) read the back in {summary.back_frames_read} of "
              f"{summary.frames} frames; the reps' back: {summary.back_words()}")
    return 1 if summary.journal is not None or summary.store_failures else 0


def _deliverer(station):
    """The station's deliverer to the clinic's database, or None for a station on its own."""
    from station.store.outbox import Deliverer

    if not station.clinic_database.strip():
        return None
    return Deliverer(station.database_path, station.clinic_database, station.station_name)


def _deliver(args) -> int:
    import threading

    deliverer = _deliverer(_load_run_settings(args).station)
    if deliverer is None:
        raise WallHingeError("station.clinic_database is empty: this station keeps its sessions on its own")
    if args.once:
        done = deliverer.deliver_once()
        print(f"delivered {done.reps} new reps of {done.sessions} sessions; {done.waiting} reps waiting"
              + (f"; failed: {done.error}" if done.error else ""))
        return 0 if done.ok else 1
    deliverer.run(threading.Event())
    return 0


def _start_delivery(station):
    """In a clinic, deliver to its database on a background thread; the event that stops it, or None."""
    import threading

    deliverer = _deliverer(station)
    if deliverer is None:
        return None
    stop = threading.Event()
    threading.Thread(target=deliverer.run, args=(stop,), name="deliverer", daemon=True).start()
    return stop


def _load_run_settings(args):
    from station.settings import load_settings, parse_override

    overrides: dict = {}
    for text in args.set:
        table, key, value = parse_override(text)
        overrides.setdefault(table, {})[key] = value
    return load_settings(args.config, overrides=overrides)


def _setup_token(args) -> int:
    from station.store import StoreError, open_store
    from web.auth import setup_token

    station = _load_run_settings(args).station
    try:
        with open_store(station.database_path) as store:
            set_up = bool(store.list_clinicians())
    except StoreError as error:
        raise WallHingeError(str(error)) from None
    if set_up:
        print("the dashboard is set up already: log in (an administrator adds accounts)")
        return 0
    try:
        token = setup_token(station.data_path / "instance")
    except OSError as error:
        raise WallHingeError(f"cannot keep the set-up token in {station.data_path / 'instance'}: "
                             f"{error.strerror or error}") from None
    print(f"first-run set-up token: {token}\n  open the dashboard's /auth/setup page and enter it to make the "
          "first account (the administrator's); it works once")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wallhinge",
        description="Wall Hinge Station: depth-camera feedback for the wall-touch hip-hinge drill.",
        epilog="The drill, its faults, the measures and the JSON of 'analyze --json': docs/drill.md "
               "in the station's repository.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_station_commands(commands)
    _add_recording_commands(commands)
    _add_store_commands(commands)
    cameras = commands.add_parser("cameras", help="list the RealSense cameras connected to this machine")
    cameras.set_defaults(run=_cameras)
    return parser


def _add_station_commands(commands) -> None:
    """``demo`` and ``run``: the station itself."""
    demo = commands.add_parser("demo", help="the whole station on a simulated camera, with the dashboard on localhost")
    demo.add_argument("--data-dir", default="data/demo", help="where the demo keeps its recordings and database "
                                                              "(default data/demo)")
    demo.add_argument("--port", type=_positive_int, default=8080, help="the dashboard's port (default 8080)")
    demo.add_argument("--fast", action="store_true", help="replay as fast as possible instead of in real time")
    demo.add_argument("--rounds", type=_positive_int, help="stop after this many sessions (default: each patient once)")
    demo.add_argument("--loop", action="store_true", help="replay the patients again and again until Ctrl-C")
    demo.set_defaults(run=_demo)

    run = commands.add_parser("run", help="run the station: camera, lamps and buzzer, sets and reps into the store")
    run.add_argument("--config", help="the station's TOML configuration (deploy/wallhinge.example.toml lists it)")
    run.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                     help="override one setting, e.g. --set station.muted=true (repeatable)")
    run.add_argument("--replay", help="play this recording in real time instead of the live camera")
    run.add_argument("--fast", action="store_true", help="with --replay, read it as fast as possible")
    run.add_argument("--back-camera", metavar="REC",
                     help="with --replay, the camera above's recording of the pair (default: REPLAY's NAME.above.db3 "
                          "when it exists)")
    run.add_argument("--duration", type=float, help="stop after this many seconds")
    run.add_argument("--no-web", action="store_true", help="do not serve the dashboard and kiosk from this process")
    run.set_defaults(run=_run)


def _add_recording_commands(commands) -> None:
    """``simulate``, ``inspect``, ``snapshot``, ``calibrate`` and ``analyze``: recordings and the room frame."""
    simulate = commands.add_parser("simulate", help="render a simulated drill session as a RealSense recording")
    simulate.add_argument("output", nargs="?", help="recording to write (.db3); ground truth goes beside it")
    simulate.add_argument("--scenario", default="good-set", help="named scenario (see --list)")
    simulate.add_argument("--seed", type=int, default=0, help="random seed: same seed, same recording")
    simulate.add_argument("--resolution", type=_resolution,
                          help="depth resolution: 424x240, 640x480 or 848x480 (default 424x240)")
    simulate.add_argument("--fps", type=int, choices=(15, 30), help="frame rate (default 30)")
    simulate.add_argument("--side", type=int, choices=(-1, 1), help="camera at -x (-1) or +x (+1) of the spot")
    simulate.add_argument("--camera", choices=("D435", "D455"), help="camera model (default: drawn by the seed)")
    simulate.add_argument("--reps", type=int, help="number of reps (the scenario's pattern repeated or cut)")
    simulate.add_argument("--placement", help="camera placement (see --list; default side); a pair such as "
                          "side+wall-above writes both cameras' recordings, NAME.db3 and NAME.above.db3")
    simulate.add_argument("--arms", help="how the patient holds their arms, the drill variant (see --list)")
    simulate.add_argument("--list", action="store_true", help="list the scenarios, placements and variants and exit")
    simulate.add_argument("--quiet", action="store_true", help="no progress output")
    simulate.set_defaults(run=_simulate)

    inspect = commands.add_parser("inspect", help="show what a recording holds: device, stream, frames")
    inspect.add_argument("recording", help="a .db3 or .bag recording")
    inspect.set_defaults(run=_inspect)

    snapshot = commands.add_parser("snapshot", help="save one depth frame of a recording as a PNG picture")
    snapshot.add_argument("recording", help="a .db3 or .bag recording")
    snapshot.add_argument("output", help="PNG file to write")
    snapshot.add_argument("--at", type=float, default=0.0, help="time of the frame, seconds from the start")
    snapshot.add_argument("--scale", type=_positive_int, default=2, help="enlarge the picture this many times (default 2)")
    snapshot.set_defaults(run=_snapshot)

    calibrate = commands.add_parser("calibrate",
                                    help="find the floor and drill wall in the empty scene and save the room frame")
    calibrate.add_argument("--recording", help="calibrate from the opening of this recording, not the live camera")
    calibrate.add_argument("--seconds", type=float, default=2.0, help="how long to capture the empty scene (default 2)")
    calibrate.add_argument("-o", "--output", default="calibration.json",
                           help="file to write (default calibration.json)")
    calibrate.add_argument("--serial", help="which live camera, when several are connected")
    calibrate.add_argument("--resolution", type=_resolution, default=(424, 240),
                           help="live depth resolution, e.g. 424x240 or 848x480 (default 424x240)")
    calibrate.add_argument("--fps", type=int, default=30, choices=(15, 30), help="live frame rate (default 30)")
    calibrate.set_defaults(run=_calibrate)

    analyze = commands.add_parser("analyze", help="find the reps in a recording, their faults and scores")
    analyze.add_argument("recording", help="a .db3 or .bag recording that opens with the empty scene")
    analyze.add_argument("--calibration", help="a calibration file (wallhinge calibrate) instead of the opening")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table (its keys: docs/drill.md)")
    analyze.add_argument("--frames", action="store_true", help="with --json, add the per-frame measures")
    analyze.add_argument("--back-camera", metavar="REC",
                         help="the camera above's recording of the same session (side+wall-above: NAME.above.db3): "
                              "per-frame spine flexion from it, and the reps' back judged by it where the set-up "
                              "is validated for --arms (docs/back-view.md)")
    analyze.add_argument("--arms", choices=DRILL_VARIANTS, default=SetupSettings.drill_variant,
                         help="how the patient held their arms, the drill variant: with --back-camera it decides "
                              f"whether the back is judged (default {SetupSettings.drill_variant})")
    analyze.set_defaults(run=_analyze)


def _add_store_commands(commands) -> None:
    """``setup-token``, ``backup``, ``restore`` and ``deliver``: the station's database, its accounts and the clinic's."""
    token = commands.add_parser("setup-token", help="print the one-time token the dashboard's first-run set-up asks for")
    token.add_argument("--config", help="the station's TOML settings (default: built-in defaults)")
    token.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                       help="change one setting, e.g. --set station.data_dir=/var/lib/wallhinge")
    token.set_defaults(run=_setup_token)

    backup = commands.add_parser("backup", help="copy the station's database to a file; safe while the station runs")
    backup.add_argument("output", help="file to write, e.g. /media/usb/station-2026-03-02.db")
    _add_store_options(backup)
    backup.set_defaults(run=_backup)

    restore = commands.add_parser("restore", help="replace the station's database by a backup (stop the station first)")
    restore.add_argument("backup", help="a file made by wallhinge backup")
    _add_store_options(restore)
    restore.set_defaults(run=_restore)

    deliver = commands.add_parser("deliver", help="send this station's sessions to the clinic's database "
                                  "(station.clinic_database), every few seconds or --once")
    deliver.add_argument("--config", help="the station's TOML settings (default: built-in defaults)")
    deliver.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                         help="change one setting, e.g. --set station.clinic_database=postgresql+psycopg://...")
    deliver.add_argument("--once", action="store_true", help="deliver once and say what was sent")
    deliver.set_defaults(run=_deliver)


def _add_store_options(command) -> None:
    command.add_argument("--store", help="the station's database file (default: station.database of the settings)")
    command.add_argument("--config", help="the station's TOML settings (default: built-in defaults)")
    command.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE", help="change one setting")


def main(argv: list[str] | None = None) -> int:
    limit_malloc_arenas()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except WallHingeError as error:
        print(f"wallhinge: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wallhinge: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Whoever read the output (head, a closed pager) went away: nothing to say to them.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
