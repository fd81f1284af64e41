"""``bedrock-top prices [--refresh]``: show the price table, or refresh it from AWS.

A refresh reads the AWS Price List API (``pricing:GetProducts`` only) into the user cache
directory; the cached table then wins over the bundled one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence

from bedrock_top.arguments import Parser
from bedrock_top.errors import ConfigError
from bedrock_top.figures.pricing import PER_MILLION, PriceTable, default_cache_path
from bedrock_top.output.render import TextColumn, fit_text_table


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="bedrock-top prices", description=__doc__.splitlines()[0])
    p.add_argument("--refresh", action="store_true", help="fetch current prices from AWS")
    p.add_argument("--profile", help="AWS profile for the refresh")
    p.add_argument("--format", default="table", help="table or json")
    return p


def run_prices(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.format not in ("table", "json"):
        raise ConfigError(f"--format: unknown format {args.format!r} (choose table or json)")
    if args.refresh:
        from bedrock_top.services.aws import make_session
        from bedrock_top.services.price_refresh import make_pricing_client, refresh_prices

        session = make_session(args.profile)
        report = refresh_prices(make_pricing_client(session), default_cache_path())
        for line in report.lines():
            print(line)
        return 0 if report.written else 1
    table = PriceTable.load()
    rows = table.listing()
    if args.format == "json":
        out = {
            "unit": f"USD per {PER_MILLION:,.0f} tokens",
            "as_of": table.as_of,
            "models": [
                {
                    "model_id": key,
                    "name": name,
                    "input": p.input,
                    "output": p.output,
                    "cache_read": p.cache_read,
                    "cache_write": p.cache_write,
                    "source": p.source,
                }
                for key, name, p in rows
            ],
        }
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return 0

    def cell(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    prices = [p for _, _, p in rows]
    columns = [
        TextColumn("Model", [key for key, _, _ in rows], right=False, priority=0),
        TextColumn("Input", [cell(p.input) for p in prices], priority=0),
        TextColumn("Output", [cell(p.output) for p in prices], priority=0),
        TextColumn("Cache read", [cell(p.cache_read) for p in prices], priority=2),
        TextColumn("Cache write", [cell(p.cache_write) for p in prices], priority=2),
        TextColumn("Source", [p.source for p in prices], right=False, priority=3),
    ]
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    lines = ["USD per 1M tokens (on-demand, in-region)", *fit_text_table(columns, width)]
    lines += [f"{source} prices as of {date}" for source, date in table.as_of.items()]
    lines += [f"warning: {warning}" for warning in table.warnings]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
