"""Shared fixtures: short simulated recordings, made once per test session."""

import json

import pytest

from station.sim.scenarios import build_scene
from station.sim.simulate import simulate, truth_path


@pytest.fixture(scope="session")
def short_recording(tmp_path_factory):
    """A two-rep good set at 424x240, 15 fps, and its ground truth: (path, truth dict)."""
    path = tmp_path_factory.mktemp("recordings") / "good-set.db3"
    simulate(build_scene("good-set", 4, fps=15, reps=2), path)
    return path, json.loads(truth_path(path).read_text())
