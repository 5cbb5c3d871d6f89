"""Server-side SVG charts: well-formed, escaped, honest about missing values."""

import math
import xml.etree.ElementTree as ET

import pytest

from web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg):
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("viewBox")
    return root


def texts(root):
    return [element.text for element in root.iter(f"{SVG}text")]


def test_progress_chart_is_well_formed_and_escapes_text():
    svg = charts.progress_chart(["<2 Mar>", "9 & Mar"], [50.0, 75.0], title='Good "reps" <rate>', unit="%",
                                y_range=(0, 100), reference=(60, "target <60>"))
    root = parse(svg)
    assert root.find(f"{SVG}title").text == 'Good "reps" <rate>'
    assert "<2 Mar>" in texts(root) and "target <60>" in texts(root)
    assert "0%" in texts(root) and "100%" in texts(root)
    assert len(list(root.iter(f"{SVG}circle"))) == 2
    assert "<rate>" not in svg and "&lt;rate&gt;" in svg


def test_a_missing_value_breaks_the_line_instead_of_inventing_a_point():
    root = parse(charts.progress_chart(list("abcde"), [1.0, 2.0, None, 4.0, float("nan")], title="t"))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    root = parse(charts.progress_chart(list("abcdef"), [1, 2, None, 4, 5, 6], title="t"))
    assert [len(line.get("points").split()) for line in root.iter(f"{SVG}polyline")] == [2, 3]


def test_points_are_placed_by_value():
    root = parse(charts.progress_chart(["a", "b"], [0.0, 100.0], title="t", y_range=(0, 100)))
    low, high = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(f"{SVG}circle")]
    assert low[0] < high[0] and low[1] > high[1]  # later is right, higher is up


def test_no_data_says_so():
    for svg in (charts.progress_chart([], [], title="t"), charts.progress_chart(["a"], [None], title="t"),
                charts.curve_chart([0, 1], [None, None], title="t", unit=" mm"),
                charts.fault_bars([], {"squat": []}, title="t")):
        root = parse(svg)
        assert list(root.iter(f"{SVG}polyline")) == [] and any(texts(root))


@pytest.mark.parametrize("call", [
    lambda: charts.progress_chart(["a"], [1, 2], title="t"),
    lambda: charts.curve_chart([0, 1], [1], title="t", unit=""),
    lambda: charts.sparkline([0], [1, 2], title="t"),
    lambda: charts.fault_bars(["a", "b"], {"squat": [1]}, title="t"),
])
def test_mismatched_lengths_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_fault_bars_stack_and_name_every_fault():
    counts = {"squat": [1, 0, 2], "no_touch": [0, 0, 1], "too_fast": [1, 0, 0]}
    root = parse(charts.fault_bars(["1 Mar", "2 Mar", "3 Mar"], counts, title="Faults"))
    assert {"squat", "no touch", "too fast"} <= set(texts(root))
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    assert sorted(rect.find(f"{SVG}title").text for rect in bars) == [
        "1 Mar: squat 1", "1 Mar: too fast 1", "3 Mar: no touch 1", "3 Mar: squat 2"]
    heights = {rect.find(f"{SVG}title").text: float(rect.get("height")) for rect in bars}
    assert heights["3 Mar: squat 2"] == pytest.approx(2 * heights["3 Mar: no touch 1"], abs=0.2)
    quiet = parse(charts.fault_bars(["1 Mar"], {"squat": [0]}, title="Faults"))
    assert "No faults seen" in texts(quiet)  # never "No faults": the back may not have been looked at


def test_curve_chart_markers_reference_and_time_axis():
    t = [k / 30 for k in range(91)]
    values = [200 * (1 - math.sin(math.pi * k / 90)) for k in range(91)]
    root = parse(charts.curve_chart(t, values, title="Wall gap", unit=" mm", markers=[(1.5, "bottom")],
                                    reference=(20, "touch within 20 mm")))
    labels = texts(root)
    assert "bottom" in labels and "touch within 20 mm" in labels and "0 s" in labels and "3 s" in labels
    assert any(label.endswith(" mm") for label in labels)


def test_sparkline_is_small_and_titled():
    root = parse(charts.sparkline([0, 1, 2], [3, None, 5], title="Gap 3 to 5 mm"))
    assert root.get("class") == "spark" and root.find(f"{SVG}title").text == "Gap 3 to 5 mm"
    assert list(root.iter(f"{SVG}polyline")) == []  # no two neighbouring values: nothing to join


@pytest.mark.parametrize("lo, hi", [(0, 100), (0, 1), (3.2, 3.9), (-5, 5), (7, 7), (0, 48.3)])
def test_nice_ticks_cover_the_range_with_round_steps(lo, hi):
    ticks = charts.nice_ticks(lo, hi, 4)
    assert ticks[0] <= lo and ticks[-1] >= hi and 2 <= len(ticks) <= 8
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)


def test_nice_ticks_refuse_infinite_ranges():
    with pytest.raises(ValueError):
        charts.nice_ticks(0, math.inf)


@pytest.mark.parametrize("most", [0, 1, 2, 3, 7, 13])
def test_the_faults_chart_counts_reps_in_whole_numbers(most):
    root = parse(charts.fault_bars(["1 Mar", "2 Mar"], {"squat": [most, 0], "no_touch": [0, 0]}, title="Faults"))
    ticks = [text for text in texts(root) if text.replace(".", "").isdigit()]
    assert ticks and all("." not in text for text in ticks), ticks  # never 0.25 or 2.5 reps
