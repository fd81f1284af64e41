"""Benchmarks of the core (no terminal): API calls, monitoring cost, poll processing, memory.

    .venv/bin/python benchmarks/bench_core.py            # full run, a few minutes
    .venv/bin/python benchmarks/bench_core.py --quick    # tiny sizes (the smoke test uses it)

Every figure has a baseline measured in the same run; timings are medians of several runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bedrock_top.catalog import METRICS_BY_KEY, naive_metrics_per_model
from bedrock_top.demo import DemoCloudWatch
from bedrock_top.plan import MAX_QUERIES_PER_CALL
from bedrock_top.source import Poller, PollSettings

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
START = 1_790_000_030.0


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Wraps a backend and keeps every response, in order, for replay."""

    def __init__(self, inner: DemoCloudWatch) -> None:
        self.inner = inner
        self.responses: list[Mapping[str, Any]] = []
        self.queries: list[int] = []

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        response = self.inner.list_metrics(**kwargs)
        self.responses.append(response)
        return response

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        response = self.inner.get_metric_data(**kwargs)
        self.responses.append(response)
        self.queries.append(len(kwargs["MetricDataQueries"]))
        return response


class Replay:
    """Answers with recorded responses instantly: what remains is bedrock-top's own work."""

    def __init__(self, responses: list[Mapping[str, Any]]) -> None:
        self.responses = responses
        self.index = 0

    def _next(self) -> Mapping[str, Any]:
        response = self.responses[self.index]
        self.index += 1
        return response

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._next()

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._next()


def api_calls(models: int) -> dict[str, Any]:
    """GetMetricData calls and metrics of a first and a steady-state poll, vs one
    GetMetricStatistics call per model and published metric (what many scripts do)."""
    clock = Clock()
    backend = Recorder(DemoCloudWatch(seed=1, clock=clock, model_count=models))
    poller = Poller({"us-east-1": backend}, PollSettings(), clock=clock)
    out: dict[str, Any] = {"models": models}
    for label in ("first", "steady"):
        backend.queries.clear()
        poller.poll()
        queries = sum(backend.queries)
        out[f"{label}_calls"] = len(backend.queries)
        out[f"{label}_metrics"] = queries
        out[f"{label}_floor_calls"] = math.ceil(queries / MAX_QUERIES_PER_CALL)
        clock.now += 60
    region = poller.regions["us-east-1"]
    out["naive_calls"] = sum(len(s.metric_names) for s in region.models.values())
    out["ratio"] = out["steady_calls"] / out["naive_calls"]
    return out


def monitoring_cost(hours: float) -> dict[str, Any]:
    """Metrics requested per hour at default settings on the demo workload vs a naive poller
    asking every catalogue metric-statistic of every discovered model every interval."""
    clock = Clock()
    poller = Poller({"us-east-1": DemoCloudWatch(seed=0, clock=clock)}, PollSettings(), clock)
    polls = round(hours * 60)
    for _ in range(polls):
        poller.poll()
        clock.now += 60
    models = len(poller.regions["us-east-1"].models)
    ours = poller.usage().metrics_requested / hours
    naive = naive_metrics_per_model() * models * polls / hours
    active = [s for s in poller.regions["us-east-1"].models.values() if s.rings]
    return {
        "models": models,
        "metrics_per_hour": ours,
        "naive_metrics_per_hour": naive,
        "ratio": ours / naive,
        "usd_per_day": ours * 24 * 0.01 / 1000,
        "naive_usd_per_day": naive * 24 * 0.01 / 1000,
        "models_active_at_end": len(active),
    }


def processing(models: int, repeats: int) -> dict[str, Any]:
    """bedrock-top's own work for one poll (merge responses into series, compute every
    window figure and snapshot) with the backend's answers replayed from memory."""
    clock = Clock()
    recorder = Recorder(DemoCloudWatch(seed=1, clock=clock, model_count=models))
    live = Poller({"us-east-1": recorder}, PollSettings(), clock=clock)
    live.poll()
    first_responses = list(recorder.responses)
    recorder.responses.clear()
    clock.now += 60
    live.poll()
    steady_responses = list(recorder.responses)
    # The recorded answers stay alive for the replays; in real use each response is freed
    # after its poll. Keep them (and the demo's caches) out of the garbage collector's way
    # so that only bedrock-top's own work is measured.
    gc.collect()
    gc.freeze()
    first, steady = [], []
    for _ in range(repeats):
        clock.now = START
        replay = Replay(first_responses)
        poller = Poller({"us-east-1": replay}, PollSettings(), clock=clock)
        gc.collect()
        t0 = time.perf_counter()
        poller.poll()
        first.append(time.perf_counter() - t0)
        clock.now += 60
        replay.responses, replay.index = steady_responses, 0
        t0 = time.perf_counter()
        poller.poll()
        steady.append(time.perf_counter() - t0)
    gc.unfreeze()
    f, s = statistics.median(first) * 1000, statistics.median(steady) * 1000
    return {
        "models": models,
        "first_ms": f,
        "steady_ms": s,
        "steady_us_per_model": s * 1000 / models,
    }


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory(models: int, hours: float) -> dict[str, Any]:
    """Resident memory while polling for ``hours`` on a fast clock (one poll per simulated
    minute), in a fresh process: after the first window, then at the end."""
    runs = []
    for trace in ("rss", "heap"):  # tracemalloc slows polling and adds its own memory
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--memory",
                str(models),
                str(hours if trace == "rss" else min(hours, 4)),
                trace,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(proc.stdout))
    result: dict[str, Any] = runs[0]
    result["bedrock_top_hourly_heap_mb"] = runs[1]["bedrock_top_hourly_heap_mb"]
    return result


def _memory_here(models: int, hours: float, trace: bool) -> dict[str, Any]:
    if trace:
        tracemalloc.start()
    clock = Clock()
    poller = Poller(
        {"us-east-1": DemoCloudWatch(seed=1, clock=clock, model_count=models)},
        PollSettings(),
        clock=clock,
    )
    samples: list[tuple[float, float]] = []
    heap: list[float] = []
    polls = round(hours * 60)
    for i in range(polls):
        poller.poll()
        poller.snapshot()
        clock.now += 60
        if i % 60 == 59:
            gc.collect()
            samples.append(((i + 1) / 60, rss_mb()))
            if trace:  # what bedrock-top itself holds (not Python, boto3 or the demo)
                heap.append(_own_heap_mb())
    after_window = samples[0][1]
    end = samples[-1][1]
    return {
        "bedrock_top_hourly_heap_mb": [round(mb, 2) for mb in heap],
        "models": models,
        "hours": hours,
        "rss_after_first_window_mb": after_window,
        "rss_end_mb": end,
        "ratio": end / after_window,
        "hourly_mb": [round(mb, 1) for _, mb in samples],
    }


def _own_heap_mb() -> float:
    stats = tracemalloc.take_snapshot().statistics("filename")
    return (
        sum(
            s.size
            for s in stats
            if "bedrock_top" in s.traceback[0].filename and "demo" not in s.traceback[0].filename
        )
        / 1e6
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--memory", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        models, hours, trace = args.memory
        print(json.dumps(_memory_here(int(models), float(hours), trace == "heap")))
        return
    sizes = (10, 50) if args.quick else (10, 100, 1000, 5000)
    results: dict[str, Any] = {
        "machine": (
            f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "catalogue_metrics_per_model": naive_metrics_per_model(),
        "heartbeat_metrics": sum(1 for s in METRICS_BY_KEY.values() if s.heartbeat),
        "api_calls": [api_calls(n) for n in sizes],
        "monitoring_cost": monitoring_cost(0.25 if args.quick else 4),
        "processing": [processing(n, 2 if args.quick else 5) for n in sizes],
        "memory": memory(10 if args.quick else 100, 2 if args.quick else 24),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "core-quick.json" if args.quick else "core.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    print(f"machine: {results['machine']}")
    print("API calls per poll (steady state) vs one GetMetricStatistics per model and metric:")
    for r in results["api_calls"]:
        print(
            f"  {r['models']:>5} models: {r['steady_calls']:>3} calls / {r['steady_metrics']:>6} "
            f"metrics (floor {r['steady_floor_calls']}), first poll {r['first_calls']} calls / "
            f"{r['first_metrics']} metrics (floor {r['first_floor_calls']}); naive "
            f"{r['naive_calls']} calls (ratio {r['ratio']:.4f})"
        )
    c = results["monitoring_cost"]
    print(
        f"monitoring cost: {c['metrics_per_hour']:.0f} metrics/h (USD {c['usd_per_day']:.2f}/day)"
        f" vs naive {c['naive_metrics_per_hour']:.0f} (USD {c['naive_usd_per_day']:.2f}/day): "
        f"ratio {c['ratio']:.3f} over {c['models']} models"
    )
    print("poll processing (responses replayed from memory, median):")
    for r in results["processing"]:
        print(
            f"  {r['models']:>5} models: first poll {r['first_ms']:8.1f} ms, steady poll "
            f"{r['steady_ms']:7.1f} ms ({r['steady_us_per_model']:.0f} us/model)"
        )
    m = results["memory"]
    print(
        f"memory, {m['models']} models over {m['hours']:.0f} simulated hours: "
        f"{m['rss_after_first_window_mb']:.1f} MB after the first window, "
        f"{m['rss_end_mb']:.1f} MB at the end (ratio {m['ratio']:.3f}); bedrock-top's own "
        f"objects hour by hour {m['bedrock_top_hourly_heap_mb']} MB (the rest: Python, boto3, "
        "and the demo backend's caches filling up to their bounds)"
    )
    print(f"written: {RESULTS / name}")


if __name__ == "__main__":
    main()
