"""The two header lines: where we look and whether the data is live, then the totals."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from bedrock_top.format import fmt_count, fmt_pct, fmt_usd
from bedrock_top.pricing import api_usd_per_hour
from bedrock_top.snapshot import Snapshot


def fmt_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def fmt_window(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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


class HeaderBar(Static):
    """Live/paused/stale state with the age of the data, and totals across visible rows."""

    DEFAULT_CSS = """
    HeaderBar {
        height: 2; background: $panel; color: $foreground; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def show(self, state: HeaderState, snapshot: Snapshot | None, now: float | None = None) -> None:
        self.update(header_text(state, snapshot, time.time() if now is None else now))


def header_text(state: HeaderState, snapshot: Snapshot | None, now: float) -> Text:
    # The state comes first: on a narrow terminal it is what must stay visible.
    line = Text(no_wrap=True, overflow="ellipsis")
    if snapshot is None:
        line.append("◌ waiting for first poll" if not state.error else "✖ no data yet")
    elif state.error:
        line.append(f"⚠ STALE {fmt_age(now - snapshot.taken_at)}", style="bold reverse")
        line.append(" ")
    elif state.paused:
        line.append("⏸ PAUSED", style="bold reverse")
        line.append(" ")
    else:
        line.append("● LIVE ", style="bold")
    if snapshot is not None:
        stamp = time.strftime("%H:%M:%S", time.localtime(snapshot.taken_at))
        line.append(f"{stamp} ({fmt_age(now - snapshot.taken_at)} ago)")
    if state.polling:
        line.append(" ⟳")
    line.append(f"  │ {state.source} {','.join(state.regions) or '-'}")
    line.append(f"  window {fmt_window(state.window_s)} @{state.period_s}s")
    line.append(f"  every {state.interval_s}s")
    line.append("\n")
    if snapshot is None:
        return line
    rates = {"invocations": 0.0, "input_tokens": 0.0, "output_tokens": 0.0}
    for row in snapshot.rows:
        for key in rates:
            rates[key] += row.latest.get(key) or 0.0
    totals = snapshot.totals()
    errors = totals["client_errors"] + totals["server_errors"]
    error_rate = errors / totals["invocations"] if totals["invocations"] else None
    line.append("per min ")
    line.append(f"{fmt_count(round(rates['invocations']))} inv", style="bold")
    line.append(f"  {fmt_count(round(rates['input_tokens']))} in tok")
    line.append(f"  {fmt_count(round(rates['output_tokens']))} out tok")
    line.append(f"  │ window err {fmt_pct(error_rate)}")
    line.append(f"  throttles {fmt_count(totals['throttles'])}")
    priced = [r.cost.usd_per_hour or 0.0 for r in snapshot.rows if r.cost is not None]
    if priced:
        spend = sum(priced)
        unpriced = sum(1 for r in snapshot.rows if r.cost is None and r.window.invocations)
        line.append(f"  │ now {fmt_usd(spend)}/h ≈ {fmt_usd(spend * 24)}/day", style="bold")
        if unpriced:
            line.append(f" (+{unpriced} unpriced)")
    api = snapshot.api
    monitor = api_usd_per_hour(api.last_poll_metrics, state.interval_s, state.api_usd_per_1000)
    line.append(f"  │ monitor {fmt_usd(monitor)}/h")
    if state.interval_s < 60:
        line.append(" (interval < 60s re-reads the same minute)", style="bold")
    line.append(f", {fmt_count(api.metrics_requested)} metrics so far")
    return line
