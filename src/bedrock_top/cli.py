"""Command line: parse and validate, then either print one snapshot (``--once``) or run the TUI.

``--once`` never imports Textual, so scripts start fast.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bedrock_top import __version__, settings_file
from bedrock_top.columns import DEFAULT_SORT_LIVE, DEFAULT_SORT_ONCE, columns_help, sort_rows
from bedrock_top.config import (
    DEFAULT_INTERVAL_S,
    WINDOW_CHOICES,
    ConfigError,
    Settings,
    Sourced,
    resolve,
)
from bedrock_top.pricing import PriceTable
from bedrock_top.snapshot import ModelRow, Snapshot
from bedrock_top.source import CloudWatchClient, Poller, PollSettings
from bedrock_top.view import filter_rows

if TYPE_CHECKING:
    from bedrock_top.quota_keeper import QuotaKeeper

PROG = "bedrock-top"
DEMO_REGION = "us-east-1"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Flags default to None (or False for actions), so "not given" leaves the value to the
    config file, the environment or the built-in default."""
    p = _Parser(
        prog=PROG,
        description="top for Amazon Bedrock: live per-model figures from CloudWatch (AWS/Bedrock).",
        epilog="commands:\n"
        f"  {PROG} prices [--refresh]  the price table in use (see {PROG} prices --help)\n"
        f"  {PROG} quotas [--refresh]  Bedrock quotas and the model each applies to\n"
        "\n"
        "columns (--sort, [columns] show in the config file):\n"
        f"{columns_help()}\n"
        "\n"
        "Settings also come from a config file (see --print-config) and BEDROCK_TOP_*\n"
        "environment variables; flags win.",
        # Keep the epilog's lines: the command list reads as a list.
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--demo", action="store_true", help="synthetic data, no AWS account needed")
    p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    p.add_argument(
        "--region",
        help="region, comma list, or 'all' (default: AWS_REGION or the profile's region)",
    )
    p.add_argument("--endpoint-url", help="CloudWatch-compatible endpoint URL")
    p.add_argument(
        "--window", help=f"time window: {', '.join(WINDOW_CHOICES)} or any 5m..7d (default 1h)"
    )
    p.add_argument(
        "--period", help="seconds per datapoint, a multiple of 60 (default: chosen from window)"
    )
    p.add_argument(
        "--interval", help=f"seconds between polls, 5..600 (default {DEFAULT_INTERVAL_S})"
    )
    p.add_argument("--filter", help="case-insensitive regex over the model id ('!re' negates)")
    p.add_argument(
        "--sort",
        help=f"sort column, one of the columns below (default: {DEFAULT_SORT_ONCE} for --once, "
        f"{DEFAULT_SORT_LIVE} live)",
    )
    p.add_argument(
        "--reverse", action=argparse.BooleanOptionalAction, help="reverse the sort order"
    )
    p.add_argument(
        "--all-models",
        action=argparse.BooleanOptionalAction,
        help="every model CloudWatch still lists (two weeks), not only the last 3 h",
    )
    p.add_argument(
        "--all-accounts",
        action=argparse.BooleanOptionalAction,
        help="also the accounts linked to this CloudWatch cross-account monitoring account",
    )
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.add_argument(
        "--format", help="--once output: table, json or csv (default table; needs --once)"
    )
    p.add_argument("--seed", help="demo data seed (integer, default 0)")
    p.add_argument(
        "--config", metavar="PATH", help=f"config file (default: {settings_file.default_path()})"
    )
    action = p.add_mutually_exclusive_group()
    action.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective settings and where each came from, then exit",
    )
    action.add_argument(
        "--write-config",
        action="store_true",
        help="write a commented default config file (at --config PATH if given), then exit",
    )
    p.add_argument("--force", action="store_true", help="let --write-config overwrite a file")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return p


def _flag_values(args: argparse.Namespace) -> settings_file.Values:
    """The config keys given on the command line, labelled by their flag."""
    out: settings_file.Values = {}
    for key in settings_file.SCALAR_KEYS:
        value = getattr(args, key, None)
        if value is not None:
            flag = "--" + key.replace("_", "-")
            out[(key,)] = Sourced(value, flag, flag)
    return out


def _config_path(args: argparse.Namespace) -> Path | None:
    """The --config PATH (None: the default path, which may be absent)."""
    return Path(args.config).expanduser() if args.config else None


def load_settings(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> tuple[Settings, settings_file.Values]:
    """Merge every layer and validate it; raises ConfigError naming the value and its source."""
    if args.force and not args.write_config:
        raise ConfigError("--force: only used with --write-config")
    values = settings_file.load(_flag_values(args), _config_path(args), environ)
    settings = resolve(values, _bedrock_regions, demo=args.demo, once=args.once)
    if not settings.demo:
        _check_profile(values[("profile",)])
    return settings, values


def _check_profile(profile: Sourced) -> None:
    """An unknown profile is a usage error naming its source (reads ~/.aws files only)."""
    if profile.value is None:
        return
    import boto3

    available = boto3.session.Session().available_profiles
    if profile.value not in available:
        known = ", ".join(sorted(available)) or "none configured"
        raise ConfigError(f"{profile.label}: unknown profile (available: {known})")


def parse_settings(
    argv: Sequence[str] | None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Parse and validate every option; raises ConfigError naming the bad one."""
    return load_settings(build_parser().parse_args(argv), environ)[0]


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
        include_linked_accounts=settings.all_accounts,
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


def make_poller(settings: Settings) -> Poller:
    """The poller for these settings: clients, prices, and (for AWS) a way to rebuild a
    region's client when its credentials change while running."""
    reconnect = None
    if not settings.demo:
        from bedrock_top.aws import make_cloudwatch_client

        def reconnect(region: str) -> CloudWatchClient:
            client: CloudWatchClient = make_cloudwatch_client(
                settings.profile, region, settings.endpoint_url
            )
            return client

    poller = Poller(
        make_clients(settings),
        poll_settings(settings),
        prices=price_table(settings),
        reconnect=reconnect,
    )
    poller.profile = settings.profile
    return poller


def make_quota_keeper(
    settings: Settings,
    regions: Sequence[str],
    clients: Mapping[str, CloudWatchClient] | None = None,
) -> QuotaKeeper:
    """Quota sources for the regions polled: the demo account's, or Service Quotas and the
    Bedrock API through boto3 (endpoints the standard botocore way, never --endpoint-url,
    which is CloudWatch's), cached on disk for 12 h per account and region. The demo sizes
    its quotas from the demo backend in ``clients`` (the poller's: their caches are shared)."""
    from bedrock_top.quota_fetch import QuotaCache, QuotaSource, default_cache_dir
    from bedrock_top.quota_keeper import QuotaKeeper

    sources: dict[str, QuotaSource] = {}
    for region in regions:
        if settings.demo:
            from bedrock_top.demo import DemoCloudWatch
            from bedrock_top.demo_quotas import DemoQuotaClients

            backend = (clients or {}).get(region)
            demo = DemoQuotaClients(
                seed=settings.seed,
                region=region,
                cloudwatch=backend if isinstance(backend, DemoCloudWatch) else None,
            )

            def demo_clients(demo: DemoQuotaClients = demo) -> tuple[Any, Any, Any]:
                return demo, demo, demo

            sources[region] = QuotaSource(region, demo_clients, None)
        else:
            from bedrock_top.aws import make_quota_clients

            def aws_clients(region: str = region) -> tuple[Any, Any, Any]:
                return make_quota_clients(settings.profile, region)

            cache = QuotaCache(default_cache_dir())
            sources[region] = QuotaSource(region, aws_clients, cache, profile=settings.profile)
    return QuotaKeeper(sources, settings.quota_overrides, settings.burndown_overrides)


def price_table(settings: Settings) -> PriceTable:
    """Prices with the configured overrides and application-profile aliases on top."""
    return PriceTable.load(overrides=settings.price_overrides, aliases=settings.price_aliases)


def visible_rows(snapshot: Snapshot, settings: Settings) -> list[ModelRow]:
    """The rows ``--once`` prints: the live table's filter, then the registry's sort."""
    rows = filter_rows(snapshot.rows, settings.filter)
    return sort_rows(rows, settings.sort or DEFAULT_SORT_ONCE, settings.reverse)


def run_once(settings: Settings) -> int:
    from bedrock_top.render import render_csv, render_json, render_table

    poller = make_poller(settings)
    try:
        # The limits first: they decide which quota series the poll asks for.
        keeper = make_quota_keeper(settings, tuple(poller.regions), poller.clients())
        keeper.update(poller)
        snapshot = poller.poll()
    finally:
        poller.close()
    for region, state in keeper.states.items():  # the figures go on without quotas
        if state.error:
            sys.stderr.write(f"{PROG}: warning: {region}: {state.error}\n")
    rows = visible_rows(snapshot, settings)
    if settings.format == "json":
        text = render_json(snapshot, rows, settings.api_usd_per_1000)
    elif settings.format == "csv":
        text = render_csv(snapshot, rows)
    else:
        text = render_table(snapshot, rows, _table_width(), settings.sort or DEFAULT_SORT_ONCE)
    sys.stdout.write(text)
    sys.stdout.flush()  # a closed pipe shows up here, inside main, not at interpreter exit
    return 0


def _table_width() -> int | None:
    """The terminal's width; None for a pipe or file, which gets every column (like `ps`)."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def _check_once_only(args: argparse.Namespace) -> None:
    """A --format flag that nothing would use is a usage error (the TUI would ignore it).

    Only the flag: a format from the config file or BEDROCK_TOP_FORMAT applies to --once
    runs and is no error for the TUI.
    """
    if args.format is not None and not args.once and not args.print_config:
        raise ConfigError("--format: only used with --once (add --once, or drop --format)")


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush of
    what is still buffered does not fail again ("Exception ignored ... BrokenPipeError")."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (redirected in-process): nothing to do
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def write_config(args: argparse.Namespace) -> int:
    """--write-config: the commented defaults, at --config PATH or the default path."""
    path = _config_path(args) or settings_file.default_path()
    try:
        settings_file.write_default(path, force=args.force)
    except OSError as exc:
        sys.stderr.write(f"{PROG}: cannot write {path}: {exc.strerror or exc}\n")
        return 1
    sys.stdout.write(f"wrote {path}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    settings: Settings | None = None
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["prices"]:
            from bedrock_top.prices_cli import run_prices

            return run_prices(args[1:])
        if args[:1] == ["quotas"]:
            from bedrock_top.quotas_cli import run_quotas

            return run_quotas(args[1:])
        parsed = build_parser().parse_args(args)
        if parsed.write_config:
            return write_config(parsed)
        _check_once_only(parsed)
        settings, values = load_settings(parsed)
        if parsed.print_config:
            path = _config_path(parsed) or settings_file.default_path()
            sys.stdout.write(settings_file.describe(values, settings, path))
            return 0
        if settings.once:
            return run_once(settings)
        from bedrock_top.tui.app import run_app

        return run_app(settings)
    except ConfigError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head -1`): nothing left to say
        _silence_stdout()
        return 0
    except Exception as exc:  # a run-time failure: one plain line, never a traceback
        from bedrock_top.errors import describe_error

        sys.stderr.write(f"{PROG}: {describe_error(exc, settings.profile if settings else None)}\n")
        return 1
