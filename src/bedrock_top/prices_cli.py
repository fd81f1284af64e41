"""``bedrock-top prices [--refresh]``: show the price table, or refresh it from AWS.

A refresh reads the AWS Price List API (``pricing:GetProducts`` only) into the user cache
directory; the cached table then wins over the bundled one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bedrock_top.arguments import Parser
from bedrock_top.errors import ConfigError
from bedrock_top.pricing import PER_MILLION, PriceTable, default_cache_path


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
        from bedrock_top.aws import make_session
        from bedrock_top.price_refresh import make_pricing_client, refresh_prices

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
    from rich.console import Console
    from rich.table import Table

    grid = Table(title="USD per 1M tokens (on-demand, in-region)", box=None, title_justify="left")
    for header in ("Model", "Input", "Output", "Cache read", "Cache write", "Source"):
        grid.add_column(header, justify="left" if header in ("Model", "Source") else "right")
    for key, _, p in rows:

        def cell(v: float | None) -> str:
            return "-" if v is None else f"{v:g}"

        grid.add_row(key, cell(p.input), cell(p.output), cell(p.cache_read), cell(p.cache_write),
                     p.source)  # fmt: skip
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(grid)
    for source, date in table.as_of.items():
        console.print(f"{source} prices as of {date}", style="dim")
    for warning in table.warnings:
        console.print(f"warning: {warning}", style="yellow")
    return 0
