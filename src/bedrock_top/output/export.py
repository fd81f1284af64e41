"""Ctrl+S: the table as CSV, exactly the columns on screen, then every ``--once`` JSON field.

Screen columns are written under their registry keys with raw values (latency in ms, rates
as ratios, money in USD), rounded as the JSON is, so a spreadsheet can recompute them; the
model column is ``model_id``. Pure: the TUI writes the text to a file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bedrock_top.figures.snapshot import ModelRow
from bedrock_top.output.render import round_figures
from bedrock_top.views.columns import COLUMNS_BY_KEY

# Decimals kept per kind of screen figure, as the JSON keeps them (0.1 ms, 1e-6 USD).
_DECIMALS = {"latency": 1, "usd": 6, "pct": 6, "rate": 3}
# Screen column keys that name a JSON field differently.
_JSON_NAME = {"model": "model_id", "latency_avg": "latency_avg_ms"}


def export_fields(shown: Sequence[str]) -> list[str]:
    """The CSV header: the screen's columns in screen order, then the JSON fields not yet
    written (a figure that is both appears once, where the screen put it)."""
    fields = [_JSON_NAME.get(key, key) for key in shown if key in COLUMNS_BY_KEY]
    for name in ModelRow.csv_fields():
        if name not in fields:
            fields.append(name)
    return fields


def export_csv(rows: Sequence[ModelRow], shown: Sequence[str]) -> str:
    """The CSV text for ``rows`` (in screen order) with the ``shown`` column keys first."""
    fields = export_fields(shown)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        record = row.to_dict()
        for key in shown:
            column = COLUMNS_BY_KEY.get(key)
            name = _JSON_NAME.get(key, key)
            if column is not None and name not in record:
                value = column.value(row)
                digits = _DECIMALS.get(column.kind)
                if isinstance(value, float) and digits is not None:
                    value = round(value, digits)
                record[name] = value
        record = round_figures(record)
        writer.writerow({k: "" if record.get(k) is None else record.get(k) for k in fields})
    return out.getvalue()
