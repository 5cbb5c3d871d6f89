"""hardware/: the wiring table, the drawings and the default pin map agree.

The 40-pin header is written out here from the Raspberry Pi's pinout and
checked against gpiozero's own board data, so neither can drift alone.
"""

import importlib.util
import re
from dataclasses import fields
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from PIL import Image

from station.feedback import PinMap

HARDWARE = Path(__file__).resolve().parent.parent / "hardware"

# BCM GPIO number -> physical pin on the 40-pin header (Pi 2 B and later, Pi 4, Pi 5).
BCM_TO_HEADER = {
    2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 5: 29, 6: 31, 13: 33, 19: 35, 26: 37,
    14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24, 7: 26, 12: 32, 16: 36, 20: 38, 21: 40,
}
POWER_PINS = {"5V": {2, 4}, "3V3": {1, 17}, "GND": {6, 9, 14, 20, 25, 30, 34, 39}}


def gpiozero_header() -> dict[int, str]:
    """Physical pin -> name on the J8 header, from gpiozero's board data."""
    pins = MockFactory().board_info.headers["J8"].pins
    return {number: info.name for number, info in pins.items()}


def wiring_rows() -> list[dict[str, str]]:
    """The rows of the table under '## Wiring table' in hardware/wiring.md, by column name."""
    text = (HARDWARE / "wiring.md").read_text()
    section = text.split("## Wiring table", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, rule, *body = cells
    assert all(set(cell) <= set("-: ") for cell in rule)
    return [dict(zip(header, row, strict=True)) for row in body]


def load_make_drawings():
    spec = importlib.util.spec_from_file_location("make_drawings", HARDWARE / "make_drawings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_header_map_here_agrees_with_gpiozero():
    names = gpiozero_header()
    assert len(names) == 40
    for bcm, number in BCM_TO_HEADER.items():
        assert names[number] == f"GPIO{bcm}"
    for name, numbers in POWER_PINS.items():
        assert {n for n, pin_name in names.items() if pin_name == name} == numbers


def test_wiring_table_matches_the_default_pin_map():
    rows = wiring_rows()
    assert list(rows[0]) == ["setting", "function", "BCM", "header pin", "part", "resistor"]
    settings = {re.fullmatch(r"`pins\.(\w+)`", row["setting"]).group(1): row
                for row in rows if row["setting"].startswith("`")}
    defaults = PinMap()
    assert set(settings) == {f.name for f in fields(PinMap)}
    for name, row in settings.items():
        assert int(row["BCM"]) == getattr(defaults, name), name


def test_wiring_table_header_pins_are_right_for_a_40_pin_header():
    names = gpiozero_header()
    for row in wiring_rows():
        number = int(row["header pin"])
        if row["BCM"].isdigit():
            assert BCM_TO_HEADER[int(row["BCM"])] == number, row["setting"]
            assert names[number] == f"GPIO{row['BCM']}"
        elif "ground" in row["function"]:
            assert number in POWER_PINS["GND"], row["function"]
        elif "+5 V" in row["function"]:
            assert number in POWER_PINS["5V"], row["function"]
        else:
            pytest.fail(f"row without a BCM pin or a power net: {row}")


def test_drawing_script_header_and_pins():
    drawings = load_make_drawings()
    assert drawings.HEADER == gpiozero_header()
    for bcm, number in BCM_TO_HEADER.items():
        assert drawings.physical_pin(bcm) == number
    assert drawings.HEADER[drawings.PIN_5V] == "5V"
    assert drawings.HEADER[drawings.PIN_GND_LAMPS] == drawings.HEADER[drawings.PIN_GND_RIGHT] == "GND"


def test_committed_wiring_picture_is_drawn_for_the_default_pins():
    drawings = load_make_drawings()
    with Image.open(HARDWARE / "wiring.png") as picture:
        assert picture.text["pins"] == drawings.pin_text(PinMap())
    assert drawings.pin_text(PinMap()) == "red=17,amber=27,green=22,buzzer=18,button=23"
    with Image.open(HARDWARE / "mount.png") as picture:
        assert picture.size[0] >= 1200


def test_drawing_script_makes_both_pictures(tmp_path):
    load_make_drawings().main(tmp_path)
    with Image.open(tmp_path / "wiring.png") as picture:
        assert picture.text["pins"].startswith("red=17,")
    assert (tmp_path / "mount.png").stat().st_size > 10_000
