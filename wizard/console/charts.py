"""The geometry of the insights page's charts, which templates draw as SVG on the server.

No chart library and no script: a bar is a rectangle whose width this module works out, so the page
reads the same with JavaScript off and stays within the Content-Security-Policy (no inline styles; the
colours come from site.css by class).
"""

from dataclasses import dataclass

LABEL_CHARACTERS = 26  # longer labels are cut in the chart; the table beside it has them whole


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # written at the bar's end
    y: int
    width: int
    part_width: int  # a darker first part (e.g. those that worked), 0 for none

    @property
    def middle(self) -> int:
        return self.y + BAR_HEIGHT // 2


BAR_HEIGHT, ROW_HEIGHT = 20, 30


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]

    @property
    def bar_x(self) -> int:
        return self.label_width

    @property
    def label_x(self) -> int:
        return self.label_width - 8


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1].rstrip() + "…"


def bar_chart(
    title: str, rows: list[tuple[str, int, str]], parts: list[int] | None = None, width: int = 720
) -> BarChart:
    """Horizontal bars, one per (label, value, text) row, scaled to the largest value; ``parts`` draws
    a darker first part of each bar (a value of its own, on the same scale)."""
    label_width, room_for_text = 210, 140
    scale_width = width - label_width - room_for_text
    largest = max((value for _, value, _ in rows), default=0) or 1
    bars = [
        Bar(
            label=_cut(label),
            text=text,
            y=n * ROW_HEIGHT + 5,
            width=max(round(value / largest * scale_width), 1 if value else 0),
            part_width=round((parts[n] if parts else 0) / largest * scale_width),
        )
        for n, (label, value, text) in enumerate(rows)
    ]
    return BarChart(
        title=title,
        width=width,
        height=max(len(rows), 1) * ROW_HEIGHT + 10,
        label_width=label_width,
        bar_height=BAR_HEIGHT,
        bars=bars,
    )


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: str  # the polyline's "x,y x,y …"


def sparkline(values: list[int], width: int = 120, height: int = 24) -> Sparkline:
    """A small line of counts over time, oldest on the left; a flat line along the bottom for none."""
    largest = max(values, default=0) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{round(n * step)},{round(height - 2 - value / largest * (height - 4))}"
        for n, value in enumerate(values)
    )
    return Sparkline(width=width, height=height, points=points)
