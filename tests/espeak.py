"""A fake espeak-ng on PATH that notes what it is asked to say, for the tests of the station's voice."""

import os
import stat

import pytest

FAKE = """#!/bin/sh
# A stand-in for espeak-ng: note the phrase's start and end, take a while to "speak".
echo "start $*" >> "{log}"
sleep {seconds}
echo "end $*" >> "{log}"
"""


@pytest.fixture
def fake_espeak(tmp_path, monkeypatch):
    """Put a fake espeak-ng first on PATH; return a function reading its log as (event, phrase) pairs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "espeak.log"

    def install(seconds=0.3, body=FAKE):
        program = folder / "espeak-ng"
        program.write_text(body.format(log=log, seconds=seconds))
        program.chmod(program.stat().st_mode | stat.S_IXUSR)

    install()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")

    def lines():
        if not log.exists():
            return []
        return [tuple(line.split(" ", 1)) for line in log.read_text().splitlines()]

    lines.install = install
    return lines


def phrases(lines):
    """The phrases spoken (the last argument after espeak-ng's options)."""
    return [text.split(" ", 6)[6] for event, text in lines if event == "start"]
