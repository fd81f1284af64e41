"""Benchmarks of `bedrock-top watch`, the headless monitor: its idle CPU at the default
interval (against the TUI's, measured in the same run), and its memory over simulated days of
polls with every built-in rule judging (flat is the goal).

    .venv/bin/python benchmarks/bench_watch.py            # full run, ~12 minutes
    .venv/bin/python benchmarks/bench_watch.py --quick    # tiny sizes (the smoke test)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench_tui import IDLE

from bedrock_top.alert_config import BUILTIN_RULES
from bedrock_top.alerting import AlertCenter
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.figures.alert_rules import AlertRule
from bedrock_top.figures.pricing import PriceTable, cost_function
from bedrock_top.figures.spikes import DEFAULT_RULES

RESULTS = Path(__file__).resolve().parent / "results"
START = 1_790_000_030.0
PRICES = PriceTable.load(cache_path=Path("/nonexistent/bedrock-top-bench-prices.json"))
# Rules that fire and resolve all day on the demo's traffic, so incidents churn.
CHURN = (
    AlertRule("busy", "inv_rate", ">", 20.0, repeat_s=600, clear_s=60),
    AlertRule("slow", "lat_p90", ">", 3000.0, for_s=120, repeat_s=900),
)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def watch_cpu(warm_s: float, seconds: float) -> float:
    """CPU seconds of `bedrock-top watch --demo --quiet` over ``seconds`` after ``warm_s``
    (start-up and the first poll), at the default interval (60 s)."""
    # Its own empty config: the built-in rules, whatever the user's config file says.
    config = Path(tempfile.mkdtemp(prefix="bench-watch-")) / "config.toml"
    config.write_text("", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bedrock_top", "watch", "--demo", "--quiet", "--config", config],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(warm_s)
        before = _cpu_seconds(proc.pid)
        time.sleep(seconds)
        spent = _cpu_seconds(proc.pid) - before
        if proc.poll() is not None:
            raise RuntimeError(f"watch ended early ({proc.returncode}): {proc.communicate()[1]}")
        return spent
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def tui_cpu(warm_s: float, seconds: float) -> float:
    """The same for the TUI (headless, measured inside the app): the baseline."""
    proc = subprocess.run(
        [sys.executable, "-c", IDLE, str(warm_s), str(seconds), "demo"],
        capture_output=True,
        text=True,
        check=True,
        timeout=warm_s + seconds + 60,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def idle_cpu(seconds: float, warm_s: float) -> dict[str, float]:
    watch = watch_cpu(warm_s, seconds)
    tui = tui_cpu(warm_s, seconds)
    return {
        "seconds": seconds,
        "watch_pct": 100 * watch / seconds,
        "tui_headless_pct": 100 * tui / seconds,
        "ratio": watch / max(tui, 1e-6),
    }


def memory(hours: float) -> dict[str, Any]:
    """Heap (tracemalloc) while polling the demo once a simulated minute for ``hours`` with
    the built-in rules and two churning ones judging every poll."""
    now = [START]

    def clock() -> float:
        return now[0]

    poller = Poller(
        {"us-east-1": DemoCloudWatch(seed=0, clock=clock)},
        PollSettings(),
        clock,
        cost_of=cost_function(PRICES),
    )
    center = AlertCenter((*BUILTIN_RULES, *CHURN), DEFAULT_RULES)
    events = 0
    samples: list[dict[str, float]] = []
    tracemalloc.start()
    polls = int(hours * 60)
    for n in range(1, polls + 1):
        events += len(center.judge(poller.poll()))
        now[0] += 60
        if n % max(1, polls // 8) == 0 or n == polls:
            gc.collect()
            parts = _heap_parts(tracemalloc.take_snapshot())
            samples.append(
                {
                    "hour": round(n / 60, 2),
                    **parts,
                    "tracked": center.book.tracked,
                    "history": len(center.book.history),
                }
            )
    tracemalloc.stop()
    later = [s for s in samples if s["hour"] >= min(2.0, hours / 2)]

    def growth(key: str) -> float:
        values = [s[key] for s in later]
        return max(values) - min(values) if values else 0.0

    return {
        "hours": hours,
        "polls": polls,
        "events": events,
        "samples": samples,
        "growth_mb": growth("heap_mb"),
        "alerts_growth_mb": growth("alerts_mb"),
        "monitor_growth_mb": growth("monitor_mb"),
    }


ALERT_FILES = ("alert_state.py", "alerting.py", "alert_figures.py", "alert_json.py", "spikes.py")


def _heap_parts(snapshot: tracemalloc.Snapshot) -> dict[str, float]:
    """The heap by who allocated it: the alert engine, the demo account's own data (the
    stand-in for CloudWatch, not part of the monitor), and the rest of the monitor."""
    alerts = demo = total = 0
    for stat in snapshot.statistics("filename"):
        name = stat.traceback[0].filename
        total += stat.size
        if "/bedrock_top/demo/" in name:
            demo += stat.size
        elif name.endswith(ALERT_FILES):
            alerts += stat.size
    return {
        "heap_mb": total / 1e6,
        "alerts_mb": alerts / 1e6,
        "demo_mb": demo / 1e6,
        "monitor_mb": (total - demo) / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args()
    results = {
        "machine": (
            f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "idle_cpu": idle_cpu(1, warm_s=2) if args.quick else idle_cpu(240, warm_s=10),
        "memory": memory(0.5) if args.quick else memory(24),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "watch-quick.json" if args.quick else "watch.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    i, m = results["idle_cpu"], results["memory"]
    print(f"machine: {results['machine']}")
    print(
        f"idle CPU over {i['seconds']:.0f} s at the default interval: watch {i['watch_pct']:.3f}% "
        f"of a core, TUI headless {i['tui_headless_pct']:.3f}% (ratio {i['ratio']:.2f})"
    )
    print(
        f"memory over {m['hours']:g} simulated hours ({m['polls']} polls, {m['events']} alert "
        f"events), growth after hour 2: alert engine {m['alerts_growth_mb']:.3f} MB, monitor "
        f"without the demo account {m['monitor_growth_mb']:.2f} MB, heap {m['growth_mb']:.2f} MB"
    )
    for s in m["samples"]:
        print(
            f"  hour {s['hour']:>5}: heap {s['heap_mb']:6.2f} MB (demo account "
            f"{s['demo_mb']:5.2f}, monitor {s['monitor_mb']:5.2f}, alert engine "
            f"{s['alerts_mb']:5.3f}), {s['tracked']} states, {s['history']} incidents kept"
        )
    print(f"written: {RESULTS / name}")


if __name__ == "__main__":
    main()
