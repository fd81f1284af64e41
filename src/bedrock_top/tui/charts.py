"""A titled chart box: ``chart.render_chart`` drawn at whatever size the layout gives it.

The chart itself is pure (``views.chart``, specs from ``views.panels``); this widget only
maps its style names to theme colours and redraws when the data or the size changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.reactive import reactive
from textual.widget import Widget

from bedrock_top.views.chart import render_chart
from bedrock_top.views.panels import ChartSpec


class ChartBox(Widget):
    """A bordered chart with its title and summary in the border."""

    DEFAULT_CSS = """
    ChartBox {
        height: 1fr; min-height: 6; border: round $primary 40%; padding: 0 1 0 0;
        border-title-color: $foreground; border-title-style: bold;
        border-subtitle-color: $foreground-muted;
    }
    """

    data: reactive[ChartSpec | None] = reactive(None, layout=False)
    """The series drawn; None draws an empty box (no data yet)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # The last drawing and what it was drawn from: a repaint for any other reason
        # (a neighbour changed, the cursor moved) costs nothing.
        self._drawn: tuple[object, Text] | None = None

    def watch_data(self, data: ChartSpec | None) -> None:
        self.border_title = data.title if data else ""
        self.border_subtitle = data.summary if data else ""

    def _styles(self) -> dict[str, Style]:
        theme = self.app.current_theme
        accent = Color.parse(theme.accent or theme.primary)
        primary = Color.parse(theme.primary)
        warning = Color.parse(theme.warning or "yellow")
        error = Color.parse(theme.error or "red")
        muted = Color.parse(theme.foreground or "white").with_alpha(0.55)
        return {
            "bar": Style(color=primary.lighten(0.1).rich_color),
            "axis": Style(color=muted.rich_color),
            "label": Style(color=muted.rich_color),
            "partial": Style(color=muted.rich_color, dim=True),
            "marker": Style(color=error.rich_color, bold=True),
            "threshold": Style(color=warning.rich_color),
            "accent": Style(color=accent.rich_color),
            "": Style(),
        }

    def render(self) -> Text:
        data = self.data
        width, height = self.content_size.width, self.content_size.height
        if data is None or width < 12 or height < 4:
            return Text("")
        key = (data, width, height, self.app.current_theme.name)
        if self._drawn is not None and self._drawn[0] == key:
            return self._drawn[1]
        text = self._draw(data, width, height)
        self._drawn = (key, text)
        return text

    def _draw(self, data: ChartSpec, width: int, height: int) -> Text:
        try:
            chart = render_chart(
                data.values,
                width=width,
                height=height,
                start=data.start,
                period=data.period,
                partial=data.partial,
                counter=data.counter,
                fmt=data.fmt,
                min_top=data.min_top,
                threshold=data.threshold,
                threshold_label=data.threshold_label,
                markers=data.markers,
            )
        except ValueError:  # too small for its labels: an empty box, never a crash
            return Text("")
        styles = self._styles()
        text = Text(no_wrap=True, overflow="crop")
        for i, line in enumerate(chart.lines):
            if i:
                text.append("\n")
            for segment in line:
                text.append(segment.text, styles.get(segment.style))
        return text


def chart_row(boxes: Sequence[ChartBox], datas: Sequence[ChartSpec | None]) -> None:
    """Give each box its data (unused boxes are hidden)."""
    for i, box in enumerate(boxes):
        data = datas[i] if i < len(datas) else None
        box.display = data is not None
        box.data = data
