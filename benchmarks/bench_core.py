"""Benchmarks of the core (no terminal): API calls, monitoring cost, poll processing (alone,
with the other views' rows, and end to end through botocore), memory.

    .venv/bin/python benchmarks/bench_core.py            # full run, ~5 minutes on 2 cores
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
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.parsers import create_parser
from botocore.serialize import JSONSerializer

from bedrock_top.cloudwatch import wire
from bedrock_top.cloudwatch.discovery import CloudWatchClient
from bedrock_top.cloudwatch.plan import MAX_QUERIES_PER_CALL
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.cloudwatch.surface_poll import SurfacePoll
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.demo.quotas import DemoQuotaClients
from bedrock_top.figures.catalog import METRICS_BY_KEY, naive_metrics_per_model
from bedrock_top.figures.pricing import PriceTable, cost_function
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.surfaces import MODELS_VIEW, SURFACES_BY_NAME, VIEW_NAMES
from bedrock_top.services import aws
from bedrock_top.services.quota_fetch import QuotaSource
from bedrock_top.services.quota_keeper import QuotaKeeper

# Made-up models and view rows at scale, shared with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.demo_models import synthetic_profiles
from support.demo_views import ViewMix, ViewsCloudWatch

ROOT = Path(__file__).resolve().parent
# The bundled price table, as the app polls with (a user's refreshed cache left out).
PRICES = PriceTable.load(cache_path=Path("/nonexistent/bedrock-top-bench-prices.json"))
RESULTS = ROOT / "results"
START = 1_790_000_030.0
# 1,000 rows over every view (50 for --quick): models, Mantle project x model
# pairs, guardrail versions, agent aliases x models, knowledge bases, batch models.
VIEW_MIX = ViewMix(
    models=400, mantle=150, guardrails=150, agents=100, knowledge_bases=100, batch=100
)
QUICK_VIEW_MIX = ViewMix(models=20, mantle=8, guardrails=7, agents=5, knowledge_bases=5, batch=5)
# Each view in turn on screen (polled in full), the others on heartbeat.
VISIBLE_VIEWS = VIEW_NAMES


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Wraps a backend and keeps every response, in order, for replay."""

    def __init__(self, inner: CloudWatchClient) -> None:
        self.inner = inner
        self.responses: list[Mapping[str, Any]] = []
        self.queries: list[int] = []
        self.namespaces: Counter[str] = Counter()  # queries per namespace

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        response = self.inner.list_metrics(**kwargs)
        self.responses.append(response)
        return response

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        response = self.inner.get_metric_data(**kwargs)
        self.responses.append(response)
        self.queries.append(len(kwargs["MetricDataQueries"]))
        self.namespaces.update(
            q["MetricStat"]["Metric"]["Namespace"] for q in kwargs["MetricDataQueries"]
        )
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
    backend = Recorder(DemoCloudWatch(seed=1, clock=clock, profiles=synthetic_profiles(1, models)))
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


def monitoring_cost(hours: float, quotas: bool = True, views: bool = False) -> dict[str, Any]:
    """Metrics requested per hour at default settings on the demo workload (with the demo
    account's quotas, as the live monitor reads them) vs a naive poller asking every
    catalogue metric-statistic of every discovered model every interval. ``views``: as the
    live monitor runs, every other view kept on its heartbeat, against a naive poller that
    also asks every metric-statistic of every view row."""
    clock = Clock()
    settings = PollSettings(views=VIEW_NAMES) if views else PollSettings()
    poller = Poller({"us-east-1": DemoCloudWatch(seed=0, clock=clock)}, settings, clock)
    keeper = None
    if quotas:
        demo = DemoQuotaClients(seed=0, clock=clock)
        source = QuotaSource("us-east-1", lambda: (demo, demo, demo), None, clock)
        keeper = QuotaKeeper({"us-east-1": source}, clock=clock)
    polls = round(hours * 60)
    for _ in range(polls):
        poller.poll()
        if keeper is not None:  # as the app: after the poll, when due
            keeper.update(poller)
        clock.now += 60
    region = poller.regions["us-east-1"]
    models = len(region.models)
    ours = poller.usage().metrics_requested / hours
    per_poll = naive_metrics_per_model() * models + naive_view_metrics(region.surfaces)
    naive = per_poll * polls / hours
    active = [s for s in poller.regions["us-east-1"].models.values() if s.rings]
    return {
        "models": models,
        "metrics_per_hour": ours,
        "naive_metrics_per_hour": naive,
        "ratio": ours / naive,
        "usd_per_day": ours * 24 * 0.01 / 1000,
        "naive_usd_per_day": naive * 24 * 0.01 / 1000,
        "models_active_at_end": len(active),
        "quotas": quotas,
        "views": views,
        "view_rows": sum(len(v.rows) for v in region.surfaces.listings.values()),
    }


def naive_view_metrics(surfaces: SurfacePoll) -> int:
    """What a naive poller asks per poll of the views: every spelling of every measure, with
    every statistic and percentile, for every row, and every roll-up series."""
    total = 0
    for name, listing in surfaces.listings.items():
        spec = SURFACES_BY_NAME[name]
        per_row = sum(
            len(m.names) * (len(m.period_stats) + len(m.percentiles)) for m in spec.measures
        )
        total += per_row * len(listing.rows) + len(listing.rollups)
    return total


class Recorded(NamedTuple):
    """A first and a steady-state poll as recorded: the answers in call order (timestamps as
    epoch seconds), the queries of each GetMetricData call, the steady poll's queries per
    namespace, and the steady poll's snapshot."""

    first: list[Mapping[str, Any]]
    steady: list[Mapping[str, Any]]
    first_queries: list[int]
    steady_queries: list[int]
    steady_namespaces: dict[str, int]
    snapshot: Snapshot


def record_polls(
    backend_for: Callable[[Clock], CloudWatchClient], settings: PollSettings
) -> Recorded:
    """A backend's answers to a first and a steady-state poll, in call order, as bedrock-top's
    own clients deliver them: timestamps as epoch seconds (``wire``), not the datetimes of
    boto3's default parsing (and of the demo)."""
    clock = Clock()
    recorder = Recorder(backend_for(clock))
    live = Poller({"us-east-1": recorder}, settings, clock=clock)
    live.poll()
    first, first_queries = list(recorder.responses), list(recorder.queries)
    recorder.responses.clear()
    recorder.queries.clear()
    recorder.namespaces.clear()
    clock.now += 60
    snapshot = live.poll()
    return Recorded(
        [epoch_stamps(r) for r in first],
        [epoch_stamps(r) for r in recorder.responses],
        first_queries,
        list(recorder.queries),
        dict(recorder.namespaces),
        snapshot,
    )


def record(models: int) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The demo backend's answers to a first and a steady-state poll (``record_polls``)."""
    recorded = record_polls(
        lambda clock: DemoCloudWatch(seed=1, clock=clock, profiles=synthetic_profiles(1, models)),
        PollSettings(),
    )
    return recorded.first, recorded.steady


def epoch_stamps(response: Mapping[str, Any]) -> Mapping[str, Any]:
    if "MetricDataResults" not in response:
        return response
    results = [
        {**r, "Timestamps": [int(ts.timestamp()) for ts in r["Timestamps"]]}
        for r in response["MetricDataResults"]
    ]
    return {**response, "MetricDataResults": results}


def processing(models: int, repeats: int) -> dict[str, Any]:
    """bedrock-top's own work for one poll (merge responses into series, compute every
    window figure and snapshot) with the backend's answers replayed from memory."""
    first_responses, steady_responses = record(models)
    f, s = replayed_polls(first_responses, steady_responses, PollSettings(), repeats)
    return {
        "models": models,
        "first_ms": f,
        "steady_ms": s,
        "steady_us_per_model": s * 1000 / models,
    }


def replayed_polls(
    first_responses: list[Mapping[str, Any]],
    steady_responses: list[Mapping[str, Any]],
    settings: PollSettings,
    repeats: int,
) -> tuple[float, float]:
    """Median milliseconds of a first and a steady poll (each with its snapshot) on a fresh
    poller, the recorded answers replayed from memory: bedrock-top's own work."""
    clock = Clock()
    # The recorded answers stay alive for the replays; in real use each response is freed
    # after its poll. Keep them (and the demo's caches) out of the garbage collector's way
    # so that only bedrock-top's own work is measured.
    gc.collect()
    gc.freeze()
    first, steady = [], []
    for _ in range(repeats):
        clock.now = START
        replay = Replay(first_responses)
        poller = Poller({"us-east-1": replay}, settings, clock=clock, cost_of=cost_function(PRICES))
        gc.collect()
        t0 = time.perf_counter()
        poller.poll()
        first.append(time.perf_counter() - t0)
        assert replay.index == len(first_responses)  # the same calls as when recorded
        clock.now += 60
        replay.responses, replay.index = steady_responses, 0
        t0 = time.perf_counter()
        poller.poll()
        steady.append(time.perf_counter() - t0)
        assert replay.index == len(steady_responses)
    gc.unfreeze()
    return statistics.median(first) * 1000, statistics.median(steady) * 1000


def views_processing(
    mix: ViewMix, visible: str, repeats: int, baseline: Mapping[str, Any]
) -> dict[str, Any]:
    """``processing`` for rows spread over every view: ``visible`` polled in full, the
    others (models included, when another view is on screen) for their heartbeat, all their
    queries in the same GetMetricData calls; the answers of ``ViewsCloudWatch`` (the demo
    for the models, made-up rows for the views) replayed from memory. ``baseline``: the
    same run's ``processing`` of as many models alone."""
    settings = PollSettings(views=VIEW_NAMES, visible=visible)
    recorded = record_polls(
        lambda clock: ViewsCloudWatch(
            DemoCloudWatch(seed=1, clock=clock, profiles=synthetic_profiles(1, mix.models)),
            mix,
            clock,
        ),
        settings,
    )
    snapshot = recorded.snapshot
    rows = {MODELS_VIEW: len(snapshot.rows)}
    rows.update({name: len(view.rows) for name, view in snapshot.surfaces.items()})
    wanted = {name.replace("_", "-"): n for name, n in mix.to_dict().items()}
    assert rows == wanted, (rows, wanted)  # every row discovered, none twice
    assert all(v.full == (name == visible) for name, v in snapshot.surfaces.items())
    checks = [c for v in snapshot.surfaces.values() for c in v.checks]
    f, s = replayed_polls(recorded.first, recorded.steady, settings, repeats)
    out: dict[str, Any] = {"visible": visible, "rows": sum(rows.values())}
    for label, queries in (("first", recorded.first_queries), ("steady", recorded.steady_queries)):
        metrics = sum(queries)
        out[f"{label}_calls"] = len(queries)
        out[f"{label}_metrics"] = metrics
        out[f"{label}_floor_calls"] = math.ceil(metrics / MAX_QUERIES_PER_CALL)
        out[f"{label}_at_floor"] = len(queries) == out[f"{label}_floor_calls"]
    out["steady_metrics_by_namespace"] = recorded.steady_namespaces
    out["rollup_checks"] = len(checks)
    out["rollup_checks_agree"] = all(c.agree for c in checks)
    out["first_ms"], out["steady_ms"] = f, s
    out["steady_us_per_row"] = s * 1000 / out["rows"]
    out["baseline_models"] = baseline["models"]
    out["first_ratio"] = f / baseline["first_ms"]
    out["steady_ratio"] = s / baseline["steady_ms"]
    return out


# --- end to end: a real botocore client, its HTTP answers replayed as bytes ------------------

HEADERS = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench"}
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/bedrock-top-bench",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/bedrock-top-bench",
}
# boto3's defaults: botocore validates every request and parses every answer in Python.
STOCK_CONFIG = aws.CLIENT_CONFIG.merge(Config(parameter_validation=True))


def cloudwatch_client(ours: bool) -> Any:
    """A real client with dummy credentials and an endpoint never contacted: bedrock-top's
    (``aws``: ``wire``'s decoding, no parameter validation) or botocore's stock one."""
    os.environ.update(DUMMY_AWS)
    if ours:
        client = aws.make_cloudwatch_client(None, "us-east-1", "http://127.0.0.1:1")
    else:
        client = aws.make_session(None).client(
            "cloudwatch", "us-east-1", endpoint_url="http://127.0.0.1:1", config=STOCK_CONFIG
        )
    assert client.meta.service_model.resolved_protocol == wire.PROTOCOL
    return client


def wire_body(response: Mapping[str, Any]) -> bytes:
    """A recorded answer as CloudWatch sends it (JSON), by botocore's own serializer."""
    model = botocore.session.get_session().get_service_model("cloudwatch")
    operation = "GetMetricData" if "MetricDataResults" in response else "ListMetrics"
    serialized: dict[str, Any] = {}
    shape = model.operation_model(operation).output_shape
    JSONSerializer()._serialize(serialized, response, shape)  # type: ignore[attr-defined]
    return json.dumps(serialized).encode()


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


class WireReplay:
    """A ``before-send`` handler: answers each request with the next body, so a client runs
    all of botocore (validation, serialization, signing, retries, parsing) but the network."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.bodies: list[bytes] = []
        self.index = 0
        client.meta.events.register("before-send.cloudwatch", self)

    def play(self, bodies: list[bytes]) -> None:
        self.bodies, self.index = bodies, 0

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse:
        self.index += 1
        headers: Any = HEADERS
        return AWSResponse(request.url, 200, headers, _Raw(self.bodies[self.index - 1]))


class BytesReplay:
    """Answers with ``wire``'s decoding of the recorded bytes, called as botocore calls it:
    decoding and bedrock-top's own work, without botocore's request serialization."""

    def __init__(self) -> None:
        service = cloudwatch_client(True).meta.service_model
        decoders = {name: wire.decoder(service.operation_model(name)) for name in wire.OPERATIONS}
        assert all(decoders.values())
        self.decoders: dict[str, Any] = decoders
        self.bodies: list[bytes] = []
        self.index = 0

    def play(self, bodies: list[bytes]) -> None:
        self.bodies, self.index = bodies, 0

    def _next(self, operation: str) -> dict[str, Any]:
        response = {"status_code": 200, "headers": HEADERS, "body": self.bodies[self.index]}
        self.index += 1
        custom: dict[str, Any] = {}
        self.decoders[operation](response_dict=response, customized_response_dict=custom)
        return custom

    def list_metrics(self, **kwargs: Any) -> dict[str, Any]:
        return self._next("ListMetrics")

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        return self._next("GetMetricData")


WAYS = ("own", "bytes", "end_to_end", "botocore")


def end_to_end(models: int, repeats: int) -> dict[str, Any]:
    """A steady poll (median), its answers given (own) parsed, as bedrock-top's clients give
    them: bedrock-top's own work; (bytes) as JSON bytes decoded by ``wire``: from answer bytes
    to figures; (end_to_end) as bytes to a client made by ``aws``: everything but the network;
    (botocore) as bytes to botocore's stock client (its parsing and parameter validation).
    The first poll, which only sets the series up, replays parsed answers in all four."""
    first, steady = record(models)
    bodies = [wire_body(r) for r in steady]
    decoded = BytesReplay()
    wires = {"end_to_end": WireReplay(cloudwatch_client(True))}
    wires["botocore"] = WireReplay(cloudwatch_client(False))
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(repeats):
        for way, runs in times.items():
            clock = Clock()
            replay = Replay(first)
            poller = Poller(
                {"us-east-1": replay}, PollSettings(), clock=clock, cost_of=cost_function(PRICES)
            )
            poller.poll()
            clock.now += 60
            replay.responses, replay.index = steady, 0
            played: Any = {"bytes": decoded, **wires}.get(way, replay)
            if played is not replay:
                played.play(bodies)
            poller.regions["us-east-1"].client = getattr(played, "client", played)
            gc.collect()
            t0 = time.perf_counter()
            poller.poll()
            runs.append(time.perf_counter() - t0)
            assert played.index == len(steady)
    out: dict[str, Any] = {"models": models}
    for way, runs in times.items():
        ms = statistics.median(runs) * 1000
        out[f"{way}_ms"], out[f"{way}_us_per_model"] = ms, ms * 1000 / models
    out["ratio"] = out["end_to_end_ms"] / out["botocore_ms"]
    return out


def one_call(models: int, repeats: int) -> dict[str, Any]:
    """Parsing the biggest steady-state GetMetricData answer: botocore vs ``wire``'s handler
    then botocore's (now trivial) parse, as the client runs them."""
    _, steady = record(models)
    response = max(steady, key=lambda r: len(r.get("MetricDataResults", ())))
    body = wire_body(response)
    operation = cloudwatch_client(False).meta.service_model.operation_model("GetMetricData")
    decode, parser = wire.decoder(operation), create_parser(wire.PROTOCOL)
    assert decode is not None
    ways: dict[str, list[float]] = {"botocore": [], "hook": []}
    for _ in range(repeats):
        for way, runs in ways.items():
            answer = {"status_code": 200, "headers": HEADERS, "body": body}
            custom: dict[str, Any] = {}
            t0 = time.perf_counter()
            if way == "hook":
                decode(response_dict=answer, customized_response_dict=custom)
            parser.parse(answer, operation.output_shape).update(custom)
            runs.append(time.perf_counter() - t0)
    b, h = (statistics.median(ways[w]) * 1000 for w in ("botocore", "hook"))
    return {
        "queries": len(response["MetricDataResults"]),
        "bytes": len(body),
        "botocore_ms": b,
        "hook_ms": h,
        "ratio": h / b,
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
        {"us-east-1": DemoCloudWatch(seed=1, clock=clock, profiles=synthetic_profiles(1, models))},
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
        "monitoring_cost_without_quotas": monitoring_cost(0.25 if args.quick else 4, False),
        "monitoring_cost_with_views": monitoring_cost(0.25 if args.quick else 4, True, True),
        "processing": [processing(n, 2 if args.quick else 5) for n in sizes],
        "end_to_end": [end_to_end(n, 2 if args.quick else 5) for n in sizes],
        "one_call": one_call(50 if args.quick else 1000, 3 if args.quick else 20),
        "memory": memory(10 if args.quick else 100, 2 if args.quick else 24),
    }
    mix = QUICK_VIEW_MIX if args.quick else VIEW_MIX
    repeats = 2 if args.quick else 5
    # The baseline: as many models alone, measured in this run (processing's own figure).
    baseline = next((r for r in results["processing"] if r["models"] == mix.rows), None)
    results["views_processing"] = {
        "mix": mix.to_dict(),
        "baseline": baseline or processing(mix.rows, repeats),
    }
    results["views_processing"]["visible"] = [
        views_processing(mix, visible, repeats, results["views_processing"]["baseline"])
        for visible in VISIBLE_VIEWS
    ]
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
    v = results["monitoring_cost_with_views"]
    print(
        f"  with every view on heartbeat ({v['view_rows']} view rows): "
        f"{v['metrics_per_hour']:.0f} metrics/h vs naive {v['naive_metrics_per_hour']:.0f}: "
        f"ratio {v['ratio']:.3f}"
    )
    print("poll processing (parsed answers replayed from memory, timestamps as numbers, median):")
    for r in results["processing"]:
        print(
            f"  {r['models']:>5} models: first poll {r['first_ms']:8.1f} ms, steady poll "
            f"{r['steady_ms']:7.1f} ms ({r['steady_us_per_model']:.0f} us/model)"
        )
    print(
        "steady poll (median): own = bedrock-top's work on parsed answers; bytes = from answer "
        "bytes to figures (wire's decoding + own); end to end = a real client made by aws, "
        "answered with recorded bytes (all but the network); botocore = boto3's stock client"
    )
    for r in results["end_to_end"]:
        print(
            f"  {r['models']:>5} models: own {r['own_ms']:7.1f} ms, bytes {r['bytes_ms']:7.1f} ms, "
            f"end to end {r['end_to_end_ms']:7.1f} ms ({r['end_to_end_us_per_model']:4.0f} "
            f"us/model), botocore {r['botocore_ms']:7.1f} ms "
            f"({r['botocore_us_per_model']:4.0f} us/model): end to end / botocore "
            f"{r['ratio']:.2f}"
        )
    v = results["views_processing"]
    b = v["baseline"]
    print(
        f"poll processing, {sum(v['mix'].values())} rows over every view "
        f"({', '.join(f'{n} {k}' for k, n in v['mix'].items())}), one view in full and the "
        f"others on heartbeat, vs {b['models']} models alone (first {b['first_ms']:.1f} ms, "
        f"steady {b['steady_ms']:.1f} ms):"
    )
    for r in v["visible"]:
        print(
            f"  {r['visible']:>15} visible: first poll {r['first_ms']:7.1f} ms "
            f"({r['first_metrics']} metrics, {r['first_calls']} calls, floor "
            f"{r['first_floor_calls']}), steady poll {r['steady_ms']:6.1f} ms "
            f"({r['steady_metrics']} metrics, {r['steady_calls']} calls, floor "
            f"{r['steady_floor_calls']}); vs models alone: first {r['first_ratio']:.2f}, "
            f"steady {r['steady_ratio']:.2f}"
        )
    o = results["one_call"]
    print(
        f"parsing one GetMetricData answer of {o['queries']} queries ({o['bytes'] / 1000:.0f} "
        f"kB of JSON): botocore {o['botocore_ms']:.1f} ms, with bedrock-top's decoding "
        f"{o['hook_ms']:.1f} ms (ratio {o['ratio']:.2f})"
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
