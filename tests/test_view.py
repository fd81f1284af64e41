"""The live table as data: which columns fit, names that keep their ending, the filter."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.row_figures import WindowFigures
from bedrock_top.figures.snapshot import ModelRow
from bedrock_top.views.columns import live_keys
from bedrock_top.views.rows import row_filter
from bedrock_top.views.view import fit_columns, model_text, shorten_middle, table_columns

IDS = (
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.nova-pro-v1:0",
    "x7k2p9q4m1z8",
)


def row(model_id: str) -> ModelRow:
    return ModelRow("us-east-1", None, parse_model_id(model_id), WindowFigures(), {})


ROWS = tuple(row(m) for m in IDS)


def test_no_rows_yet_still_lays_out_a_table() -> None:
    columns = table_columns(80, live_keys(None), (), 3600, 60, multi_region=False, sort="inv_rate")
    assert columns[0].key == "model"
    assert "region" not in [c.key for c in columns]


def test_whole_names_when_they_fit_else_every_name_drops_its_provider() -> None:
    wide = table_columns(200, live_keys(None), ROWS, 3600, 60, multi_region=False, sort="inv_rate")
    assert not wide[0].drop_provider
    assert model_text(ROWS[0], wide[0].width, True, False) == (
        "anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    narrow = table_columns(70, live_keys(None), ROWS, 3600, 60, multi_region=False, sort="cost")
    model = narrow[0]
    assert model.drop_provider
    texts = [model_text(r, model.width, True, True) for r in ROWS]
    assert texts[0] == "claude-sonnet-4-5-20250929-v1:0"
    assert texts[3] == "x7k2p9q4m1z8"  # an application profile id has no provider
    assert "cost" in [c.key for c in narrow]  # the sort column survives a narrow screen


def test_the_sort_column_is_kept_even_when_not_configured() -> None:
    keys = fit_columns(200, ["model", "inv_rate"], 3600, keep="latency_p99")
    assert [s.key for s in keys] == ["model", "inv_rate", "latency_p99"]


@given(
    text=st.text(st.characters(blacklist_characters="…"), min_size=1, max_size=80),
    width=st.integers(2, 80),
)
def test_shorten_middle_keeps_both_ends(text: str, width: int) -> None:
    out = shorten_middle(text, width)
    assert len(out) == min(width, len(text))
    if len(text) > width:
        head, _, tail = out.partition("…")
        assert text.startswith(head)
        assert text.endswith(tail)
        assert len(tail) >= len(head)  # the end (date, version) matters more


def test_one_filter_everywhere() -> None:
    keep = row_filter("!claude")
    assert keep is not None
    assert [r.model_id for r in ROWS if keep(r)] == ["amazon.nova-pro-v1:0", "x7k2p9q4m1z8"]
    assert row_filter("!") is None  # a negation still being typed filters nothing
    assert row_filter("") is None
