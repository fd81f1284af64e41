"""The main command's flags and how they become validated ``Settings`` (flags over
environment over config file over defaults), and the parser every subcommand shares: a usage
error is one line and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from bedrock_top import __version__, settings_file
from bedrock_top.config import DEFAULT_INTERVAL_S, WINDOW_CHOICES, Settings, Sourced, resolve
from bedrock_top.errors import ConfigError
from bedrock_top.figures.surfaces import VIEW_NAMES, views_help
from bedrock_top.views.columns import DEFAULT_SORT_LIVE, DEFAULT_SORT_ONCE, columns_help

PROG = "bedrock-top"


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Flags default to None (or False for actions), so "not given" leaves the value to the
    config file, the environment or the built-in default."""
    p = Parser(
        prog=PROG,
        description="top for Amazon Bedrock: live per-model figures from CloudWatch (AWS/Bedrock).",
        epilog="commands:\n"
        f"  {PROG} prices [--refresh]  the price table in use (see {PROG} prices --help)\n"
        f"  {PROG} quotas [--refresh]  Bedrock quotas and the model each applies to\n"
        f"  {PROG} watch [flags]       alert rules without a screen: JSON lines (see --help)\n"
        "\n"
        "views (--view, keys 1-6 / Tab / : in the live monitor):\n"
        f"{views_help()}\n"
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
        "--end",
        metavar="TIME",
        help="show the past window ending at TIME: ISO 8601 (2025-06-01T14:00Z; no offset: "
        'UTC) or relative ("2h ago", "3d ago"); default: live',
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
    p.add_argument(
        "--view",
        help=f"what to show: {', '.join(VIEW_NAMES)} (default models; see views below; "
        "the columns below are the models view's)",
    )
    p.add_argument(
        "--group-by",
        metavar="HOW",
        help="callers view rows: caller (default), caller+model, or metadata.KEY "
        "(a requestMetadata tag, e.g. metadata.team)",
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


def config_path(args: argparse.Namespace) -> Path | None:
    """The --config PATH (None: the default path, which may be absent)."""
    return Path(args.config).expanduser() if args.config else None


def load_settings(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> tuple[Settings, settings_file.Values]:
    """Merge every layer and validate it; raises ConfigError naming the value and its source."""
    if args.force and not args.write_config:
        raise ConfigError("--force: only used with --write-config")
    values = settings_file.load(_flag_values(args), config_path(args), environ)
    settings = resolve(
        values, _bedrock_regions, demo=args.demo, once=args.once, end=getattr(args, "end", None)
    )
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


def print_config(args: argparse.Namespace, settings: Settings, values: settings_file.Values) -> int:
    """--print-config: every effective setting and alert rule, and where each came from."""
    import sys

    path = config_path(args) or settings_file.default_path()
    sys.stdout.write(settings_file.describe(values, settings, path))
    return 0
