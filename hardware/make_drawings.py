"""Draw hardware/wiring.png and hardware/mount.png with Pillow.

The wiring diagram's pin labels come from ``PinMap()``, the station's default
pin map, and the header layout below; the BCM-to-header mapping is checked
against gpiozero's board data by ``tests/test_hardware.py``. The pin map the
picture was drawn for is also stored in the PNG's text chunk ``pins``, so the
test can tell when the committed picture no longer matches the defaults.

Run from the repository root after changing the default pins:

    python hardware/make_drawings.py
"""

from __future__ import annotations

import math
import sys
from dataclasses import astuple, fields
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from station.feedback import DEFAULT_END_HOLD_S, PinMap  # noqa: E402

#: The Raspberry Pi's 40-pin header (Pi 2 B and later, Pi 4, Pi 5): physical pin -> name.
HEADER = {
    1: "3V3", 2: "5V", 3: "GPIO2", 4: "5V", 5: "GPIO3", 6: "GND", 7: "GPIO4", 8: "GPIO14",
    9: "GND", 10: "GPIO15", 11: "GPIO17", 12: "GPIO18", 13: "GPIO27", 14: "GND", 15: "GPIO22",
    16: "GPIO23", 17: "3V3", 18: "GPIO24", 19: "GPIO10", 20: "GND", 21: "GPIO9", 22: "GPIO25",
    23: "GPIO11", 24: "GPIO8", 25: "GND", 26: "GPIO7", 27: "GPIO0", 28: "GPIO1", 29: "GPIO5",
    30: "GND", 31: "GPIO6", 32: "GPIO12", 33: "GPIO13", 34: "GND", 35: "GPIO19", 36: "GPIO16",
    37: "GPIO26", 38: "GPIO20", 39: "GND", 40: "GPIO21",
}

# Header pins the wiring uses for power: +5 V, and ground for the lamps (left) and buzzer/button (right).
PIN_5V = 2
PIN_GND_LAMPS = 9
PIN_GND_RIGHT = 14

INK = (20, 20, 20)
GREY = (150, 150, 150)
BLUE = (30, 60, 120)
RED = (220, 30, 30)
AMBER = (245, 160, 0)
GREEN = (20, 170, 60)
POWER_RED = (200, 40, 40)
BAND = (205, 225, 250)
TAPE = (250, 210, 60)


def physical_pin(bcm: int) -> int:
    """The header pin of a BCM GPIO number."""
    for number, name in HEADER.items():
        if name == f"GPIO{bcm}":
            return number
    raise ValueError(f"BCM {bcm} is not on the 40-pin header")


def font(size: int):
    return ImageFont.load_default(size=size)


def text(draw, xy, words, size=18, fill=INK, anchor="la"):
    draw.text(xy, words, font=font(size), fill=fill, anchor=anchor)


def arrowhead(draw, tip, towards, size=12, fill=INK):
    """A filled arrowhead at ``tip`` pointing away from ``towards``."""
    angle = math.atan2(tip[1] - towards[1], tip[0] - towards[0])
    left = (tip[0] - size * math.cos(angle - 0.4), tip[1] - size * math.sin(angle - 0.4))
    right = (tip[0] - size * math.cos(angle + 0.4), tip[1] - size * math.sin(angle + 0.4))
    draw.polygon([tip, left, right], fill=fill)


def dimension(draw, start, end, label, size=18, fill=INK, offset=(0, -14)):
    """A dimension line with arrowheads at both ends and a label at its middle."""
    draw.line([start, end], fill=fill, width=2)
    arrowhead(draw, end, start, fill=fill)
    arrowhead(draw, start, end, fill=fill)
    middle = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
    text(draw, middle, label, size, fill, anchor="mm")


# --- wiring diagram ----------------------------------------------------------------------------


def resistor(draw, x0, x1, y, label, vertical=False):
    """A resistor box between x0 and x1 (or y0 and y1 when vertical) with its value."""
    if vertical:
        draw.rectangle([y - 9, x0, y + 9, x1], outline=INK, width=2, fill="white")
        text(draw, (y + 16, (x0 + x1) / 2), label, 16, anchor="lm")
    else:
        draw.rectangle([x0, y - 9, x1, y + 9], outline=INK, width=2, fill="white")
        text(draw, ((x0 + x1) / 2, y - 14), label, 16, anchor="md")


def ground(draw, x, y):
    """A ground symbol hanging from (x, y)."""
    draw.line([(x, y), (x, y + 12)], fill=INK, width=2)
    for i, half in enumerate((14, 9, 4)):
        draw.line([(x - half, y + 12 + 5 * i), (x + half, y + 12 + 5 * i)], fill=INK, width=2)


def plus5(draw, x, y, up=True):
    """A +5 V net flag at (x, y)."""
    tip_y = y - 14 if up else y + 14
    draw.line([(x, y), (x, tip_y)], fill=POWER_RED, width=2)
    draw.line([(x - 12, tip_y), (x + 12, tip_y)], fill=POWER_RED, width=3)
    text(draw, (x, tip_y - 4 if up else tip_y + 4), "+5 V", 16, POWER_RED, anchor="md" if up else "ma")


def npn(draw, cx, cy, base_on_left: bool, label: str):
    """An NPN transistor symbol; returns the (collector, emitter) lead ends."""
    r = 30
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=INK, width=2)
    side = -1 if base_on_left else 1  # which side the base bar sits on
    bar_x = cx + side * 10
    draw.line([(bar_x, cy - 17), (bar_x, cy + 17)], fill=INK, width=4)
    lead_x = cx - side * 14
    collector = (lead_x, cy - r - 14)
    emitter = (lead_x, cy + r + 14)
    draw.line([(bar_x, cy - 7), (lead_x, cy - 22), collector], fill=INK, width=2)
    draw.line([(bar_x, cy + 7), (lead_x, cy + 22), emitter], fill=INK, width=2)
    arrowhead(draw, (lead_x, cy + 22), (bar_x, cy + 7), size=11)
    text(draw, (cx - side * 40, cy), label, 15, anchor="lm" if side < 0 else "rm")
    return collector, emitter, (bar_x, cy)


def led(draw, x_anode, x_cathode, y, colour):
    """An LED pointing from anode to cathode (left to right), filled in its colour."""
    mid = (x_anode + x_cathode) / 2
    draw.line([(x_anode - 12, y), (x_anode, y)], fill=INK, width=2)
    draw.polygon([(x_anode, y - 16), (x_anode, y + 16), (x_cathode, y)], fill=colour, outline=INK)
    draw.line([(x_cathode, y - 16), (x_cathode, y + 16)], fill=INK, width=3)
    for dx in (0, 12):
        start = (mid + dx - 4, y - 20)
        end = (mid + dx + 8, y - 34)
        draw.line([start, end], fill=colour, width=2)
        arrowhead(draw, end, start, size=8, fill=colour)


def lamp_channel(draw, y, pin_xy, route_x, colour, title, resistor_label, q):
    """One lamp: GPIO -> 1 kohm -> NPN base; +5 V -> resistor -> LED -> collector; emitter -> GND."""
    px, py = pin_xy
    draw.line([(px, py), (route_x, py), (route_x, y), (610, y)], fill=colour, width=3)
    resistor(draw, 530, 610, y, "1 kohm")
    draw.line([(530, y), (480, y)], fill=INK, width=2)
    collector, emitter, base = npn(draw, 440, y, base_on_left=False, label=q)
    draw.line([(480, y), base], fill=INK, width=2)
    top = collector[1] - 36
    draw.line([collector, (collector[0], top), (350, top)], fill=INK, width=2)
    led(draw, 280, 320, top, colour)
    draw.line([(320, top), (350, top)], fill=INK, width=2)
    draw.line([(268, top), (250, top)], fill=INK, width=2)
    resistor(draw, 170, 250, top, resistor_label)
    draw.line([(170, top), (120, top)], fill=INK, width=2)
    plus5(draw, 120, top)
    ground(draw, emitter[0], emitter[1])
    text(draw, (60, top - 75), title, 18, anchor="la")


def pin_positions(x_odd, x_even, y0, step):
    return {n: ((x_odd if n % 2 else x_even), y0 + step * ((n - 1) // 2)) for n in HEADER}


def wiring_diagram(pins: PinMap) -> Image.Image:
    """The wiring diagram for ``pins``: the header, three lamp channels, the buzzer and the button."""
    width, height = 1700, 1060
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    text(draw, (30, 24), "Wall Hinge Station: wiring of the default pin map (BCM numbers, header pins)", 28)
    text(draw, (30, 62), "Raspberry Pi 4 or 5, 40-pin header seen from above with the USB ports at the bottom. "
                         "Pin numbers inside the circles are header (physical) pins.", 18, BLUE)

    used = {physical_pin(pins.red): ("red lamp", RED), physical_pin(pins.amber): ("amber lamp", AMBER),
            physical_pin(pins.green): ("green lamp", GREEN), physical_pin(pins.buzzer): ("buzzer", BLUE),
            physical_pin(pins.button): ("button", (120, 60, 160)), PIN_5V: ("+5 V", POWER_RED),
            PIN_GND_LAMPS: ("GND", INK), PIN_GND_RIGHT: ("GND", INK)}

    x_odd, x_even, y0, step = 830, 870, 200, 36
    where = pin_positions(x_odd, x_even, y0, step)
    draw.rounded_rectangle([x_odd - 30, y0 - 30, x_even + 30, y0 + 19 * step + 30], radius=8,
                           fill=(35, 90, 50), outline=INK, width=2)
    text(draw, ((x_odd + x_even) / 2, y0 - 40), "J8 header", 18, anchor="md")
    for number, name in HEADER.items():
        x, y = where[number]
        if name == "5V":
            fill = POWER_RED
        elif name == "3V3":
            fill = (240, 140, 40)
        elif name == "GND":
            fill = (10, 10, 10)
        else:
            fill = (200, 200, 200)
        outline = "white"
        if number in used:
            outline = (255, 255, 0)
        draw.ellipse([x - 15, y - 15, x + 15, y + 15], fill=fill, outline=outline, width=3 if number in used else 1)
        text(draw, (x, y), str(number), 14, "white" if fill != (200, 200, 200) else INK, anchor="mm")

    # BCM names of the used GPIO pins beside the header.
    for field in fields(pins):
        bcm = getattr(pins, field.name)
        number = physical_pin(bcm)
        x, y = where[number]
        if number % 2:
            text(draw, (x - 36, y - 12), f"GPIO{bcm}", 15, anchor="rm")
        else:
            text(draw, (x + 36, y - 12), f"GPIO{bcm}", 15, anchor="lm")

    # Power pins: named beside the header; in the circuits they are the +5 V flags and ground symbols.
    for number, name in ((PIN_5V, "+5 V"), (PIN_GND_LAMPS, "GND"), (PIN_GND_RIGHT, "GND")):
        x, y = where[number]
        fill = POWER_RED if number == PIN_5V else INK
        if number % 2:
            text(draw, (x - 36, y - 12), name, 15, fill, anchor="rm")
        else:
            text(draw, (x + 36, y - 12), name, 15, fill, anchor="lm")

    # Left: the lamp stack, one channel per lamp.
    lamps = [(pins.red, RED, "RED lamp (top): BCM %d, pin %d", "150 ohm", "Q1 BC337", 300, 720),
             (pins.amber, AMBER, "AMBER lamp (middle): BCM %d, pin %d", "150 ohm", "Q2 BC337", 540, 690),
             (pins.green, GREEN, "GREEN lamp (bottom): BCM %d, pin %d", "82 ohm", "Q3 BC337", 780, 720)]
    for bcm, colour, title, value, q, y, route_x in lamps:
        number = physical_pin(bcm)
        px, py = where[number]
        lamp_channel(draw, y, (px - 15, py), route_x, colour, title % (bcm, number), value, q)

    # Right: the buzzer channel.
    number = physical_pin(pins.buzzer)
    px, py = where[number]
    by = 330
    draw.line([(px + 15, py), (990, py), (990, by), (1050, by)], fill=BLUE, width=3)
    resistor(draw, 1050, 1130, by, "1 kohm")
    draw.line([(1130, by), (1180, by)], fill=INK, width=2)
    collector, emitter, base = npn(draw, 1220, by, base_on_left=True, label="Q4 BC337")
    draw.line([(1180, by), base], fill=INK, width=2)
    cx = collector[0]
    low, high = collector[1] - 20, collector[1] - 80  # the transducer's terminals
    draw.line([collector, (cx, low)], fill=INK, width=2)
    draw.rectangle([cx - 22, high, cx + 22, low], outline=INK, width=2, fill=(225, 230, 245))
    text(draw, (cx, (high + low) / 2), "BZ", 16, anchor="mm")
    draw.line([(cx, high), (cx, high - 30)], fill=INK, width=2)
    plus5(draw, cx, high - 30)
    # the flyback diode across the transducer, cathode to +5 V
    dx = cx + 80
    draw.line([(cx, low), (dx, low), (dx, low - 18)], fill=INK, width=2)
    draw.polygon([(dx - 14, low - 18), (dx + 14, low - 18), (dx, high + 18)], fill="white", outline=INK)
    draw.line([(dx - 14, high + 18), (dx + 14, high + 18)], fill=INK, width=3)
    draw.line([(dx, high + 18), (dx, high), (cx, high)], fill=INK, width=2)
    text(draw, (dx + 22, (high + low) / 2), "D1 1N4148", 15, anchor="lm")
    ground(draw, emitter[0], emitter[1])
    text(draw, (1050, by + 85), f"BUZZER (passive, tonal, PWM): BCM {pins.buzzer}, pin {number}", 18)
    text(draw, (1050, by + 109), "+ of the transducer to +5 V, - to Q4's collector", 15, BLUE)

    # Right: the button.
    number = physical_pin(pins.button)
    px, py = where[number]
    sy = 620
    draw.line([(px + 15, py), (1000, py), (1000, sy), (1080, sy)], fill=(120, 60, 160), width=3)
    for x in (1090, 1170):
        draw.ellipse([x - 8, sy - 8, x + 8, sy + 8], outline=INK, width=2, fill="white")
    draw.line([(1092, sy - 14), (1172, sy - 30)], fill=INK, width=3)
    draw.line([(1131, sy - 22), (1131, sy - 48)], fill=INK, width=2)
    draw.line([(1116, sy - 48), (1146, sy - 48)], fill=INK, width=3)
    draw.line([(1178, sy), (1240, sy)], fill=INK, width=2)
    ground(draw, 1240, sy)
    text(draw, (1050, sy + 50), f"BUTTON (momentary, normally open): BCM {pins.button}, pin {number}", 18)
    text(draw, (1050, sy + 74), "other contact to ground; gpiozero's internal pull-up, no resistor", 15, BLUE)
    text(draw, (1050, sy + 96), f"short press: start / pause the set; hold {DEFAULT_END_HOLD_S:g} s: end the set",
         15, BLUE)

    # Notes and the legend.
    notes = [
        "Lamps: 10 mm LEDs at about 20 mA from +5 V, switched low-side by NPN transistors;",
        "  the GPIO pin only feeds the transistor's base (2.6 mA through 1 kohm).",
        "Q1-Q4: BC337-40 or 2N2222A (NPN, TO-92). Resistors 1/4 W.",
        f"+5 V flags: header pin {PIN_5V}. Ground symbols: header pins {PIN_GND_LAMPS} and {PIN_GND_RIGHT} "
        "(any GND pin will do).",
        "The pins are the defaults of the [pins] settings table; see hardware/wiring.md.",
    ]
    for i, line in enumerate(notes):
        text(draw, (1050, 800 + 26 * i), line, 16)
    legend = [(POWER_RED, "5 V"), ((240, 140, 40), "3.3 V"), ((10, 10, 10), "ground"), ((200, 200, 200), "GPIO")]
    lx, ly = 60, 975
    text(draw, (lx, ly), "header pins:", 16, anchor="lm")
    for i, (fill, name) in enumerate(legend):
        x = lx + 120 + 110 * i
        draw.ellipse([x - 10, ly - 10, x + 10, ly + 10], fill=fill)
        text(draw, (x + 16, ly), name, 16, anchor="lm")
    x = lx + 120 + 110 * len(legend)
    draw.ellipse([x - 10, ly - 10, x + 10, ly + 10], fill=(200, 200, 200), outline=(255, 255, 0), width=3)
    text(draw, (x + 16, ly), "yellow ring: used by the station", 16, anchor="lm")
    return image


# --- mount drawing -------------------------------------------------------------------------------

# The reference mount of docs/drill.md.
DISTANCE_M = (1.5, 2.5)
YAW_DEG = (10.0, 35.0)
HEIGHT_M = (0.7, 1.3)
PITCH_DEG = (-15.0, 5.0)
HALF_HFOV_DEG = 43.5  # D435 / D455 depth at 16:9, 87 degrees across


def annular_sector(centre, r0, r1, a0, a1, steps=40):
    """Polygon points of an annular sector (angles in degrees, image convention)."""
    outer = [(centre[0] + r1 * math.cos(math.radians(a0 + (a1 - a0) * i / steps)),
              centre[1] + r1 * math.sin(math.radians(a0 + (a1 - a0) * i / steps))) for i in range(steps + 1)]
    inner = [(centre[0] + r0 * math.cos(math.radians(a1 - (a1 - a0) * i / steps)),
              centre[1] + r0 * math.sin(math.radians(a1 - (a1 - a0) * i / steps))) for i in range(steps + 1)]
    return outer + inner


def plan_view(draw, left, top, scale):
    """Room plan seen from above: the drill wall, the spot, the camera envelope on both sides."""
    wall_y = top + 60
    cx = left + 2.8 * scale  # the drill spot's x
    spot_z = 0.25
    spot = (cx, wall_y + spot_z * scale)
    text(draw, (left, top), "1. Plan, seen from above", 24)
    draw.rectangle([left, wall_y - 30, left + 5.6 * scale, wall_y], fill=(225, 225, 225))
    draw.line([(left, wall_y), (left + 5.6 * scale, wall_y)], fill=INK, width=4)
    text(draw, (left + 10, wall_y - 15), "drill wall", 18, anchor="lm")

    # The envelope on both sides: 1.5-2.5 m from the spot, 10-35 degrees out from the wall line.
    for side in (1, -1):
        if side > 0:
            a0, a1 = YAW_DEG
        else:
            a0, a1 = 180 - YAW_DEG[1], 180 - YAW_DEG[0]
        draw.polygon(annular_sector(spot, DISTANCE_M[0] * scale, DISTANCE_M[1] * scale, a0, a1), fill=BAND,
                     outline=BLUE)
    text(draw, (cx - 2.0 * scale * math.cos(math.radians(22)), spot[1] + 2.0 * scale * math.sin(math.radians(22))),
         "or this side", 16, BLUE, anchor="mm")

    # The reference camera: 2.0 m, turned 20 degrees toward the wall, aimed at the spot.
    d, yaw = 2.0, math.radians(20)
    cam = (spot[0] + d * math.cos(yaw) * scale, spot[1] + d * math.sin(yaw) * scale)
    draw.line([cam, spot], fill=BLUE, width=2)
    draw.rectangle([cam[0] - 14, cam[1] - 8, cam[0] + 14, cam[1] + 8], fill=BLUE)
    note = (cam[0], spot[1] + 1.62 * scale)
    draw.line([(cam[0], cam[1] + 8), (note[0], note[1] - 4)], fill=BLUE, width=1)
    text(draw, note, "camera on a pole or a side-wall bracket,", 16, BLUE, anchor="ma")
    text(draw, (note[0], note[1] + 20), "aimed at the drill spot", 16, BLUE, anchor="ma")

    # The yaw: the angle at the spot between the wall line and the line to the camera.
    r = 0.9 * scale
    draw.line([spot, (spot[0] + 2.75 * scale, spot[1])], fill=GREY, width=1)
    draw.arc([spot[0] - r, spot[1] - r, spot[0] + r, spot[1] + r], 0, 20, fill=INK, width=2)
    text(draw, (spot[0] + r + 8, spot[1] + 0.16 * scale), "turned 10-35° toward the wall", 16, anchor="lm")

    # The distance, along the line to the camera.
    off = 0.22 * scale
    nx, ny = -math.sin(yaw), math.cos(yaw)
    a = (spot[0] + 1.5 * scale * math.cos(yaw) + nx * off, spot[1] + 1.5 * scale * math.sin(yaw) + ny * off)
    b = (spot[0] + 2.5 * scale * math.cos(yaw) + nx * off, spot[1] + 2.5 * scale * math.sin(yaw) + ny * off)
    dimension(draw, a, b, "", fill=INK)
    text(draw, ((a[0] + b[0]) / 2 - 10, (a[1] + b[1]) / 2 + 16), "1.5-2.5 m from the spot", 16, anchor="ra")

    # The patient at the spot, facing the room.
    draw.ellipse([spot[0] - 0.22 * scale, spot[1] - 0.13 * scale, spot[0] + 0.22 * scale, spot[1] + 0.13 * scale],
                 fill=(240, 150, 80), outline=INK)
    draw.polygon([(spot[0] - 10, spot[1] + 0.16 * scale), (spot[0] + 10, spot[1] + 0.16 * scale),
                  (spot[0], spot[1] + 0.16 * scale + 16)], fill=INK)
    text(draw, (cx, spot[1] + 0.75 * scale), "patient at the drill spot,", 16, anchor="ma")
    text(draw, (cx, spot[1] + 0.75 * scale + 20), "back to the wall, facing the room", 16, anchor="ma")

    # The lamp stack and button box in front of the patient.
    lamp = (cx, wall_y + 2.6 * scale)
    draw.rectangle([lamp[0] - 18, lamp[1] - 10, lamp[0] + 18, lamp[1] + 10], fill=INK)
    for i, colour in enumerate((RED, AMBER, GREEN)):
        draw.ellipse([lamp[0] - 15 + 11 * i, lamp[1] - 5, lamp[0] - 5 + 11 * i, lamp[1] + 5], fill=colour)
    text(draw, (lamp[0] + 30, lamp[1]), "lamp stack on a stand, 2-3 m in front of the patient,", 16, anchor="lm")
    text(draw, (lamp[0] + 30, lamp[1] + 20), "1.0-1.3 m high, outside the camera's view of the spot", 16,
         anchor="lm")

    # Scale bar.
    sx, sy = left, wall_y + 3.05 * scale
    draw.line([(sx, sy), (sx + scale, sy)], fill=INK, width=3)
    for x in (sx, sx + scale):
        draw.line([(x, sy - 6), (x, sy + 6)], fill=INK, width=2)
    text(draw, (sx + scale / 2, sy + 10), "1 m", 16, anchor="ma")


def elevation_view(draw, left, top, scale):
    """Seen from the room: camera height and pitch on its pole, the patient at the wall."""
    text(draw, (left, top), "2. Height and tilt, seen from the room", 24)
    floor_y = top + 60 + 1.9 * scale
    draw.line([(left, floor_y), (left + 3.0 * scale, floor_y)], fill=INK, width=3)
    person_x = left + 0.3 * scale
    cam_x = left + 1.75 * scale
    # The patient, standing.
    head = (person_x, floor_y - 1.62 * scale)
    draw.ellipse([head[0] - 0.1 * scale, head[1] - 0.1 * scale, head[0] + 0.1 * scale, head[1] + 0.1 * scale],
                 outline=INK, width=2, fill=(240, 150, 80))
    draw.rounded_rectangle([person_x - 0.2 * scale, floor_y - 1.5 * scale, person_x + 0.2 * scale,
                            floor_y - 0.85 * scale], radius=10, outline=INK, width=2, fill=(240, 150, 80))
    for dx in (-0.1, 0.1):
        draw.line([(person_x + dx * scale, floor_y - 0.85 * scale), (person_x + dx * scale, floor_y)], fill=INK,
                  width=6)
    # The height band and the pole.
    draw.rectangle([cam_x - 0.18 * scale, floor_y - HEIGHT_M[1] * scale, cam_x + 0.18 * scale,
                    floor_y - HEIGHT_M[0] * scale], fill=BAND, outline=BLUE)
    draw.line([(cam_x, floor_y), (cam_x, floor_y - 1.45 * scale)], fill=GREY, width=6)
    draw.line([(cam_x - 0.25 * scale, floor_y), (cam_x + 0.25 * scale, floor_y)], fill=GREY, width=8)
    cam_y = floor_y - 1.0 * scale
    # Pitch: -15..+5 degrees around the horizontal, looking toward the patient (to the left).
    r = 1.0 * scale
    wedge = [(cam_x, cam_y)]
    for i in range(21):
        a = math.radians(PITCH_DEG[0] + (PITCH_DEG[1] - PITCH_DEG[0]) * i / 20)
        wedge.append((cam_x - r * math.cos(a), cam_y + r * math.sin(a)))
    draw.polygon(wedge, fill=(230, 238, 250), outline=(120, 150, 200))
    draw.line([(cam_x, cam_y), (cam_x - r * 1.1, cam_y)], fill=GREY, width=1)
    text(draw, (cam_x - 0.7 * scale, cam_y + 0.38 * scale), "pitch -15° (down) to +5°", 16, anchor="mm")
    draw.rectangle([cam_x - 14, cam_y - 8, cam_x + 14, cam_y + 8], fill=BLUE)
    dimension(draw, (cam_x + 0.45 * scale, floor_y), (cam_x + 0.45 * scale, floor_y - HEIGHT_M[0] * scale), "")
    text(draw, (cam_x + 0.55 * scale, floor_y - 0.35 * scale), "0.7 m", 16, anchor="lm")
    dimension(draw, (cam_x + 0.3 * scale, floor_y), (cam_x + 0.3 * scale, floor_y - HEIGHT_M[1] * scale), "")
    text(draw, (cam_x + 0.55 * scale, floor_y - 1.2 * scale), "1.3 m", 16, anchor="lm")
    text(draw, (cam_x, floor_y - 1.78 * scale), "lens height 0.7-1.3 m,", 16, BLUE, anchor="ma")
    text(draw, (cam_x, floor_y - 1.78 * scale + 20), "roll within ±3° (level it)", 16, BLUE, anchor="ma")


def floor_marks(draw, left, top, scale):
    """Close-up plan of the stand-off tape lines at 10, 20 and 30 cm."""
    text(draw, (left, top), "3. Floor marks for the heels", 24)
    wall_y = top + 70
    width_m = 0.8
    draw.rectangle([left, wall_y - 24, left + width_m * scale, wall_y], fill=(225, 225, 225))
    draw.line([(left, wall_y), (left + width_m * scale, wall_y)], fill=INK, width=4)
    text(draw, (left + 8, wall_y - 12), "drill wall surface (not the skirting board)", 15, anchor="lm")
    centre = left + 0.45 * scale
    strip_m, tape_m = 0.6, 0.05
    for cm in (10, 20, 30):
        y = wall_y + cm / 100 * scale
        draw.rectangle([centre - strip_m / 2 * scale, y, centre + strip_m / 2 * scale, y + tape_m * scale],
                       fill=TAPE, outline=(150, 120, 0))
        text(draw, (centre + 0.2 * scale, y + tape_m / 2 * scale), f"{cm} cm", 16, anchor="mm")
    # The spot's centre line, square to the wall.
    draw.line([(centre, wall_y), (centre, wall_y + 0.42 * scale)], fill=(150, 120, 0), width=3)
    text(draw, (centre + 10, wall_y + 0.4 * scale), "middle of the spot", 15, anchor="lm")
    # Dimensions from the wall to each line's wall-side edge.
    for i, cm in enumerate((10, 20, 30)):
        x = centre - strip_m / 2 * scale - 20 - 26 * i
        dimension(draw, (x, wall_y), (x, wall_y + cm / 100 * scale), "")
        draw.line([(x, wall_y + cm / 100 * scale), (centre - strip_m / 2 * scale, wall_y + cm / 100 * scale)],
                  fill=GREY, width=1)
    text(draw, (left, wall_y + 0.47 * scale), "measure square to the wall, to the tape's wall-side edge;", 15)
    text(draw, (left, wall_y + 0.47 * scale + 20), "heels go on that edge. A short line at right angles", 15)
    text(draw, (left, wall_y + 0.47 * scale + 40), "marks the middle of the spot. Matte tape, not black,", 15)
    text(draw, (left, wall_y + 0.47 * scale + 60), "not reflective (the depth camera must see the floor).", 15)


def mount_drawing() -> Image.Image:
    """The camera mount envelope, the lamp stack's place and the floor marks."""
    image = Image.new("RGB", (1700, 1080), "white")
    draw = ImageDraw.Draw(image)
    text(draw, (30, 20), "Wall Hinge Station: camera mount and floor marks (RealSense D435, D435i or D455)", 28)
    plan_view(draw, 30, 80, 190)
    elevation_view(draw, 1120, 80, 190)
    floor_marks(draw, 1120, 600, 480)
    return image


def pin_text(pins: PinMap) -> str:
    """The pin map as stored in the wiring picture's ``pins`` text chunk, e.g. ``red=17,amber=27,...``."""
    return ",".join(f"{f.name}={v}" for f, v in zip(fields(pins), astuple(pins)))


def main(out_dir: Path = Path(__file__).resolve().parent) -> None:
    pins = PinMap()
    info = PngInfo()
    info.add_text("pins", pin_text(pins))
    wiring_diagram(pins).save(out_dir / "wiring.png", pnginfo=info, optimize=True)
    mount_drawing().save(out_dir / "mount.png", optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
