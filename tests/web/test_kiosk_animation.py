"""The kiosk's idle animation (tools/kiosk_animation.py): made from the simulator, plays without script."""

import math
import xml.etree.ElementTree as ET

from tools.kiosk_animation import OUTPUT, TIMELINE, animation_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_the_committed_animation_is_what_the_generator_makes():
    assert OUTPUT.read_text(encoding="utf-8") == animation_svg(), \
        "web/static/kiosk-rep.svg is stale: run python -m tools.kiosk_animation"


def test_it_is_a_looping_smil_animation_with_no_script_and_no_picture():
    root = ET.fromstring(OUTPUT.read_text(encoding="utf-8"))
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title").text.startswith("A good wall hinge")
    tags = {element.tag.replace(SVG, "") for element in root.iter()}
    assert not tags & {"script", "image", "foreignObject", "style"}
    assert not any("style" in element.attrib or any(name.startswith("on") for name in element.attrib)
                   for element in root.iter())  # the pages' CSP allows no inline style or script
    animations = [element for element in root.iter() if element.tag in (f"{SVG}animate", f"{SVG}animateTransform")]
    total = sum(seconds for _, seconds, _ in TIMELINE)
    assert len(animations) > 50
    assert {element.get("dur") for element in animations} == {f"{total:g}s"}
    assert {element.get("repeatCount") for element in animations} == {"indefinite"}
    # Every track loops seamlessly: it ends where it starts (standing tall).
    for element in animations:
        if element.get("calcMode") != "discrete":
            values = element.get("values").split(";")
            assert values[0] == values[-1], element.get("attributeName")


def test_each_phase_has_its_caption_and_the_hips_reach_the_wall():
    text = OUTPUT.read_text(encoding="utf-8")
    for _, _, caption in TIMELINE:
        assert caption in text
    assert "TOUCH" in text and "WALL" in text
    root = ET.fromstring(text)
    # The figure's rearmost point, over every frame, is at the wall: a real touch, not a near miss.
    wall_x = 70.0
    rearmost = []
    for ellipse in root.iter(f"{SVG}ellipse"):
        tracks = {a.get("attributeName") if a.tag == f"{SVG}animate" else a.get("type"): a.get("values").split(";")
                  for a in ellipse if a.tag in (f"{SVG}animate", f"{SVG}animateTransform")}
        for place, angle, rx, ry in zip(tracks["translate"], tracks["rotate"], tracks["rx"], tracks["ry"]):
            theta = math.radians(float(angle))
            half_width = math.hypot(float(rx) * math.cos(theta), float(ry) * math.sin(theta))
            rearmost.append(float(place.split()[0]) - half_width)
    assert wall_x - 3 < min(rearmost) < wall_x + 1.5
