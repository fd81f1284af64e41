"""The view bar: which views have data, with their row counts and where traffic is, numbered
for the keys that switch to them (k9s-like). Pure: no Textual, no rich.
"""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.surfaces import CALLERS_VIEW, MODELS_VIEW, VIEW_NAMES


@dataclass(frozen=True, slots=True)
class ViewTab:
    """One entry of the bar: its key (1-6), name, rows and heartbeat traffic in words."""

    number: int
    name: str
    rows: int
    traffic: str  # "1.5k inf": the heartbeat measure over the window ("" when none)
    active: bool


def view_tabs(snapshot: Snapshot | None, current: str) -> list[ViewTab]:
    """Every view that has rows (models and callers always, the current one even when empty), in
    the fixed order of ``VIEW_NAMES`` so a view keeps its number whatever else is shown."""
    tabs = []
    for number, name in enumerate(VIEW_NAMES, start=1):
        rows, traffic = 0, ""
        if snapshot is not None and name == MODELS_VIEW:
            rows = len(snapshot.rows)
            traffic = f"{fmt_short(sum(r.window.invocations for r in snapshot.rows))} inv"
        elif snapshot is not None and name in snapshot.surfaces:
            view = snapshot.surfaces[name]
            rows = len(view.rows)
            measure = view.spec.measure(view.spec.heartbeat)
            traffic = f"{fmt_short(view.heartbeat_total())} {measure.label.lower()}"
        # The callers view reads logs only while open: always offered, counted when open.
        if rows or name in (MODELS_VIEW, CALLERS_VIEW, current):
            tabs.append(ViewTab(number, name, rows, traffic if rows else "", name == current))
    return tabs


def fmt_short(value: float) -> str:
    """A bar figure in at most four characters: 948, 15k, 1.5k, 3.6M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            scaled = value / size
            return f"{scaled:.1f}{suffix}" if scaled < 10 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"


def bar_text(tabs: list[ViewTab], width: int) -> list[tuple[str, bool]]:
    """The bar's pieces (text, active) for ``width`` cells: with traffic when it fits, else
    names and rows, else numbers and names only (the active one always whole)."""
    for style in ("full", "rows", "names"):
        pieces = []
        for tab in tabs:
            text = f" {tab.number} {tab.name}"
            if style != "names":
                text += f" {tab.rows}"
            if style == "full" and tab.traffic:
                text += f" · {tab.traffic}"
            pieces.append((text + " ", tab.active))
        if sum(len(t) for t, _ in pieces) <= width or style == "names":
            return pieces
    return []  # unreachable


def view_number(key: str) -> str | None:
    """The view a number key ('1'..'6') selects."""
    if key.isdigit() and 1 <= int(key) <= len(VIEW_NAMES):
        return VIEW_NAMES[int(key) - 1]
    return None
