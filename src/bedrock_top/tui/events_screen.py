"""The events screen: every alert incident with its start, end and peak, newest first; Enter
on one goes to the window around its start (the way back to the moment)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from bedrock_top.figures.alert_state import Incident, fmt_duration, fmt_value, title, who_of

Describe = Callable[[str, str], tuple[str, str]]  # (view, figure) -> (label, unit kind)
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
COLUMNS = ("Started", "Ended", "Sev", "Alert", "Row", "Peak", "Lasted")


def stamp(epoch: float, now: float) -> str:
    """A moment: the time alone today, with the date otherwise."""
    same_day = time.gmtime(epoch)[:3] == time.gmtime(now)[:3]
    return time.strftime("%H:%M" if same_day else "%m-%d %H:%M", time.gmtime(epoch)) + "Z"


def event_cells(incident: Incident, now: float, describe: Describe) -> tuple[Text | str, ...]:
    """One incident's row: when it started and ended (or that it is active), how bad it got."""
    rule = incident.rule
    label, unit = describe(rule.view, rule.figure)
    ended = stamp(incident.ended, now) if incident.ended is not None else Text("active", "bold")
    lasted = (incident.ended if incident.ended is not None else now) - incident.started
    return (
        stamp(incident.started, now),
        ended,
        Text(rule.severity, SEVERITY_STYLE.get(rule.severity, "")),
        title(rule),
        who_of(rule, incident.subject),
        f"{label} {fmt_value(incident.peak, unit)}",
        fmt_duration(lasted),
    )


class EventsScreen(ModalScreen[float | None]):
    """Alert incidents, newest first; dismissed with the start of the one chosen (Enter)."""

    BINDINGS = [Binding("escape,a,q", "close", "Close")]
    DEFAULT_CSS = """
    EventsScreen { align: center middle; }
    EventsScreen > Vertical { width: 90%; height: 80%; border: round $warning;
        background: $surface; padding: 0 1;
        border-title-style: bold; border-subtitle-color: $foreground-muted; }
    EventsScreen DataTable { height: 1fr; }
    EventsScreen #event-message { height: auto; color: $foreground-muted; }
    """

    def __init__(self, incidents: Sequence[Incident], describe: Describe, now: float) -> None:
        super().__init__()
        self.incidents = list(reversed(incidents))  # newest first
        self.describe = describe
        self.now = now

    def compose(self) -> ComposeResult:
        box = Vertical()
        count = len(self.incidents)
        active = sum(i.ended is None for i in self.incidents)
        box.border_title = f"Events · {count} alert{'' if count == 1 else 's'}, {active} active"
        box.border_subtitle = "Enter: go to that moment · Esc closes"
        with box:
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Static(id="event-message")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        for n, incident in enumerate(self.incidents):
            table.add_row(*event_cells(incident, self.now, self.describe), key=str(n))
        if not self.incidents:
            table.add_row("", "", "", "no alerts yet", "", "", "")
        self._show_message(0)
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_message(event.cursor_row)

    def _show_message(self, index: int) -> None:
        text = self.incidents[index].message if 0 <= index < len(self.incidents) else ""
        self.query_one("#event-message", Static).update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.incidents):
            self.dismiss(self.incidents[event.cursor_row].started)

    def action_close(self) -> None:
        self.dismiss(None)
