"""Charts as SVG text, drawn on the server: pure functions, no state, no JavaScript.

Every function returns a complete ``<svg>`` element as a string, with every
piece of text escaped, ready to put in a page (mark it safe there). Charts
scale to their container (``viewBox``, no fixed size); their text is sized
for a tablet at arm's length. Each has a ``<title>`` and ``role="img"`` so a
screen reader names it, and colour is never the only cue: lines carry their
values as points, bars a legend in words, reference lines a label.

Missing values (None or NaN) leave a gap in a line rather than a made-up
point.
"""

from __future__ import annotations

import html
import math
from typing import Mapping, Sequence

__all__ = ["FAULT_COLOURS", "curve_chart", "fault_bars", "progress_chart", "sparkline"]

LINE = "#0072B2"        # Okabe-Ito blue
REFERENCE = "#D55E00"   # Okabe-Ito vermillion
MARKER = "#555555"
GRID = "#d9d9d9"
TEXT = "#222222"

#: One colour per fault (Okabe-Ito, safe for colour-blind readers); legends name them too.
FAULT_COLOURS = {"squat": "#E69F00", "rounded_back": "#CC79A7", "no_touch": "#56B4E9",
                 "too_fast": "#009E73", "incomplete_return": "#D55E00"}

_FONT = 'font-family="system-ui, sans-serif"'
FONT = 17  # text size in viewBox units: charts are drawn about 1:1 on a tablet


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    """A coordinate with at most one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _finite(values) -> list[float]:
    return [float(v) for v in values if _present(v) and math.isfinite(float(v))]


def nice_ticks(lo: float, hi: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round tick values covering ``lo``..``hi``, about ``count`` of them; ``whole`` for counts (steps of 1 or more)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"tick range must be finite, not {lo!r}..{hi!r}")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1, math.ceil(step))  # a count has no quarter reps (2.5 rounds up to 3: still whole)
    start = math.floor(lo / step) * step
    ticks, value = [], start
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(value, 10))
    return ticks


def _tick_label(value: float, unit: str = "") -> str:
    text = f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:g}"
    return text + unit


def _left_margin(ticks: Sequence[float], unit: str) -> int:
    """Room for the longest value label left of the plot."""
    return 16 + round(0.62 * FONT * max(len(_tick_label(tick, unit)) for tick in ticks))


class _Plot:
    """Scales and the frame of one plot area."""

    def __init__(self, *, width: int, height: int, x_range: tuple[float, float], y_range: tuple[float, float],
                 left: int = 58, right: int = 18, top: int = 14, bottom: int = 42):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = left, width - right, top, height - bottom
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        if self.x1 == self.x0:
            self.x0, self.x1 = self.x0 - 1, self.x1 + 1
        if self.y1 == self.y0:
            self.y0, self.y1 = self.y0 - 1, self.y1 + 1

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)

    def y_axis(self, ticks: Sequence[float], unit: str) -> list[str]:
        parts = []
        for tick in ticks:
            y = _num(self.y(tick))
            parts.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y}" y2="{y}" stroke="{GRID}" '
                         'stroke-width="1"/>')
            parts.append(f'<text x="{self.left - 8}" y="{y}" text-anchor="end" dominant-baseline="middle" '
                         f'font-size="{FONT}" fill="{TEXT}">{_esc(_tick_label(tick, unit))}</text>')
        return parts

    def x_labels(self, labels: Sequence[tuple[float, str]]) -> list[str]:
        parts = [f'<line x1="{self.left}" x2="{self.right}" y1="{self.bottom}" y2="{self.bottom}" '
                 f'stroke="{MARKER}" stroke-width="1"/>']
        for value, label in labels:
            x = _num(self.x(value))
            parts.append(f'<line x1="{x}" x2="{x}" y1="{self.bottom}" y2="{self.bottom + 5}" stroke="{MARKER}"/>')
            parts.append(f'<text x="{x}" y="{self.bottom + 24}" text-anchor="middle" font-size="{FONT}" '
                         f'fill="{TEXT}">{_esc(label)}</text>')
        return parts

    def reference(self, value: float, label: str) -> list[str]:
        y = _num(self.y(value))
        return [f'<line x1="{self.left}" x2="{self.right}" y1="{y}" y2="{y}" stroke="{REFERENCE}" '
                'stroke-width="2" stroke-dasharray="7 5"/>',
                f'<text x="{self.right - 4}" y="{_num(self.y(value) - 7)}" text-anchor="end" font-size="{FONT}" '
                f'fill="{REFERENCE}">{_esc(label)}</text>']

    def line(self, xs: Sequence[float], ys: Sequence, *, colour: str = LINE, width: float = 2.5) -> list[str]:
        """Polylines through the present points, broken where a value is missing."""
        parts, run = [], []
        for x, y in zip(xs, ys):
            if _present(y) and _present(x):
                run.append(f"{_num(self.x(float(x)))},{_num(self.y(float(y)))}")
                continue
            if len(run) > 1:
                parts.append(run)
            run = []
        if len(run) > 1:
            parts.append(run)
        return [f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="{width}" '
                'stroke-linejoin="round" stroke-linecap="round"/>' for points in parts]


def _svg(width: int, height: int, title: str, body: list[str], *, css_class: str = "chart") -> str:
    return (f'<svg class="{_esc(css_class)}" viewBox="0 0 {width} {height}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" {_FONT}><title>{_esc(title)}</title>'
            + "".join(body) + "</svg>")


def _empty(width: int, height: int, title: str, message: str) -> str:
    return _svg(width, height, title, [
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" fill="none" stroke="{GRID}"/>',
        f'<text x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" dominant-baseline="middle" '
        f'font-size="16" fill="{MARKER}">{_esc(message)}</text>'])


def _value_range(values: Sequence[float], fixed: tuple[float | None, float | None] | None,
                 extra: Sequence[float] = ()) -> tuple[float, float]:
    known = _finite(values) + _finite(extra)
    lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
    if fixed is not None:
        lo = fixed[0] if fixed[0] is not None else lo
        hi = fixed[1] if fixed[1] is not None else hi
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    ticks = nice_ticks(lo, hi, 4)
    return ticks[0], ticks[-1]


def _label_positions(count: int, most: int) -> list[int]:
    """Indexes of up to ``most`` evenly spaced labels among ``count``, first and last included."""
    if count <= most:
        return list(range(count))
    step = (count - 1) / (most - 1)
    return sorted({round(k * step) for k in range(most)})


def progress_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str, unit: str = "",
                   y_range: tuple[float | None, float | None] | None = None,
                   reference: tuple[float, str] | None = None, width: int = 640, height: int = 240,
                   max_labels: int = 6, empty: str = "No sessions with reps yet") -> str:
    """One value per session, in session order, as a line with a point per session.

    Parameters
    ----------
    labels : sequence of str
        Each session's label on the x axis (e.g. its date); some are shown.
    values : sequence of float or None
        Each session's value in ``unit``; None for a session without one.
    y_range : (low, high), optional
        Fixed ends of the value axis; None at either end to fit the data.
    reference : (value, label), optional
        A dashed horizontal line, e.g. the patient's target.
    empty : str
        What the chart says when no session has a value.
    """
    if len(labels) != len(values):
        raise ValueError(f"one label per value: {len(labels)} labels for {len(values)} values")
    if not _finite(values):
        return _empty(width, height, title, empty)
    extra = [reference[0]] if reference else []
    lo, hi = _value_range(values, y_range, extra)
    count = len(values)
    ticks = nice_ticks(lo, hi, 4)
    plot = _Plot(width=width, height=height, x_range=(-0.5, count - 0.5), y_range=(lo, hi),
                 left=_left_margin(ticks, unit), top=28 if reference else 14)
    body = plot.y_axis(ticks, unit)
    body += plot.x_labels([(k, labels[k]) for k in _label_positions(count, max_labels)])
    if reference:
        body += plot.reference(*reference)
    body += plot.line(range(count), values)
    radius = 4.5 if count <= 40 else 3 if count <= 120 else 0
    if radius:
        for k, value in enumerate(values):
            if _present(value):
                body.append(f'<circle cx="{_num(plot.x(k))}" cy="{_num(plot.y(float(value)))}" r="{radius}" '
                            f'fill="{LINE}"><title>{_esc(labels[k])}: {_esc(_tick_label(round(float(value), 1), unit))}'
                            '</title></circle>')
    return _svg(width, height, title, body)


def fault_bars(labels: Sequence[str], counts: Mapping[str, Sequence[int]], *, title: str,
               width: int = 640, height: int = 260, max_labels: int = 6) -> str:
    """Reps with each fault per session, stacked, with a legend naming each fault.

    ``counts`` maps a fault name to one count per label, in the order the
    stack is drawn from the bottom (and the legend read).
    """
    for name, column in counts.items():
        if len(column) != len(labels):
            raise ValueError(f"{name}: {len(column)} counts for {len(labels)} labels")
    count = len(labels)
    totals = [sum(column[k] for column in counts.values()) for k in range(count)]
    if not count:
        return _empty(width, height, title, "No sessions yet")
    # The legend above the plot: a swatch and the fault's name, in stack order, wrapped to the width.
    legend, x, y = [], 8, 10
    for name in counts:
        text = name.replace("_", " ")
        step = 34 + round(0.58 * FONT * len(text))
        if x + step > width and x > 8:
            x, y = 8, y + 26
        legend.append(f'<rect x="{x}" y="{y}" width="17" height="17" fill="{FAULT_COLOURS.get(name, MARKER)}"/>')
        legend.append(f'<text x="{x + 23}" y="{y + 14}" font-size="{FONT}" fill="{TEXT}">{_esc(text)}</text>')
        x += step
    hi = max(1, max(totals))
    ticks = nice_ticks(0, hi, 4, whole=True)
    plot = _Plot(width=width, height=height, x_range=(-0.5, count - 0.5), y_range=(0, ticks[-1]), top=y + 36,
                 left=_left_margin(ticks, ""))
    body = plot.y_axis(ticks, "") + legend
    body += plot.x_labels([(k, labels[k]) for k in _label_positions(count, max_labels)])
    bar = max(1.0, min(28.0, (plot.right - plot.left) / count * 0.75))
    for k in range(count):
        base = 0
        for name, column in counts.items():
            value = column[k]
            if value <= 0:
                continue
            y_top, y_bottom = plot.y(base + value), plot.y(base)
            body.append(f'<rect x="{_num(plot.x(k) - bar / 2)}" y="{_num(y_top)}" width="{_num(bar)}" '
                        f'height="{_num(y_bottom - y_top)}" fill="{FAULT_COLOURS.get(name, MARKER)}">'
                        f'<title>{_esc(labels[k])}: {_esc(name.replace("_", " "))} {value}</title></rect>')
            base += value
    if not any(totals):
        body.append(f'<text x="{_num((plot.left + plot.right) / 2)}" y="{_num((plot.top + plot.bottom) / 2)}" '
                    f'text-anchor="middle" font-size="16" fill="{MARKER}">No faults seen</text>')
    return _svg(width, height, title, body)


def curve_chart(t: Sequence[float], values: Sequence[float | None], *, title: str, unit: str,
                y_range: tuple[float | None, float | None] | None = None,
                reference: tuple[float, str] | None = None, markers: Sequence[tuple[float, str]] = (),
                width: int = 640, height: int = 220) -> str:
    """A measure over time within a rep (x in seconds), gaps where it was not measured.

    ``markers`` are vertical lines at times (s) with a label, e.g. the
    bottom of the rep; ``reference`` a dashed horizontal line (a threshold).
    """
    if len(t) != len(values):
        raise ValueError(f"one time per value: {len(t)} times for {len(values)} values")
    times = _finite(t)
    if not times or not _finite(values):
        return _empty(width, height, title, "Not measured in this rep")
    extra = [reference[0]] if reference else []
    lo, hi = _value_range(values, y_range, extra)
    t0, t1 = min(times), max(times)
    ticks = nice_ticks(lo, hi, 4)
    plot = _Plot(width=width, height=height, x_range=(t0, t1 if t1 > t0 else t0 + 1), y_range=(lo, hi),
                 top=28, left=_left_margin(ticks, unit), right=24)
    body = plot.y_axis(ticks, unit)
    x_ticks = [tick for tick in nice_ticks(t0, t1, 5) if t0 - 1e-9 <= tick <= t1 + 1e-9]
    body += plot.x_labels([(tick, _tick_label(tick, " s")) for tick in x_ticks])
    for when, label in markers:
        if t0 <= when <= t1:
            x = _num(plot.x(when))
            body.append(f'<line x1="{x}" x2="{x}" y1="{plot.top}" y2="{plot.bottom}" stroke="{MARKER}" '
                        'stroke-width="1.5" stroke-dasharray="3 4"/>')
            body.append(f'<text x="{x}" y="{plot.top - 8}" text-anchor="middle" font-size="{FONT}" '
                        f'fill="{MARKER}">{_esc(label)}</text>')
    if reference:
        body += plot.reference(*reference)
    body += plot.line(t, values)
    return _svg(width, height, title, body)


def sparkline(t: Sequence[float], values: Sequence[float | None], *, title: str, width: int = 120,
              height: int = 36, y_range: tuple[float | None, float | None] | None = None) -> str:
    """A small curve without axes, for a table cell; ``title`` should carry its numbers."""
    if len(t) != len(values):
        raise ValueError(f"one time per value: {len(t)} times for {len(values)} values")
    times, known = _finite(t), _finite(values)
    if not times or not known:
        return _empty(width, height, title, "—")
    lo, hi = min(known), max(known)
    if y_range is not None:
        lo = y_range[0] if y_range[0] is not None else lo
        hi = y_range[1] if y_range[1] is not None else hi
    plot = _Plot(width=width, height=height, x_range=(min(times), max(times)), y_range=(lo, hi),
                 left=2, right=2, top=3, bottom=3)
    return _svg(width, height, title, plot.line(t, values, width=2), css_class="spark")
