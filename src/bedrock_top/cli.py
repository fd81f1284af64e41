"""Command line: parse and validate, then either print one snapshot (``--once``) or run the TUI.

``--once`` never imports Textual, so scripts start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from bedrock_top import __version__
from bedrock_top.columns import SORT_KEYS, sort_rows
from bedrock_top.config import (
    DEFAULT_INTERVAL_S,
    FORMATS,
    WINDOW_CHOICES,
    ConfigError,
    Settings,
    auto_period,
    check_interval,
    check_period,
    compile_filter,
    parse_duration,
    parse_regions,
    parse_window,
)
from bedrock_top.pricing import PriceTable
from bedrock_top.snapshot import ModelRow, Snapshot
from bedrock_top.source import CloudWatchClient, Poller, PollSettings

PROG = "bedrock-top"
DEMO_REGION = "us-east-1"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="top for Amazon Bedrock: live per-model figures from CloudWatch (AWS/Bedrock).",
    )
    p.add_argument("--demo", action="store_true", help="synthetic data, no AWS account needed")
    p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    p.add_argument(
        "--region",
        help="region, comma list, or 'all' (default: AWS_REGION or the profile's region)",
    )
    p.add_argument("--endpoint-url", help="CloudWatch-compatible endpoint URL")
    p.add_argument(
        "--window",
        default="1h",
        help=f"time window: {', '.join(WINDOW_CHOICES)} or any 5m..7d (default 1h)",
    )
    p.add_argument(
        "--period", help="seconds per datapoint, a multiple of 60 (default: chosen from window)"
    )
    p.add_argument(
        "--interval",
        default=str(DEFAULT_INTERVAL_S),
        help=f"seconds between polls, 5..600 (default {DEFAULT_INTERVAL_S})",
    )
    p.add_argument("--filter", help="case-insensitive regex over the model id ('!re' negates)")
    p.add_argument(
        "--sort",
        help=f"sort column: {', '.join(SORT_KEYS)} (default: invocations; Inv/min live)",
    )
    p.add_argument("--reverse", action="store_true", help="reverse the sort order")
    p.add_argument(
        "--all-models",
        action="store_true",
        help="every model CloudWatch still lists (two weeks), not only the last 3 h",
    )
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.add_argument("--format", default="table", help="--once output: table, json or csv")
    p.add_argument("--seed", default="0", help="demo data seed (integer)")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return p


def parse_settings(argv: Sequence[str] | None) -> Settings:
    """Parse and validate every option; raises ConfigError naming the bad one."""
    args = build_parser().parse_args(argv)
    window_s = parse_window(args.window)
    period_s = auto_period(window_s)
    if args.period is not None:
        period_s = check_period(parse_duration(args.period, "--period"), window_s)
    interval_s = check_interval(parse_duration(args.interval, "--interval"))
    compile_filter(args.filter)
    if args.sort is not None and args.sort not in SORT_KEYS:
        choices = ", ".join(SORT_KEYS)
        raise ConfigError(f"--sort: unknown column {args.sort!r} (choose from {choices})")
    if args.format not in FORMATS:
        raise ConfigError(f"--format: unknown format {args.format!r} (choose table, json or csv)")
    try:
        seed = int(args.seed)
    except ValueError:
        raise ConfigError(f"--seed: {args.seed!r} is not an integer") from None
    wants_all = args.region is not None and args.region.strip() == "all"
    regions = parse_regions(args.region, _bedrock_regions() if wants_all else [])
    return Settings(
        demo=args.demo,
        profile=args.profile,
        regions=tuple(regions),
        endpoint_url=args.endpoint_url,
        window_s=window_s,
        period_s=period_s,
        interval_s=interval_s,
        filter=args.filter,
        sort=args.sort,
        reverse=args.reverse,
        all_models=args.all_models,
        once=args.once,
        format=args.format,
        seed=seed,
    )


def _bedrock_regions() -> list[str]:
    """Regions that offer Bedrock, from botocore's bundled data (no network).

    botocore's endpoint data has no "bedrock-runtime" service entry (that name lists no
    region at all), so use the regions of "bedrock"; a region where nobody invokes models
    simply lists no AWS/Bedrock metrics.
    """
    import boto3

    return sorted(boto3.session.Session().get_available_regions("bedrock"))


def poll_settings(settings: Settings) -> PollSettings:
    # One-shot output reports every figure; the live monitor asks only for what it shows.
    return PollSettings(
        window_s=settings.window_s,
        period_s=settings.period_s,
        all_models=settings.all_models,
        cost_aware=not settings.once,
    )


def make_clients(settings: Settings) -> dict[str, CloudWatchClient]:
    """One CloudWatch client (or demo backend) per region."""
    if settings.demo:
        from bedrock_top.demo import DemoCloudWatch

        regions = settings.regions or (DEMO_REGION,)
        return {r: DemoCloudWatch(seed=settings.seed, region=r) for r in regions}
    from bedrock_top.aws import make_cloudwatch_clients

    return make_cloudwatch_clients(settings.profile, settings.regions, settings.endpoint_url)


def filter_rows(rows: Sequence[ModelRow], pattern: str | None) -> list[ModelRow]:
    """Keep rows whose model id (or provider) matches; a leading '!' keeps the others."""
    regex = compile_filter(pattern)
    if regex is None or pattern is None:
        return list(rows)
    negate = pattern.startswith("!")
    return [
        r
        for r in rows
        if bool(regex.search(r.model_id) or regex.search(r.info.provider or "")) != negate
    ]


def visible_rows(snapshot: Snapshot, settings: Settings) -> list[ModelRow]:
    rows = filter_rows(snapshot.rows, settings.filter)
    return sort_rows(rows, settings.sort or "invocations", settings.reverse)


def run_once(settings: Settings) -> int:
    from bedrock_top.render import render_csv, render_json, render_table

    poller = Poller(make_clients(settings), poll_settings(settings), prices=PriceTable.load())
    snapshot = poller.poll()
    rows = visible_rows(snapshot, settings)
    if settings.format == "json":
        sys.stdout.write(render_json(snapshot, rows))
    elif settings.format == "csv":
        sys.stdout.write(render_csv(snapshot, rows))
    else:
        from rich.console import Console

        # Like `ps`/`top -b`: a pipe gets full-width lines instead of wrapped cells.
        console = Console() if sys.stdout.isatty() else Console(width=240)
        render_table(snapshot, rows, console)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    settings: Settings | None = None
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["prices"]:
            from bedrock_top.prices_cli import run_prices

            return run_prices(args[1:])
        settings = parse_settings(args)
        if settings.once:
            return run_once(settings)
        from bedrock_top.tui.app import run_app

        return run_app(settings)
    except ConfigError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a run-time failure: one plain line, never a traceback
        from bedrock_top.errors import describe_error

        sys.stderr.write(f"{PROG}: {describe_error(exc, settings.profile if settings else None)}\n")
        return 1
