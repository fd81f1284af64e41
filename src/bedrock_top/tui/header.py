"""The two header lines: whether the data is live and what it covers, then the account's
totals (the same sums the totals panel graphs)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.pricing import api_usd_per_hour
from bedrock_top.figures.row_figures import RECENT_S
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.surface_rows import SurfaceView, view_totals
from bedrock_top.figures.surfaces import window_key
from bedrock_top.figures.totals import Totals, quota_worst
from bedrock_top.format import fmt_count, fmt_pct, fmt_usd
from bedrock_top.views.columns import fmt_span


def short_model(model_id: str) -> str:
    """A model id without provider, date and version: 'us.claude-sonnet-4' (header room)."""
    info = parse_model_id(model_id)
    name = info.base_id.split(".", 1)[-1] if info.provider else info.base_id
    name = re.sub(r"-\d{8}(-v\d+(:\d+)?)?$|-v\d+:\d+$", "", name)
    return f"{info.profile}.{name}" if info.profile and info.profile != "application" else name


def fmt_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def utc(epoch: float, seconds: bool = False) -> str:
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.gmtime(epoch)) + "Z"


def past_window(end: float, window_s: int) -> str:
    """A past window in words: "2026-11-30 09:00-10:00Z" (the date of its start)."""
    start = end - window_s
    first = time.strftime("%Y-%m-%d %H:%M", time.gmtime(start))
    same_day = time.gmtime(start)[:3] == time.gmtime(end)[:3]
    last = time.strftime("%H:%M" if same_day else "%m-%d %H:%M", time.gmtime(end))
    return f"PAST {first}-{last}Z"


def as_of(snapshot: Snapshot) -> str | None:
    """The newest complete period's start, which every per-minute figure reads."""
    index = snapshot.latest_complete_index
    if index < 0:
        return None
    return utc(snapshot.window_start + index * snapshot.period)


@dataclass(frozen=True, slots=True)
class HeaderState:
    """What the header shows besides the snapshot itself."""

    source: str  # "demo" or the profile name
    regions: tuple[str, ...]
    window_s: int
    period_s: int
    interval_s: int
    paused: bool = False
    error: str | None = None  # set while the newest poll failed: the data is stale
    polling: bool = False
    api_usd_per_1000: float = 0.01  # GetMetricData price per 1,000 metrics requested
    view: str = ""  # filter, sort and problems-only, in words (compact layouts only)
    compact: bool = False  # no panel titles: the header says where and what window too
    surface: str = ""  # the view on screen when it is not the models table
    end: float | None = None  # the end of a past window ({ } keys, --end); None: live


class HeaderBar(Widget):
    """Live/paused/stale state with the age of the data, and totals across every row.

    Redrawn every second (the age ticks): a plain repaint of its two lines, never a layout
    pass (a Static's update would re-arrange the whole screen each time).
    """

    DEFAULT_CSS = """
    HeaderBar {
        height: 2; color: $foreground; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()

    def show(
        self,
        state: HeaderState,
        snapshot: Snapshot | None,
        totals: Totals | None,
        now: float | None = None,
    ) -> None:
        text = header_text(state, snapshot, totals, time.time() if now is None else now)
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return self._text


def _state(line: Text, state: HeaderState, snapshot: Snapshot | None, now: float) -> None:
    if snapshot is None:
        line.append("◌ waiting for first poll" if not state.error else "✖ no data yet")
    elif state.error:
        line.append(f"⚠ STALE {fmt_age(now - snapshot.taken_at)}", style="bold reverse")
    elif state.paused:
        line.append("⏸ PAUSED", style="bold reverse")
    elif state.end is None:
        line.append("● LIVE", style="bold")
    if state.end is not None:  # a past window: which one, in place of "LIVE" and the age
        gap = " " if line.plain else ""
        line.append(f"{gap}◷ {past_window(state.end, state.window_s)}", style="bold reverse")
        line.append(" ({ } step, l live)")
        if state.polling:
            line.append(" ⟳")
        return
    stamp = as_of(snapshot) if snapshot is not None else None
    if stamp:
        line.append(f" as of {stamp}", style="bold")
    if snapshot is not None:  # the age is in the STALE mark; live data is as old as polled
        line.append(f" · polled {utc(snapshot.taken_at, True)}")
    if state.polling:
        line.append(" ⟳")


def header_text(
    state: HeaderState, snapshot: Snapshot | None, totals: Totals | None, now: float
) -> Text:
    # The state comes first: on a narrow terminal it is what must stay visible.
    line = Text(no_wrap=True, overflow="ellipsis")
    _state(line, state, snapshot, now)
    if state.compact:
        line.append(f" │ {state.source} {','.join(state.regions) or '-'}")
        line.append(f" │ window {fmt_span(state.window_s)} @{fmt_span(state.period_s)}")
    line.append(f" │ every {state.interval_s}s")
    if snapshot is not None:
        api = snapshot.api
        monitor = api_usd_per_hour(api.last_poll_metrics, state.interval_s, state.api_usd_per_1000)
        line.append(f" │ monitor {fmt_usd(monitor)}/h")
        if state.interval_s < 60:
            line.append(" (interval < 60s re-reads the same minute)", style="bold")
        line.append(f", {fmt_count(api.metrics_requested)} metrics so far")
    line.append("\n")
    if snapshot is not None and state.surface:
        view = snapshot.surfaces.get(state.surface)
        if view is not None and snapshot.visible == state.surface:
            _surface_line(line, view, state)
        return line
    if snapshot is None or totals is None:
        return line
    rates = {"invocations": 0.0, "input_tokens": 0.0, "output_tokens": 0.0}
    for row in snapshot.rows:
        for key in rates:
            rates[key] += row.latest.get(key) or 0.0
    window = fmt_span(state.window_s)
    line.append("per min ")
    line.append(f"{fmt_count(round(rates['invocations']))} inv", style="bold")
    line.append(f" · {fmt_count(round(rates['input_tokens']))} in tok")
    line.append(f" · {fmt_count(round(rates['output_tokens']))} out tok")
    worst = quota_worst(snapshot.rows)
    if worst is not None:  # the first question in an incident: are we hitting a quota?
        row, kind, pct = worst
        style = "bold red" if pct >= 90 else "bold yellow" if pct >= 70 else ""
        line.append(" │ quota ")
        line.append(f"{pct:.0f}% {kind.upper()}", style=style)
        line.append(f" {short_model(row.model_id)}")
    elif any(r.quota_unknown for r in snapshot.rows):
        line.append(" │ quota ?")
    spend = totals.spend_usd_per_hour
    line.append(f" │ spend {fmt_usd(spend)}/h", style="bold")
    line.append(f" ({fmt_span(RECENT_S)}) ≈ {fmt_usd(spend * 24)}/day")
    if totals.unpriced_models:
        line.append(f" +{totals.unpriced_models} unpriced")
    line.append(f" │ {window}: err {fmt_pct(totals.error_rate)}")
    line.append(f" · throttles {fmt_count(totals.throttles)}")
    if state.view:
        line.append(f" │ {state.view}")
    return line


def _surface_line(line: Text, view: SurfaceView, state: HeaderState) -> None:
    """The second line for a view other than models: its own totals, never the models'
    (those are only a heartbeat while another view is on screen)."""
    spec = view.spec
    totals = view_totals(view, view.rows)
    window = fmt_span(state.window_s)
    line.append(spec.title, style="bold")
    heartbeat = spec.measure(spec.heartbeat)
    if heartbeat.kind == "counter":
        rate = sum(r.latest.get(heartbeat.key) or 0.0 for r in view.rows)
        line.append(f" │ per min {fmt_count(round(rate))} {heartbeat.label.lower()}")
    counts = [
        f"{fmt_count(value)} {m.label.lower()}"
        for m in spec.measures[:4]
        if m.kind == "counter" and (value := totals.get(window_key(m))) is not None
    ]
    levels = [
        f"{fmt_count(value)} {m.label.lower()}"
        for m in spec.measures
        if m.kind == "gauge" and (value := totals.get(window_key(m))) is not None
    ]
    if counts:
        line.append(f" │ {window}: " + " · ".join(counts))
    if levels:  # levels are the newest complete minute's, not window sums
        line.append(" │ now: " + " · ".join(levels))
    if spec.priced is not None:
        spend = totals.get("usd_per_hour") or 0.0
        line.append(f" │ spend {fmt_usd(spend)}/h", style="bold")
        line.append(f" ({fmt_span(RECENT_S)})")
    for ratio in spec.ratios:
        if ratio.percent:
            line.append(
                f" │ {ratio.label.removesuffix(' %').lower()} {fmt_pct(totals.get(ratio.key))}"
            )
    if view.source:  # a view read from logs: what reading them costs, and how live it is
        line.append(f" │ logs {fmt_usd(float(view.source.get('usd', 0.0)))} so far")
        live = str(view.source.get("live") or "")
        if live:
            line.append(f" · {live}", style="bold" if live == "sampled" else "")
    mismatches = sum(1 for c in view.checks if not c.agree)
    if mismatches:
        line.append(
            f" │ ⚠ {mismatches} roll-up mismatch{'es' if mismatches > 1 else ''}", style="bold"
        )
