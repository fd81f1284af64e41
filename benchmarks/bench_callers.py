"""Benchmarks of the callers view's figures: invocation log records parsed and summed per
caller, and the memory their state holds over a long session.

    .venv/bin/python benchmarks/bench_callers.py            # full run, ~1.5 minutes on 2 cores
    .venv/bin/python benchmarks/bench_callers.py --quick    # tiny sizes (the smoke test uses it)

Throughput is measured against a baseline in the same run: ``json.loads`` of the same
messages alone, the floor any parser of this JSON pays. Timings are medians of several runs.
Writes benchmarks/results/callers.json (callers-quick.json with --quick).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import Any

from bedrock_top.figures.callers import CallerAggregator, GroupBy, TokenPrices
from bedrock_top.figures.invocation_records import InvocationRecord, SkipCounter, parse_record

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import rss_mb

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
START = 1_790_000_040.0  # a minute boundary
PERIOD = 60
MODELS = (
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.nova-lite-v1:0",
    "meta.llama3-70b-instruct-v1:0",
)
SENTENCE = (
    "the quarterly report shows revenue growth across regions while costs held steady and "
    "the team asks for a summary of risks, open questions and next steps for the launch"
)
WORDS = tuple(SENTENCE.split())


def price_of(model_id: str) -> TokenPrices | None:
    return None if model_id.startswith("meta.") else (3e-6, 15e-6, 0.3e-6, 3.75e-6)


def text(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word + ("\n" if rng.random() < 0.05 else " "))
        size += len(word) + 1
    return "".join(words)


def message(rng: random.Random, i: int, at: float, callers: int) -> str:
    """A Converse record as Bedrock logs it, with a ~2 kB prompt and a ~600 B completion."""
    prompt, answer = text(rng, 2000), text(rng, 600)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"
    data: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": stamp,
        "accountId": "123456789012",
        "identity": {
            "arn": f"arn:aws:sts::123456789012:assumed-role/App{rng.randrange(callers)}/worker"
        },
        "region": "us-east-1",
        "requestId": f"{i:08x}-5561-4431-93b8-{rng.getrandbits(48):012x}",
        "operation": "Converse",
        "modelId": rng.choice(MODELS),
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {
                "messages": [{"role": "user", "content": [{"text": prompt}]}],
                "inferenceConfig": {"maxTokens": 512, "temperature": 0.7, "topP": 0.9},
            },
            "inputTokenCount": len(prompt) // 4,
            "cacheReadInputTokenCount": rng.choice((0, 0, 1024)),
            "cacheWriteInputTokenCount": 0,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
                "stopReason": "end_turn",
                "metrics": {"latencyMs": rng.randrange(200, 9000)},
                "usage": {"inputTokens": len(prompt) // 4, "outputTokens": len(answer) // 4},
            },
            "outputTokenCount": len(answer) // 4,
        },
    }
    if rng.random() < 0.5:
        data["requestMetadata"] = {"team": f"team-{rng.randrange(20)}", "env": "prod"}
    return json.dumps(data, indent=None)


def messages(n: int, callers: int) -> tuple[list[str], list[float]]:
    """``n`` messages over 30 minutes as a log tail delivers them, each with the ``now`` it
    arrives at: a few seconds late, 5% delivered twice, 0.5% truncated."""
    rng = random.Random(1)
    out: list[str] = []
    nows: list[float] = []
    span = 1800
    for i in range(n):
        now = START + span * i / n
        roll = rng.random()
        if out and roll < 0.05:
            out.append(out[rng.randrange(max(0, len(out) - 200), len(out))])
        elif roll < 0.055:
            out.append(message(rng, i, now - 3, callers)[: rng.randrange(10, 2000)])
        else:
            out.append(message(rng, i, now - rng.uniform(0, 20), callers))
        nows.append(now)
    return out, nows


def throughput(n: int, repeats: int, callers: int) -> dict[str, Any]:
    """Records per second: json.loads alone (baseline), parse_record, and parse_record plus
    CallerAggregator.add (what the live view does per log event), medians of ``repeats``."""
    texts, nows = messages(n, callers)
    ways: dict[str, list[float]] = {"baseline": [], "parse": [], "parse_and_add": []}
    counted: dict[str, Any] = {}
    for _ in range(repeats):
        for way, runs in ways.items():
            gc.collect()
            loads = json.loads
            t0 = time.perf_counter()
            if way == "baseline":
                for m in texts:
                    with suppress(ValueError):  # the truncated ones
                        loads(m)
            elif way == "parse":
                for m in texts:
                    parse_record(m)
            else:
                agg = CallerAggregator(3600, PERIOD, GroupBy("caller"))
                skips = SkipCounter()
                for m, now in zip(texts, nows, strict=True):
                    record = skips.take(parse_record(m))
                    if record is not None:
                        agg.add(record, now)
            runs.append(time.perf_counter() - t0)
            if way == "parse_and_add":
                stats = agg.stats
                counted = {
                    "records": stats.records,
                    "duplicates": stats.duplicates,
                    "skipped": skips.describe(),
                    "groups": stats.groups,
                }
    t0 = time.perf_counter()
    rows = agg.rows(nows[-1], price_of)
    rows_ms = (time.perf_counter() - t0) * 1000
    out: dict[str, Any] = {
        "messages": n,
        "mean_message_bytes": round(sum(len(m) for m in texts) / n),
        "repeats": repeats,
    }
    for way, runs in ways.items():
        out[f"{way}_records_per_s"] = round(n / statistics.median(runs))
    out["parse_ratio"] = statistics.median(ways["parse"]) / statistics.median(ways["baseline"])
    out["parse_and_add_ratio"] = statistics.median(ways["parse_and_add"]) / statistics.median(
        ways["baseline"]
    )
    out["goal_records_per_s"] = 20_000
    out["goal_met"] = out["parse_and_add_records_per_s"] >= 20_000
    out.update(counted)
    out["rows"] = len(rows)
    out["rows_ms"] = rows_ms
    return out


# --- memory over a long session -------------------------------------------------------------


def _session_here(records: int, hours: int, callers: int, trace: bool) -> dict[str, Any]:
    """Feed ``records`` records spread over ``hours`` simulated hours (1-hour window, 1-minute
    periods) and measure after every hour. Callers' ARNs and request ids are made afresh per
    record, as the parser makes them, so what the aggregator keeps is measured with it."""
    rng = random.Random(2)
    before = rss_mb()
    if trace:
        tracemalloc.start()
    agg = CallerAggregator(3600, PERIOD, GroupBy("caller"))
    recent: deque[InvocationRecord] = deque(maxlen=100)
    step = hours * 3600 / records
    per_hour = records // hours
    hourly: list[dict[str, Any]] = []
    for i in range(records):
        now = START + i * step
        if recent and rng.random() < 0.02:  # delivered again
            record = recent[rng.randrange(len(recent))]
        else:
            record = InvocationRecord(
                f"{i:08x}-5561-4431-93b8-{rng.getrandbits(48):012x}",
                now - rng.uniform(0, 30),
                f"arn:aws:sts::123456789012:assumed-role/App{rng.randrange(callers)}/worker",
                MODELS[rng.randrange(len(MODELS))],
                rng.randrange(50, 4000),
                rng.randrange(10, 1500),
                rng.choice((0, 0, 1024)),
                0,
                (),
            )
            recent.append(record)
        agg.add(record, now)
        if (i + 1) % per_hour == 0:
            gc.collect()
            stats = agg.stats
            sample: dict[str, float] = {
                "hour": (i + 1) // per_hour,
                "groups": stats.groups,
                "cells": stats.cells,
                "request_ids": stats.request_ids,
            }
            if trace:  # everything allocated since the aggregator was made and still alive
                sample["heap_mb"] = round(tracemalloc.get_traced_memory()[0] / 1e6, 2)
            else:
                sample["rss_mb"] = round(rss_mb(), 1)
            hourly.append(sample)
    t0 = time.perf_counter()
    rows = agg.rows(START + records * step, price_of)
    rows_ms = (time.perf_counter() - t0) * 1000
    stats = agg.stats
    return {
        "records": records,
        "hours": hours,
        "callers": callers,
        "records_counted": stats.records,
        "duplicates": stats.duplicates,
        "rss_before_mb": round(before, 1),
        "hourly": hourly,
        "rows": len(rows),
        "rows_ms": rows_ms,
    }


def memory(records: int, hours: int, callers: int) -> dict[str, Any]:
    """``_session_here`` in fresh processes: one for RSS, one under tracemalloc (which slows
    the run and adds its own memory, so the RSS run goes without it)."""
    runs = []
    for trace in ("rss", "heap"):
        proc = subprocess.run(
            [sys.executable, __file__, "--session", str(records), str(hours), str(callers), trace],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(proc.stdout))
    result: dict[str, Any] = runs[0]
    for rss, heap in zip(result["hourly"], runs[1]["hourly"], strict=True):
        rss["heap_mb"] = heap["heap_mb"]
    hourly = result["hourly"]
    settled = hourly[1:] or hourly  # the first hour fills the window
    result["rss_after_first_hour_mb"] = hourly[0]["rss_mb"]
    result["rss_end_mb"] = hourly[-1]["rss_mb"]
    result["rss_ratio"] = hourly[-1]["rss_mb"] / hourly[0]["rss_mb"]
    for kind in ("rss", "heap"):
        result[f"{kind}_settled_min_mb"] = min(h[f"{kind}_mb"] for h in settled)
        result[f"{kind}_settled_max_mb"] = max(h[f"{kind}_mb"] for h in settled)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--session", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.session:
        records, hours, callers, trace = args.session
        print(json.dumps(_session_here(int(records), int(hours), int(callers), trace == "heap")))
        return
    results: dict[str, Any] = {
        "machine": (
            f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "throughput": throughput(1_000, 2, 50) if args.quick else throughput(20_000, 5, 2_000),
        "memory": memory(20_000, 2, 500) if args.quick else memory(1_000_000, 24, 10_000),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "callers-quick.json" if args.quick else "callers.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    t = results["throughput"]
    print(f"machine: {results['machine']}")
    print(
        f"log records ({t['messages']:,} messages, {t['mean_message_bytes']:,} B on average, "
        f"median of {t['repeats']}): json.loads alone {t['baseline_records_per_s']:,}/s; "
        f"parse_record {t['parse_records_per_s']:,}/s ({t['parse_ratio']:.2f}x the time); "
        f"parse + aggregate {t['parse_and_add_records_per_s']:,}/s "
        f"({t['parse_and_add_ratio']:.2f}x the time; goal {t['goal_records_per_s']:,}/s "
        f"{'met' if t['goal_met'] else 'MISSED'}); {t['skipped']}; "
        f"rows() of {t['rows']:,} callers {t['rows_ms']:.1f} ms"
    )
    m = results["memory"]
    print(
        f"memory, {m['records']:,} records from {m['callers']:,} callers over {m['hours']} "
        f"simulated hours (1-hour window, 1-minute periods), RSS {m['rss_before_mb']:.1f} MB "
        f"before; hour by hour:"
    )
    for h in m["hourly"]:
        print(
            f"  hour {h['hour']:>2}: RSS {h['rss_mb']:6.1f} MB, aggregator heap "
            f"{h['heap_mb']:6.2f} MB, {h['groups']:,} groups, {h['cells']:,} cells, "
            f"{h['request_ids']:,} request ids"
        )
    print(
        f"  after the first hour (which fills the window): RSS {m['rss_settled_min_mb']:.1f}-"
        f"{m['rss_settled_max_mb']:.1f} MB, heap {m['heap_settled_min_mb']:.2f}-"
        f"{m['heap_settled_max_mb']:.2f} MB; RSS end / after the first hour "
        f"{m['rss_ratio']:.3f}; rows() of "
        f"{m['rows']:,} callers {m['rows_ms']:.0f} ms"
    )
    print(f"written: {RESULTS / name}")


if __name__ == "__main__":
    main()
