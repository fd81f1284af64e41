"""``bedrock-top quotas [--refresh]``: every Bedrock quota of the region and the model ids it
was matched to, or why none was.

Reads the same catalogue the monitor uses (Service Quotas applied values over the AWS
defaults, ListFoundationModels, ListInferenceProfiles), from the 12-hour disk cache unless
``--refresh``. Config overrides (``[quotas]``) are applied and shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bedrock_top.arguments import Parser
from bedrock_top.assemble import DEMO_REGION, make_quota_keeper
from bedrock_top.config import Settings
from bedrock_top.errors import ConfigError
from bedrock_top.figures.quotas import QuotaReport


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="bedrock-top quotas",
        description="Every Bedrock quota of the region and the model ids it was matched to, "
        "or why none was (cached 12 h; --refresh reads Service Quotas now).",
    )
    p.add_argument("--refresh", action="store_true", help="read the quotas from AWS now")
    p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    p.add_argument("--region", help="region or comma list (default: the profile's region)")
    p.add_argument("--demo", action="store_true", help="the demo account's quotas")
    p.add_argument("--format", default="table", help="table or json")
    p.add_argument("--config", metavar="PATH", help="config file (for [quotas] overrides)")
    return p


def report_dict(region: str, line: QuotaReport) -> dict[str, object]:
    q = line.quota
    return {
        "region": region,
        "code": q.code,
        "name": q.name,
        "value": q.value,
        "applied": q.applied,
        "kind": line.kind,
        "scope": line.scope,
        "model_name": line.model_name,
        "model_ids": list(line.model_ids),
        "reason": line.reason or None,
    }


def report_lines(region: str, lines: Sequence[QuotaReport]) -> list[str]:
    """Plain text, one quota per line: code, kind, scope, value, then matches or reason."""
    out = []
    for line in lines:
        q = line.quota
        value = f"{q.value:,.0f}" + (" applied" if q.applied else "")
        what = f"{line.kind or '-':<3}  {line.scope or '-':<12}"
        target = ", ".join(line.model_ids) if line.model_ids else f"({line.reason})"
        out.append(f"{region}  {q.code:<10}  {what}  {value:>22}  {q.name}")
        out.append(f"{'':{len(region) + 2}}  -> {target}")
    return out


def run_quotas(argv: Sequence[str]) -> int:
    from bedrock_top.arguments import build_parser as main_parser
    from bedrock_top.arguments import load_settings
    from bedrock_top.figures.quota_match import report

    args = build_parser().parse_args(argv)
    if args.format not in ("table", "json"):
        raise ConfigError(f"--format: unknown format {args.format!r} (choose table or json)")
    forwarded = [
        f"--{name}={value}"
        for name, value in (("profile", args.profile), ("region", args.region))
        if value
    ]
    forwarded += ["--demo"] if args.demo else []
    forwarded += [f"--config={args.config}"] if args.config else []
    settings, _ = load_settings(main_parser().parse_args(forwarded))
    regions = settings.regions or (_default_region(settings),)
    keeper = make_quota_keeper(settings, regions)
    states = keeper.load(refresh=args.refresh)
    failed = False
    records: list[dict[str, object]] = []
    text: list[str] = []
    for region, state in states.items():
        if state.error:
            failed = True
            sys.stderr.write(f"bedrock-top: {region}: {state.error}\n")
        if state.catalog is None:
            continue
        lines = report(state.catalog, (), settings.quota_overrides)
        records += [report_dict(region, line) for line in lines]
        matched = sum(1 for line in lines if line.model_ids)
        text += report_lines(region, lines)
        text.append(f"{region}: {len(lines)} quotas, {matched} matched to a model")
    if args.format == "json":
        sys.stdout.write(json.dumps({"quotas": records}, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(text) + ("\n" if text else ""))
    return 1 if failed and not records else 0


def _default_region(settings: Settings) -> str:
    """The demo's region, or the profile's (the same rule as the monitor)."""
    if settings.demo:
        return DEMO_REGION
    from bedrock_top.services.aws import default_region, make_session

    return default_region(make_session(settings.profile))
