#!/usr/bin/env python3
"""Checks for the two field failures that look like a broken camera: a USB 2 link and too little USB power.

    wallhinge-check            # both; exit status 1 when something needs doing
    wallhinge-check power      # the Raspberry Pi 5's USB current limit
    wallhinge-check camera     # each RealSense camera's USB link (needs pyrealsense2)

Installed as ``/opt/wallhinge/bin/wallhinge-check`` and run by install.sh
before it starts the services (run it with the station stopped: a camera in
use by the station cannot always be queried). It runs on the station's
virtual environment's Python (render.py points its ``#!`` line there),
because the USB judgement is the station's own; pyrealsense2 is imported for
the camera check alone.

The two judgements are pure functions a program can use as well:
:func:`usb_warning` for the USB type a camera reports
(``camera_info.usb_type_descriptor``), which is ``station.camera.usb_warning``
(the station logs it when it opens the live camera), and
:func:`pi5_power_warning` for the board, its supply and ``usb_max_current_enable``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

try:
    from station.camera import usb_warning
except ImportError:  # run from a checkout (python deploy/checks.py): the station's code is beside deploy/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from station.camera import usb_warning

__all__ = ["pi5_power_warning", "read_model", "read_supply_max_current_ma", "read_usb_max_current_enable",
           "usb_warning"]


def pi5_power_warning(model: str, supply_max_current_ma: int | None,
                      usb_max_current_enable: bool | None) -> str | None:
    """Whether a Raspberry Pi 5 limits its USB ports below what a RealSense camera draws.

    On a supply that does not announce 5 A over USB-PD, the Pi 5 allows its USB
    ports 600 mA in total, which a D400 exceeds when streaming depth; with 5 A,
    or with ``usb_max_current_enable=1`` in config.txt, it allows 1.6 A. Other
    boards have no such limit.

    Parameters
    ----------
    model : str
        The board (``/proc/device-tree/model``), e.g. ``"Raspberry Pi 5 Model B Rev 1.0"``.
    supply_max_current_ma : int or None
        What the supply announced, in mA (``/proc/device-tree/chosen/power/max_current``);
        None when unknown.
    usb_max_current_enable : bool or None
        ``vcgencmd get_config usb_max_current_enable``; None when unknown.

    Returns
    -------
    str or None
        What to do, or None when the ports may draw enough.
    """
    if "Raspberry Pi 5" not in model:
        return None
    if usb_max_current_enable or (supply_max_current_ma is not None and supply_max_current_ma >= 5000):
        return None
    supply = ("a supply that did not say what it can give" if supply_max_current_ma is None
              else f"a {supply_max_current_ma / 1000:g} A supply")
    return (f"This Raspberry Pi 5 runs on {supply}, so it allows its USB ports only 600 mA in total: the "
            "RealSense camera needs more and will drop out (\"Frame didn't arrive within 5000\"). Use the "
            "official Raspberry Pi 27 W USB-C power supply (5 V 5 A), or connect the camera through a USB 3 hub "
            "with its own power supply. Only if the supply you have is known to deliver 5 A: add the line "
            "usb_max_current_enable=1 to /boot/firmware/config.txt and reboot.")


def read_model(root: Path = Path("/")) -> str:
    """The board's name from the device tree; empty when there is none (not a Pi)."""
    try:
        return (root / "proc/device-tree/model").read_bytes().rstrip(b"\0").decode("utf-8", "replace")
    except OSError:
        return ""


def read_supply_max_current_ma(root: Path = Path("/")) -> int | None:
    """The current the Pi 5's supply announced, in mA (a big-endian 32-bit cell); None when unknown."""
    try:
        cell = (root / "proc/device-tree/chosen/power/max_current").read_bytes()
    except OSError:
        return None
    return int.from_bytes(cell[:4], "big") if len(cell) >= 4 else None


def read_usb_max_current_enable(run=subprocess.run) -> bool | None:
    """``usb_max_current_enable`` from the firmware's configuration (vcgencmd); None when unknown."""
    try:
        result = run(["vcgencmd", "get_config", "usb_max_current_enable"], capture_output=True, text=True,
                     timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"usb_max_current_enable=(\d+)", result.stdout or "")
    return None if match is None else match.group(1) != "0"


def check_power(root: Path = Path("/")) -> tuple[bool, str]:
    """(ok, one line) for this board."""
    model = read_model(root)
    if not model:
        return True, "power: not a Raspberry Pi, nothing to check"
    current = read_supply_max_current_ma(root)
    enabled = read_usb_max_current_enable()
    warning = pi5_power_warning(model, current, enabled)
    if warning:
        return False, f"power: {warning}"
    supply = "unknown" if current is None else f"{current} mA"
    return True, f"power: {model}, supply {supply}, usb_max_current_enable {enabled}: enough for the camera"


def check_cameras() -> list[tuple[bool, str]]:
    """(ok, one line) for each connected RealSense camera and its USB link."""
    try:
        import pyrealsense2 as rs
    except ImportError:
        return [(False, "camera: pyrealsense2 is not installed for this Python: run deploy/install.sh")]
    devices = list(rs.context().query_devices())
    if not devices:
        return [(False, "camera: no RealSense camera found: check its cable, and that the station is stopped "
                        "(sudo systemctl stop wallhinge-station) while this check runs")]
    results = []
    for device in devices:
        def info(field):
            return device.get_info(field) if device.supports(field) else ""
        name, serial = info(rs.camera_info.name), info(rs.camera_info.serial_number)
        usb_type = info(rs.camera_info.usb_type_descriptor)
        warning = usb_warning(usb_type)
        results.append((warning is None, f"camera: {name} {serial} on USB {usb_type or '?'}"
                        + (f": {warning}" if warning else "")))
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    which = argv[0] if argv else "all"
    if which not in ("all", "power", "camera") or len(argv) > 1:
        print("usage: wallhinge-check [all|power|camera]", file=sys.stderr)
        return 2
    ok = True
    if which in ("all", "power"):
        good, line = check_power()
        ok = ok and good
        print(("ok: " if good else "warning: ") + line)
    if which in ("all", "camera"):
        for good, line in check_cameras():
            ok = ok and good
            print(("ok: " if good else "warning: ") + line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
