"""Benchmarks of the live TUI (issue floors), each against a baseline measured in the same run.

    .venv/bin/python benchmarks/bench_tui.py            # full run, ~2.5 minutes
    .venv/bin/python benchmarks/bench_tui.py --quick    # tiny sizes (the smoke test uses it)

Prints a table and writes benchmarks/results/tui.json. Timings on shared machines are
noisy: every figure is the median of several runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import DataTable

from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.config import Settings
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.totals import account_totals
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.charts import ChartBox
from bedrock_top.views.view import column_styles, row_cells, visible_rows

# Made-up models at scale, shared with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.demo_models import synthetic_profiles

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
START = 1_790_000_030.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def _app(models: int, clock: Clock, backend: DemoCloudWatch | None = None) -> BedrockTopApp:
    backend = backend or DemoCloudWatch(seed=1, clock=clock, profiles=synthetic_profiles(1, models))
    poller = Poller({"us-east-1": backend}, PollSettings(), clock=clock)
    return BedrockTopApp(Settings(demo=True), poller, clock=clock)


class StockTable(DataTable[Text]):
    """Baseline: Textual's DataTable updated cell by cell (what bedrock-top used first)."""

    def load(self, app: BedrockTopApp, snapshot: Snapshot) -> int:
        rows = visible_rows(snapshot, app.view)
        slots = app.table.shown_columns
        if not self.columns:
            for col in slots:
                self.add_column(app.table.header_label(col.key), width=col.width, key=col.key)
        changed = 0
        styles = column_styles(slots, rows, snapshot.window_end - snapshot.window_start)
        for row in rows:
            plain = row_cells(row, snapshot, app.view, slots, styles)
            cells = {key: Text(text) for key, text in plain.items()}
            if row.key not in self.rows:
                self.add_row(*cells.values(), key=row.key)
                continue
            for key, text in cells.items():
                if self.get_cell(row.key, key) != text:
                    self.update_cell(row.key, key, text)
                    changed += 1
        return changed


def render_visible(widget: Widget) -> None:
    """Produce every visible line, as the compositor would after an update."""
    for y in range(widget.size.height):
        widget.render_line(y)


def render_charts(app: BedrockTopApp) -> None:
    """Draw every chart on screen (the totals graphs and the selected model's pane)."""
    for box in app.query(ChartBox):
        if box.display and box.data is not None:
            box.render()


async def screen_update(models: int, repeats: int) -> dict[str, float]:
    """Time to apply one new poll to the screen and render the visible rows: bedrock-top's
    table vs Textual's DataTable fed the same cells (the baseline)."""
    clock = Clock()
    app = _app(models, clock)
    ours, stock = [], []
    async with app.run_test(size=(200, 60)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        baseline = StockTable()
        await app.mount(baseline, before=app.table)
        baseline.styles.height = 58
        app.table.display = False
        assert app.snapshot is not None
        baseline.load(app, app.snapshot)
        await pilot.pause()
        snapshots = []
        for _ in range(repeats):
            clock.now += 60
            snapshots.append(app.poller.poll())
        for snap in snapshots:
            t0 = time.perf_counter()
            baseline.load(app, snap)
            render_visible(baseline)
            stock.append(time.perf_counter() - t0)
        app.table.display = True
        baseline.display = False
        await pilot.pause()
        totals = [account_totals(snap) for snap in snapshots]  # done in the poll thread
        for snap, total in zip(snapshots, totals, strict=True):
            t0 = time.perf_counter()
            app._accept(snap, total)  # spikes, filter/sort, patch the table and the panels
            render_visible(app.table)
            render_charts(app)
            ours.append(time.perf_counter() - t0)
            await pilot.pause()
    o, s = statistics.median(ours) * 1000, statistics.median(stock) * 1000
    return {"models": models, "ours_ms": o, "datatable_ms": s, "ratio": o / s}


class SlowDemo(DemoCloudWatch):
    """GetMetricData keeps the CPU busy (as parsing a large response would) until released,
    keeping a poll in flight that competes with the UI thread for the interpreter."""

    def __init__(self, clock: Clock, models: int) -> None:
        super().__init__(seed=1, clock=clock, profiles=synthetic_profiles(1, models))
        self.release = threading.Event()

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while not self.release.is_set() and time.monotonic() < deadline:
            sum(range(20_000))  # pure-Python work: holds the GIL between switches
        return super().get_metric_data(**kwargs)


async def key_latency(models: int, presses: int) -> dict[str, float]:
    """Key event posted -> its action running, while a poll is in flight vs when idle.

    Measured inside the app (no Pilot overhead): the time from posting a key event to the
    start of the action it is bound to, for a key that redraws a table column (``s``)."""
    clock = Clock()
    backend = SlowDemo(clock, models)
    app = _app(models, clock, backend)
    handled: list[float] = []
    original = app.action_spark

    def timed_spark() -> None:
        handled.append(time.perf_counter())
        original()

    app.action_spark = timed_spark  # type: ignore[method-assign]

    async def measure(pilot: Any) -> float:
        samples = []
        for _ in range(presses):
            handled.clear()
            sent = time.perf_counter()
            app.post_message(events.Key("s", "s"))
            while not handled:
                await asyncio.sleep(0.0005)
            samples.append(handled[0] - sent)
            await pilot.pause()
        return statistics.median(samples) * 1000

    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert app.in_flight
        busy = await measure(pilot)
        assert app.in_flight  # still in flight: the keys did not wait for it
        backend.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        idle = await measure(pilot)
    return {"models": models, "in_flight_ms": busy, "idle_ms": idle, "ratio": busy / idle}


def startup(runs: int) -> dict[str, float]:
    """Command to first rows on screen (headless demo), vs the Python + boto3 + Textual import
    floor, each in a fresh process."""
    script = (
        "import sys, time\n"
        "t0 = float(sys.argv[1])\n"
        "from bedrock_top.arguments import parse_settings\n"
        "from bedrock_top.assemble import make_clients, make_quota_keeper\n"
        "from bedrock_top.assemble import poll_settings\n"
        "from bedrock_top.cloudwatch.source import Poller\n"
        "from bedrock_top.tui.app import BedrockTopApp\n"
        "class Timed(BedrockTopApp):\n"
        "    def _accept(self, snapshot, totals):\n"
        "        super()._accept(snapshot, totals)\n"
        "        if self.table.row_count:\n"
        "            self.call_after_refresh(self._done)\n"
        "    def _done(self):\n"
        "        print(time.time() - t0, flush=True)\n"
        "        self.exit(0)\n"
        "s = parse_settings(['--demo'])\n"
        "p = Poller(make_clients(s), poll_settings(s))\n"
        "q = make_quota_keeper(s, tuple(p.regions), p.clients())\n"
        "Timed(s, p, quotas=q).run(headless=True)\n"
    )
    floor = (
        "import sys, time; t0 = float(sys.argv[1]); import boto3, textual.app; "
        "print(time.time() - t0)"
    )
    once = [sys.executable, "-m", "bedrock_top", "--demo", "--once", "--format", "json"]
    rows, imports, once_s = [], [], []
    for _ in range(runs):
        for code, out in ((script, rows), (floor, imports)):
            proc = subprocess.run(
                [sys.executable, "-c", code, repr(time.time())],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            out.append(float(proc.stdout.strip().splitlines()[-1]))
        t0 = time.perf_counter()
        subprocess.run(once, capture_output=True, check=True, timeout=60)
        once_s.append(time.perf_counter() - t0)
    r, f = statistics.median(rows), statistics.median(imports)
    once_median = statistics.median(once_s)
    return {"first_rows_s": r, "import_floor_s": f, "ratio": r / f, "once_s": once_median}


IDLE = """
import sys, time
warm, seconds, kind = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if kind == "demo":
    from bedrock_top.assemble import make_poller
    from bedrock_top.arguments import parse_settings
    from bedrock_top.tui.app import BedrockTopApp
    s = parse_settings(["--demo"])
    app = BedrockTopApp(s, make_poller(s))
else:
    from textual.app import App
    from textual.widgets import Footer, Static
    class Bare(App):
        def compose(self):
            yield Static("idle")
            yield Footer()
    app = Bare()
marks = []
def start():
    marks.append(time.process_time())
    app.set_timer(seconds, stop)
def stop():
    print(time.process_time() - marks[0], flush=True)
    app.exit()
app.call_later(lambda: app.set_timer(warm, start))
app.run(headless=True)
"""
# The baseline in a terminal: an empty Textual app (a line and a footer), polling nothing.
BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Static
class Bare(App):
    def compose(self):
        yield Static("idle")
        yield Footer()
Bare().run()
"""


def _tmux_cpu(warm_s: float, seconds: float, bare: bool = False) -> float | None:
    """CPU seconds of `bedrock-top --demo` (or, ``bare``, an empty Textual app) in a real
    (tmux) terminal over ``seconds`` after ``warm_s``; None when tmux is not installed."""
    if shutil.which("tmux") is None:
        return None
    session = f"bench-{os.getpid()}"
    if bare:
        command = f"{sys.executable} -c {shlex.quote(BARE_APP)}"
    else:
        command = f"{sys.executable} -m bedrock_top --demo"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40", command],
                   check=True)  # fmt: skip
    try:
        time.sleep(1)
        panes = ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"]
        pid = subprocess.run(panes, capture_output=True, text=True, check=True).stdout.split()[0]
        time.sleep(max(0.0, warm_s - 1))
        tick = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

        before = cpu()
        time.sleep(seconds)
        return cpu() - before
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def idle_cpu(seconds: float, warm_s: float = 10) -> dict[str, float]:
    """CPU of the running demo TUI at the default interval over ``seconds`` (after ``warm_s``
    for start-up and the first poll), as % of one core: headless (measured inside the app),
    in a real terminal (tmux, when installed), and an empty Textual app as the baseline."""
    out: dict[str, float] = {"seconds": seconds}
    for kind in ("demo", "bare"):
        proc = subprocess.run(
            [sys.executable, "-c", IDLE, str(warm_s), str(seconds), kind],
            capture_output=True, text=True, check=True, timeout=warm_s + seconds + 60,
        )  # fmt: skip
        out[f"{kind}_pct"] = 100 * float(proc.stdout.strip().splitlines()[-1]) / seconds
    terminal = _tmux_cpu(warm_s, seconds)
    if terminal is not None:
        out["demo_terminal_pct"] = 100 * terminal / seconds
        bare = _tmux_cpu(warm_s, seconds, bare=True)
        out["bare_terminal_pct"] = 100 * (bare or 0.0) / seconds
    out["ratio"] = out["demo_pct"] / max(out["bare_pct"], 1e-3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args()
    sizes = (10,) if args.quick else (50, 200, 1000)
    repeats = 3 if args.quick else 7
    results: dict[str, Any] = {
        "machine": (
            f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "screen_update": [asyncio.run(screen_update(n, repeats)) for n in sizes],
        "key_latency": asyncio.run(key_latency(sizes[-1] if args.quick else 200, repeats)),
        "startup": startup(1 if args.quick else 5),
        "idle_cpu": idle_cpu(1, warm_s=1) if args.quick else idle_cpu(60),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "tui-quick.json" if args.quick else "tui.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    print(f"machine: {results['machine']}")
    print("screen update (one poll applied and the visible rows rendered, median):")
    for r in results["screen_update"]:
        print(
            f"  {r['models']:>5} rows: bedrock-top {r['ours_ms']:7.1f} ms   "
            f"stock DataTable {r['datatable_ms']:7.1f} ms   ratio {r['ratio']:.2f}"
        )
    k = results["key_latency"]
    print(
        f"key press ({k['models']} rows): {k['in_flight_ms']:.1f} ms with a poll in flight, "
        f"{k['idle_ms']:.1f} ms idle (ratio {k['ratio']:.2f})"
    )
    s = results["startup"]
    print(
        f"startup: first rows {s['first_rows_s']:.2f} s, import floor {s['import_floor_s']:.2f} s "
        f"(ratio {s['ratio']:.1f}); --once {s['once_s']:.2f} s"
    )
    i = results["idle_cpu"]
    terminal = i.get("demo_terminal_pct")
    shown = ""
    if terminal is not None:
        shown = f", in a tmux terminal {terminal:.2f}% (empty app {i['bare_terminal_pct']:.2f}%)"
    print(
        f"idle CPU over {i['seconds']:.0f} s: demo {i['demo_pct']:.2f}% of a core headless{shown}; "
        f"empty Textual app {i['bare_pct']:.2f}% (ratio {i['ratio']:.2f})"
    )
    print(f"written: {RESULTS / name}")


if __name__ == "__main__":
    main()
