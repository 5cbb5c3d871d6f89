"""Whether two checkouts of the station analyse recordings alike: every frame's measures and every rep.

    python benchmarks/compare_analyses.py OLD_ROOT NEW_ROOT RECORDING...

For a change meant to leave the outputs alone (a speed-up): each recording
goes through ``analyze_frames`` (as ``wallhinge analyze`` runs it) once with
each checkout's code, in a process of its own, and the per-frame measures
(unrounded, every field of :class:`station.measure.Measures`) and the reps
(``Rep.as_dict``) are compared. Prints, per recording, "identical" or each
field that differs: on how many frames and by how much at most. Exits 1 if
anything differs. No timing.
"""

import argparse
import json
import math
import subprocess
import sys

# Run in a child process with the checkout's root first on sys.path: the raw
# Measures of each frame (analyze's own frame records are rounded) and the reps.
_CHILD = r"""
import dataclasses, json, sys
sys.path.insert(0, sys.argv[1])
import station.analyze
from station.camera import open_recording
station.analyze.frame_record = lambda t_s, measures: {"t_s": t_s, **dataclasses.asdict(measures)}
with open_recording(sys.argv[2]) as source:
    analysis = station.analyze.analyze_frames(source, sys.argv[2])
json.dump({"frames": analysis.frames, "reps": [rep.as_dict() for rep in analysis.reps]}, sys.stdout)
"""


def analysis_with(root: str, recording: str) -> dict:
    """The frames' raw measures and the reps of ``recording`` as the code at ``root`` finds them."""
    done = subprocess.run([sys.executable, "-c", _CHILD, root, recording], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def differences(old, new, path: str, out: dict) -> None:
    """Collect, per field path, [values that differ, largest numeric difference] between two JSON trees."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            differences(old.get(key), new.get(key), f"{path}.{key}", out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for a, b in zip(old, new):
            differences(a, b, f"{path}[]", out)
    elif old != new:
        entry = out.setdefault(path, [0, 0.0])
        entry[0] += 1
        numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (old, new))
        entry[1] = max(entry[1], abs(old - new) if numbers else math.inf)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_root")
    parser.add_argument("new_root")
    parser.add_argument("recordings", nargs="+")
    args = parser.parse_args()
    differing = 0
    for recording in args.recordings:
        old, new = analysis_with(args.old_root, recording), analysis_with(args.new_root, recording)
        found: dict = {}
        differences(old, new, "", found)
        summary = (f"{len(old['frames'])} frames, {len(old['reps'])} reps" if len(old["frames"]) == len(new["frames"])
                   else f"{len(old['frames'])} frames against {len(new['frames'])}")
        if not found:
            print(f"{recording}: identical ({summary})")
            continue
        differing += 1
        print(f"{recording}: DIFFERENT ({summary})")
        for path, (count, largest) in found.items():
            print(f"    {path}: {count} values differ, by at most {largest:g}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
