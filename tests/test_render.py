"""The ``--once`` plain-text table: whole cells, one unit per column, columns dropped by
priority when the width is short; and the unit helpers it shares with the TUI."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from bedrock_top.arguments import parse_settings
from bedrock_top.assemble import make_poller
from bedrock_top.cli import visible_rows
from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.output.render import ONCE_COLUMNS, TextColumn, fit_text_table, render_table
from bedrock_top.views.cells import cell, choose_style
from bedrock_top.views.columns import COLUMNS_BY_KEY, Column, header

# --- one style per column -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ([], "ms"),
        ([None, None], "ms"),
        ([842.0, 9_999.9], "ms"),
        ([842.0, 10_000.0], "s"),
        ([None, 41_726.0, 12.0], "s"),
    ],
)
def test_latency_unit_follows_the_largest_value(values: list[float | None], unit: str) -> None:
    assert choose_style(COLUMNS_BY_KEY["latency_p90"], values).unit == unit


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, "ms", "-"),
        (None, "s", "-"),
        (842.4, "ms", "842"),
        (9_999.0, "ms", "9,999"),
        (842.4, "s", "0.84"),
        (12_400.0, "s", "12.40"),
        (41_726.0, "s", "41.73"),
    ],
)
def test_latency_cells_use_the_chosen_unit(value: float | None, unit: str, text: str) -> None:
    column = COLUMNS_BY_KEY["latency_p90"]
    style = choose_style(column, [10_000.0 if unit == "s" else 1.0])
    assert cell(column, value, style) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (0, "0"),
        (595_228, "595,228"),
        (1_634_567, "1,634,567"),
        (2.5e9, "2,500,000,000"),
    ],
)
def test_counts_are_never_scaled_without_a_width(value: float | None, text: str) -> None:
    column = COLUMNS_BY_KEY["invocations"]
    assert cell(column, value, choose_style(column, [value, 2.5e9])) == text


def test_a_narrow_count_column_scales_every_cell_alike() -> None:
    column = COLUMNS_BY_KEY["tokens"]
    style = choose_style(column, [12_345_678, 595_228, 0], width=8)
    assert [cell(column, v, style) for v in (12_345_678, 595_228, 0)] == ["12.3M", "0.6M", "0.0M"]


def test_money_keeps_one_precision_per_column() -> None:
    column = COLUMNS_BY_KEY["cost"]
    assert choose_style(column, [1.5, 0.02, None, 0.0]).decimals == 2
    assert choose_style(column, [1.5, 0.0042]).decimals == 4
    style = choose_style(column, [])
    assert [cell(column, v, style) for v in (1234.5, 0.0, None)] == ["1,234.50", "0.00", "?"]


# --- fit_text_table -----------------------------------------------------------------------


def cols() -> list[TextColumn]:
    return [
        TextColumn("Model", ["a-long-model-id", "b"], right=False, priority=0),
        TextColumn("Inv", ["1,234,567", "7"], priority=1),
        TextColumn("P50", ["12", "3"], priority=6),
        TextColumn("P90", ["40", "5"], priority=3),
        TextColumn("Prov", ["x", "y"], right=False, priority=6),
    ]


def test_every_column_is_as_wide_as_its_widest_cell() -> None:
    assert fit_text_table(cols(), None) == [
        "Model                  Inv  P50  P90  Prov",
        "a-long-model-id  1,234,567   12   40  x",
        "b                        7    3    5  y",
    ]


@pytest.mark.parametrize(
    ("width", "headers"),
    [
        (42, ["Model", "Inv", "P50", "P90", "Prov"]),
        (41, ["Model", "Inv", "P50", "P90"]),  # a tie at 6: the rightmost goes first
        (36, ["Model", "Inv", "P50", "P90"]),
        (35, ["Model", "Inv", "P90"]),
        (31, ["Model", "Inv", "P90"]),
        (30, ["Model", "Inv"]),
        (26, ["Model", "Inv"]),
        (25, ["Model"]),
        (5, ["Model"]),  # wider than allowed, but whole
    ],
)
def test_whole_columns_go_by_priority(width: int, headers: list[str]) -> None:
    lines = fit_text_table(cols(), width)
    assert lines[0].split() == headers
    assert "a-long-model-id" in lines[1]
    for line in lines:
        assert line == line.rstrip()
        assert len(line) <= width or line.split()[0] == line.strip()


def test_the_first_column_and_priority_zero_stay() -> None:
    region = TextColumn("Region", ["eu-west-1"], right=False, priority=1)
    model = TextColumn("Model", ["anthropic.claude-3-haiku"], right=False, priority=0)
    count = TextColumn("Inv", ["12"], priority=1)
    assert fit_text_table([region, model, count], 10)[1].split() == [
        "eu-west-1",
        "anthropic.claude-3-haiku",
    ]


def test_fit_text_table_edges() -> None:
    assert fit_text_table([], 80) == []
    assert fit_text_table([TextColumn("Model", [], right=False)], 80) == ["Model"]
    with pytest.raises(ValueError, match="same number"):
        fit_text_table([TextColumn("A", ["1"]), TextColumn("B", [])], None)


# --- the --once table on the demo ---------------------------------------------------------


def poll_demo(*args: str) -> tuple[Snapshot, list[ModelRow]]:
    """One demo snapshot and the rows --once prints for these flags."""
    settings = parse_settings(["--demo", "--once", *args])
    poller = make_poller(settings)
    try:
        snapshot = poller.poll()
    finally:
        poller.close()
    return snapshot, visible_rows(snapshot, settings)


@pytest.fixture(scope="module")
def demo() -> tuple[Snapshot, list[ModelRow]]:
    return poll_demo()


BY_HEADER = {header(c, "", 3600): c for c in ONCE_COLUMNS}


def parse_table(text: str, rows: Sequence[ModelRow]) -> dict[str, tuple[Column, str, list[str]]]:
    """header -> (its column, its unit, its cells in row order), read back from the text."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("Model "))
    headers = re.split(r" {2,}", lines[top])
    body = [re.split(r" {2,}", line.strip()) for line in lines[top + 1 : top + 1 + len(rows)]]
    assert all(len(cells) == len(headers) for cells in body)
    assert lines[top + 1 + len(rows)].startswith(f"{len(rows)} models; API: ")
    out = {}
    for i, head in enumerate(headers):
        name, _, unit = head.rpartition(" ")
        if head in BY_HEADER:
            name, unit = head, ""
        out[head] = (BY_HEADER[name], unit, [cells[i] for cells in body])
    return out


def near(text: str, value: float, step: float) -> bool:
    """``text`` is ``value`` written to ``step`` (within half a step)."""
    return abs(float(text.replace(",", "")) - value) <= step / 2 + 1e-9


# The --once columns by kind (the keys of ONCE_COLUMNS).
COUNTS = {
    "invocations",
    "input_tokens",
    "output_tokens",
    "client_errors",
    "server_errors",
    "throttles",
}
LATENCIES = {"latency_avg", "latency_p50", "latency_p90", "latency_p99", "ttft_p90"}
PERCENTS = {"error_rate", "throttle_rate", "quota"}


def check_cell(column: Column, unit: str, cell: str, row: ModelRow) -> None:
    """The cell says the row's own value, in the column's unit, without any shortening."""
    value = column.value(row)
    assert "…" not in cell
    if column.key == "model":
        assert cell == row.model_id
    elif column.key == "cost":
        if row.cost is None:
            assert cell == "?"
        else:
            assert re.fullmatch(r"[\d,]+\.\d+", cell), cell
            assert near(cell, row.cost.window_usd, 10.0 ** -len(cell.split(".")[1]))
    elif value is None:
        assert cell in ("-", "?")
    elif column.key in ("provider", "profile"):
        assert cell == (value or "-")
    elif column.key in COUNTS:
        assert re.fullmatch(r"\d{1,3}(,\d{3})*", cell), cell
        assert int(cell.replace(",", "")) == value
    elif column.key in LATENCIES:
        assert isinstance(value, float)
        if unit == "s":
            assert re.fullmatch(r"\d+\.\d\d", cell), cell
            assert near(cell, value / 1000, 0.01)
        else:
            assert unit == "ms"
            assert re.fullmatch(r"\d{1,3}(,\d{3})*", cell), cell
            assert near(cell, value, 1)
    else:
        assert column.key in PERCENTS, column.key
        assert isinstance(value, float)
        assert cell == "<0.1" or near(cell, value * 100, 0.1), cell


WIDTHS = (80, 100, 160, None)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_once_table_never_cuts_a_cell(
    demo: tuple[Snapshot, list[ModelRow]], width: int | None
) -> None:
    snapshot, rows = demo
    text = render_table(snapshot, rows, width)
    assert "…" not in text
    assert text.endswith("\n")
    widest_id = max(len(r.model_id) for r in rows)
    for line in text.splitlines():
        assert line == line.rstrip(), line
        if width is not None and widest_id <= width:
            assert len(line) <= width, line
    table = parse_table(text, rows)
    assert "Model" in table
    for head, (column, unit, cells) in table.items():
        for text_cell, row in zip(cells, rows, strict=True):
            check_cell(column, unit, text_cell, row)
        if column.key in LATENCIES:
            assert head.endswith((" ms", " s"))
            assert len({len(c.partition(".")[2]) for c in cells if c != "-"}) <= 1, header


def test_more_room_shows_more_columns_by_priority(demo: tuple[Snapshot, list[ModelRow]]) -> None:
    snapshot, rows = demo
    shown = {w: parse_table(render_table(snapshot, rows, w), rows) for w in WIDTHS}
    counts = [len(shown[w]) for w in WIDTHS]
    assert counts == sorted(counts)
    assert counts[2] > counts[0]
    assert counts[3] == len(ONCE_COLUMNS) - 2  # one region, no account: everything else
    for width in (80, 100, 160):
        kept = {c.key for c, _, _ in shown[width].values()}
        gone = [c for c in ONCE_COLUMNS[2:] if c.key not in kept]
        assert "invocations" in kept  # the sort column is never dropped

        def priority(c: Column) -> int:
            return 0 if c.key == "invocations" else c.priority

        if gone:
            assert max(priority(c) for c in ONCE_COLUMNS if c.key in kept) <= min(
                priority(c) for c in gone
            )


def test_several_regions_add_a_region_column_that_stays(capsys: pytest.CaptureFixture[str]) -> None:
    snapshot, rows = poll_demo("--region", "us-east-1,eu-west-1")
    lines = render_table(snapshot, rows, 80).splitlines()
    header = next(line for line in lines if line.startswith("Region "))
    assert re.split(r" {2,}", header)[:2] == ["Region", "Model"]
    assert "Inv 1h" in header  # the sort column stays
    assert all(len(line) <= 80 for line in lines)
    assert {r.region for r in rows} == {"us-east-1", "eu-west-1"}


def test_every_once_column_is_checked() -> None:
    text = {"region", "account", "model", "provider", "profile", "cost"}
    assert {c.key for c in ONCE_COLUMNS} == COUNTS | LATENCIES | PERCENTS | text
