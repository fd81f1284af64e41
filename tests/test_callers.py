"""The callers view's figures: grouping, short caller names, and the sliding-window
aggregator checked against sums worked out independently from the record lists."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.figures.callers import (
    DEDUPE_EXTRA_S,
    FUTURE_SLACK_S,
    NO_VALUE,
    CallerAggregator,
    CallerRow,
    GroupBy,
    TokenPrices,
    parse_group_by,
    short_caller,
)
from bedrock_top.figures.invocation_records import InvocationRecord

PERIOD = 60
WINDOW = 10 * PERIOD
T0 = 1_700_000_040  # a minute boundary
NOW = T0 + WINDOW - 30  # halfway through the window's newest period
START = T0  # the window start at NOW
PRICES: dict[str, TokenPrices] = {
    "big": (3e-6, 15e-6, 0.3e-6, 3.75e-6),
    "small": (0.25e-6, 1.25e-6, 0.03e-6, 0.3e-6),
}
CALLERS = (
    "arn:aws:iam::111111111111:user/alice",
    "arn:aws:sts::111111111111:assumed-role/Batch/job-1",
    "arn:aws:iam::222222222222:role/service-role/Indexer",
)


def price_of(model_id: str) -> TokenPrices | None:
    return PRICES.get(model_id)


def no_prices(model_id: str) -> TokenPrices | None:
    return None


def rec(
    request_id: str,
    at: float,
    caller: str = CALLERS[0],
    model_id: str = "big",
    tokens: tuple[int, int, int, int] = (100, 10, 0, 0),
    metadata: tuple[tuple[str, str], ...] = (),
) -> InvocationRecord:
    return InvocationRecord(request_id, at, caller, model_id, *tokens, metadata)


def aggregator(group_by: str = "caller", window: int = WINDOW) -> CallerAggregator:
    return CallerAggregator(window, PERIOD, parse_group_by(group_by))


def fed(records: Iterable[InvocationRecord], group_by: str = "caller") -> CallerAggregator:
    agg = aggregator(group_by)
    for r in records:
        agg.add(r, NOW)
    return agg


# --- names and grouping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "short"),
    [
        ("arn:aws:sts::123:assumed-role/RoleName/session", "RoleName/session"),
        ("arn:aws:iam::123:user/alice", "alice"),
        ("arn:aws:iam::123:user/division/team/alice", "alice"),
        ("arn:aws:iam::123:role/R", "R"),
        ("arn:aws:iam::123:role/service-role/R", "R"),
        ("arn:aws-cn:sts::123:assumed-role/R/s", "R/s"),
        ("arn:aws:sts::123:federated-user/bob", "bob"),
        ("arn:aws:iam::123:root", "arn:aws:iam::123:root"),
        ("arn:aws:iam::123:user/", "arn:aws:iam::123:user/"),
        ("arn:aws:iam::123:group/admins", "arn:aws:iam::123:group/admins"),
        ("arn:aws:lambda:us-east-1:123:function:f", "arn:aws:lambda:us-east-1:123:function:f"),
        ("alice", "alice"),
        ("", ""),
    ],
)
def test_short_caller(arn: str, short: str) -> None:
    assert short_caller(arn) == short


@pytest.mark.parametrize(
    ("text", "group_by", "name"),
    [
        ("caller", GroupBy("caller"), "caller"),
        (" Caller ", GroupBy("caller"), "caller"),
        ("caller+model", GroupBy("caller_model"), "caller_model"),
        ("caller_model", GroupBy("caller_model"), "caller_model"),
        ("metadata.team", GroupBy("metadata", "team"), "metadata:team"),
        ("metadata:team", GroupBy("metadata", "team"), "metadata:team"),
        ("metadata.cost.center", GroupBy("metadata", "cost.center"), "metadata:cost.center"),
        ("Metadata.Team", GroupBy("metadata", "Team"), "metadata:Team"),  # keys keep case
    ],
)
def test_parse_group_by(text: str, group_by: GroupBy, name: str) -> None:
    assert parse_group_by(text) == group_by
    assert str(group_by) == name
    assert parse_group_by(name) == group_by
    assert parse_group_by(group_by.option) == group_by
    assert group_by.option in ("caller", "caller+model", f"metadata.{group_by.key}")


@pytest.mark.parametrize("text", ["", "model", "callers", "metadata.", "metadata", "metadata.a,b"])
def test_parse_group_by_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"caller, caller\+model or metadata\.<key>") as caught:
        parse_group_by(text)
    assert "\n" not in str(caught.value)


def test_group_by_parts() -> None:
    with pytest.raises(ValueError, match="metadata key"):
        GroupBy("metadata")
    with pytest.raises(ValueError, match="metadata key"):
        GroupBy("caller", "team")
    team = GroupBy("metadata", "team")
    assert team.columns == ("team",)
    assert GroupBy("caller_model").columns == ("caller", "model")
    assert team.group_values("arn", "m", None) == (NO_VALUE,)
    assert team.group_values("arn", "m", "search") == ("search",)
    assert GroupBy("caller_model").group_values("arn", "m", "x") == ("arn", "m")
    tagged = rec("r", NOW, metadata=(("env", "prod"), ("team", "search")))
    assert team.group_of(tagged) == ("search",)
    assert team.group_of(rec("r", NOW)) == (NO_VALUE,)


# --- exact sums ----------------------------------------------------------------------------


def generated(seed: int, n: int = 600) -> list[InvocationRecord]:
    """Records around the window: inside, before it, in the near and far future, with
    copies of earlier request ids (as a log tail and a retry deliver them)."""
    rng = random.Random(seed)
    records: list[InvocationRecord] = []
    for i in range(n):
        if records and rng.random() < 0.2:
            records.append(rng.choice(records))
            continue
        at = rng.uniform(START - 3 * PERIOD, NOW + FUTURE_SLACK_S + 120)
        tokens = (rng.randrange(5000), rng.randrange(800), rng.randrange(3000), rng.randrange(90))
        metadata = (("team", rng.choice("ab")),) if rng.random() < 0.7 else ()
        caller, model = rng.choice(CALLERS), rng.choice(("big", "small", "unpriced"))
        records.append(rec(f"req-{i}", at, caller, model, tokens, metadata))
    return records


def expected_sums(
    records: Sequence[InvocationRecord], group_by: GroupBy
) -> dict[tuple[str, ...], list[float | None]]:
    """Per group: invocations, the four token counts, cost (priced models; None: none), worked out
    record by record (the first copy of each id counts) with no buckets involved."""
    seen: set[str] = set()
    sums: dict[tuple[str, ...], list[float | None]] = defaultdict(lambda: [0, 0, 0, 0, 0, None])
    for r in records:
        if r.at < START or r.at >= START + WINDOW or r.request_id in seen:
            continue
        seen.add(r.request_id)
        row = sums[group_by.group_of(r)]
        counts = (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens)
        for i, n in enumerate((1, *counts)):
            row[i] = (row[i] or 0) + n
        price = PRICES.get(r.model_id)
        if price is not None:
            row[5] = (row[5] or 0) + sum(n * p for n, p in zip(counts, price, strict=True))
    return dict(sums)


@pytest.mark.parametrize("group_by", ["caller", "caller+model", "metadata.team"])
@pytest.mark.parametrize("seed", range(4))
def test_window_sums_match_independent_sums(seed: int, group_by: str) -> None:
    records = generated(seed)
    agg = fed(records, group_by)
    expected = expected_sums(records, parse_group_by(group_by))
    rows = agg.rows(NOW, price_of)
    assert {r.group for r in rows} == set(expected)
    for row in rows:
        want = expected[row.group]
        assert [row.invocations, *row_tokens(row)] == want[:5]
        assert row.cost_usd == (None if want[5] is None else pytest.approx(want[5]))
        assert sum(v or 0 for v in row.series) == row.invocations
    unique = {r.request_id: r for r in reversed(records)}
    stats = agg.stats
    assert stats.records == sum(want[0] or 0 for want in expected.values()) + sum(
        1 for r in unique.values() if START + WINDOW <= r.at <= NOW + FUTURE_SLACK_S
    )
    assert stats.future == sum(1 for r in records if r.at > NOW + FUTURE_SLACK_S)
    assert stats.outside == sum(1 for r in records if r.at < START)
    assert stats.records + stats.duplicates + stats.outside + stats.future == len(records)


def row_tokens(row: CallerRow) -> list[int]:
    return [row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_write_tokens]


def test_series_per_period_oldest_first() -> None:
    agg = fed(
        [
            rec("a", START + 5),
            rec("b", START + 59.9),
            rec("c", START + 3 * PERIOD),
            rec("d", NOW),  # the newest period, not complete yet
            rec("e", START + 8 * PERIOD + 1),  # the newest complete period
            rec("f", START + 8 * PERIOD + 2),
        ]
    )
    (row,) = agg.rows(NOW, price_of)
    assert row.series == (2, None, None, 1, None, None, None, None, 2, 1)
    assert row.latest_rate == 2.0  # per minute, in the newest complete period
    assert agg.window(NOW) == (START, START + WINDOW)


def test_latest_rate_is_per_minute() -> None:
    agg = CallerAggregator(WINDOW * 5, 300, GroupBy())
    now = T0 + WINDOW * 5 - 1
    for i in range(30):
        agg.add(rec(f"r{i}", now - 300 - i), now)
    (row,) = agg.rows(now, price_of)
    assert row.latest_rate == 30 / 5


# --- order, duplicates, sliding ---------------------------------------------------------------

_records = st.lists(
    st.builds(
        rec,
        request_id=st.sampled_from([f"id-{i}" for i in range(25)]),
        at=st.floats(START - 200, NOW + FUTURE_SLACK_S + 200),
        caller=st.sampled_from(CALLERS),
        model_id=st.sampled_from(["big", "small", "unpriced"]),
        tokens=st.tuples(*[st.integers(0, 10_000)] * 4),
        metadata=st.sampled_from([(), (("team", "a"),), (("team", "b"),)]),
    ),
    max_size=40,
)


@given(records=_records, data=st.data())
def test_order_and_copies_do_not_change_rows(
    records: list[InvocationRecord], data: st.DataObject
) -> None:
    # Copies of a request id carry the same record, as they do in the log.
    first = {r.request_id: r for r in reversed(records)}
    records = [first[r.request_id] for r in records]
    shuffled = data.draw(st.permutations(records + records[: len(records) // 2]))
    for group_by in ("caller", "caller+model", "metadata.team"):
        assert fed(shuffled, group_by).rows(NOW, price_of) == fed(records, group_by).rows(
            NOW, price_of
        )


def test_a_bucket_that_leaves_the_window_stops_counting() -> None:
    agg = aggregator()
    agg.add(rec("old", T0 + 1, CALLERS[1]), NOW)
    agg.add(rec("new", T0 + 2 * PERIOD + 1), NOW)
    assert {r.group: r.invocations for r in agg.rows(NOW, price_of)} == {
        (CALLERS[1],): 1,
        (CALLERS[0],): 1,
    }
    later = NOW + PERIOD  # the window now starts at T0 + PERIOD: "old" has left it
    (row,) = agg.rows(later, price_of)
    assert row.group == (CALLERS[0],)
    assert row.series == (None, 1, None, None, None, None, None, None, None, None)
    assert agg.stats.groups == 1
    assert agg.stats.periods == 1
    assert agg.rows(NOW + WINDOW + PERIOD, price_of) == []
    assert agg.stats.groups == agg.stats.periods == agg.stats.cells == 0


def test_time_never_goes_back() -> None:
    agg = aggregator()
    agg.add(rec("a", T0 + 1), NOW)
    assert agg.rows(NOW + WINDOW, price_of) == []
    assert agg.rows(NOW, price_of) == []  # what left the window is gone
    assert not agg.add(rec("b", T0 + 2), NOW)
    assert agg.stats.outside == 1


def test_future_records_wait_for_their_period() -> None:
    agg = aggregator()
    assert agg.add(rec("soon", NOW + FUTURE_SLACK_S), NOW)
    assert not agg.add(rec("far", NOW + FUTURE_SLACK_S + 1), NOW)
    assert agg.stats.future == 1
    assert agg.rows(NOW, price_of) == []  # stamped after the window's end
    (row,) = agg.rows(NOW + FUTURE_SLACK_S, price_of)
    assert row.invocations == 1
    assert row.series[-1] == 1


def test_request_ids_are_remembered_past_the_window_then_forgotten() -> None:
    agg = aggregator()
    agg.add(rec("once", T0 + 1), NOW)
    assert not agg.add(rec("once", T0 + 1), NOW)
    assert agg.stats.duplicates == 1
    # Past the window but within the dedupe horizon: the id is still held.
    agg.rows(NOW + PERIOD, price_of)
    assert agg.stats.request_ids == 1
    agg.rows(NOW + PERIOD + DEDUPE_EXTRA_S, price_of)
    assert agg.stats.request_ids == 0
    # A late copy now is older than the window start, so forgetting it changed nothing.
    assert not agg.add(rec("once", T0 + 1), NOW + PERIOD + DEDUPE_EXTRA_S)
    assert agg.stats.outside == 1
    assert agg.stats.records == 1


# --- grouping, money, shares -------------------------------------------------------------------


def test_group_by_metadata_and_caller_model() -> None:
    records = [
        rec("1", NOW, CALLERS[0], "big", metadata=(("team", "search"),)),
        rec("2", NOW, CALLERS[1], "small", metadata=(("team", "search"), ("z", "1"))),
        rec("3", NOW, CALLERS[1], "big", metadata=(("env", "dev"),)),
        rec("4", NOW, CALLERS[1], "big"),
    ]
    teams = {
        r.group: (r.invocations, r.models)
        for r in fed(records, "metadata.team").rows(NOW, price_of)
    }
    assert teams == {("search",): (2, ("big", "small")), (NO_VALUE,): (2, ("big",))}
    pairs = {r.group: r.invocations for r in fed(records, "caller+model").rows(NOW, price_of)}
    assert pairs == {
        (CALLERS[0], "big"): 1,
        (CALLERS[1], "small"): 1,
        (CALLERS[1], "big"): 2,
    }


def test_cost_share_and_order() -> None:
    agg = fed(
        [
            rec("1", NOW, CALLERS[0], "big", (1000, 100, 0, 0)),
            rec("2", NOW, CALLERS[1], "small", (1000, 100, 2000, 10)),
            rec("3", NOW, CALLERS[1], "big", (10, 1, 0, 0)),
        ]
    )
    rows = agg.rows(NOW, price_of)
    big, small = PRICES["big"], PRICES["small"]
    cost0 = 1000 * big[0] + 100 * big[1]
    cost1 = 1000 * small[0] + 100 * small[1] + 2000 * small[2] + 10 * small[3]
    cost1 += 10 * big[0] + 1 * big[1]
    assert [r.group for r in rows] == [(CALLERS[0],), (CALLERS[1],)]  # biggest cost first
    assert rows[0].cost_usd == pytest.approx(cost0)
    assert rows[1].cost_usd == pytest.approx(cost1)
    assert all(r.share_of == "cost" for r in rows)
    assert math.fsum(r.share or 0 for r in rows) == pytest.approx(1)
    assert rows[0].share == pytest.approx(cost0 / (cost0 + cost1))
    assert rows[1].models == ("big", "small")
    assert rows[1].tokens == 1000 + 100 + 2000 + 10 + 10 + 1


def test_unpriced_models() -> None:
    agg = fed(
        [
            rec("1", NOW, CALLERS[0], "big"),
            rec("2", NOW, CALLERS[0], "mystery"),
            rec("3", NOW, CALLERS[1], "mystery"),
        ]
    )
    mixed, unknown = agg.rows(NOW, price_of)
    assert mixed.cost_usd == pytest.approx(100 * PRICES["big"][0] + 10 * PRICES["big"][1])
    assert mixed.unpriced_models == ("mystery",)
    assert mixed.share == 1.0
    assert unknown.cost_usd is None
    assert unknown.unpriced_models == ("mystery",)
    assert unknown.share is None
    # No price at all: shares are of tokens, and say so.
    rows = agg.rows(NOW, no_prices)
    assert all(r.share_of == "tokens" and r.cost_usd is None for r in rows)
    assert [r.share for r in rows] == pytest.approx([2 / 3, 1 / 3])


@given(
    tokens=st.lists(st.tuples(*[st.integers(0, 10**9)] * 4), min_size=1, max_size=30),
    priced=st.booleans(),
)
def test_shares_add_up_to_one(tokens: list[tuple[int, int, int, int]], priced: bool) -> None:
    records = [
        rec(f"r{i}", NOW, CALLERS[i % 3], "big" if i % 2 else "small", t)
        for i, t in enumerate(tokens)
    ]
    rows = fed(records).rows(NOW, price_of if priced else no_prices)
    shares = [r.share for r in rows if r.share is not None]
    if any(sum(t) for t in tokens):
        assert math.fsum(shares) == pytest.approx(1)
    else:
        assert shares == []


def test_models_of_a_group() -> None:
    agg = fed(
        [
            rec("1", NOW, CALLERS[0], "big", (1000, 100, 0, 0)),
            rec("2", NOW - PERIOD, CALLERS[0], "small", (50, 5, 0, 0)),
            rec("3", NOW - PERIOD, CALLERS[0], "small", (50, 5, 0, 0)),
            rec("4", NOW, CALLERS[1], "small"),
        ]
    )
    rows = agg.models_of((CALLERS[0],), NOW, price_of)
    assert [(r.group, r.models, r.invocations) for r in rows] == [
        ((CALLERS[0],), ("big",), 1),
        ((CALLERS[0],), ("small",), 2),
    ]
    assert rows[1].series[-2:] == (2, None)
    assert rows[1].latest_rate == 2.0
    assert math.fsum(r.share or 0 for r in rows) == pytest.approx(1)
    assert agg.models_of(("nobody",), NOW, price_of) == []


def test_backfill_totals() -> None:
    agg = aggregator("metadata.team")
    group = agg.group_by.group_values("arn", "big", None)
    assert agg.add_totals(group, "big", START + PERIOD, 3, 300, 30, 0, 0)
    assert agg.add_totals(group, "big", START + PERIOD + 17, 1, 100, 10, 0, 0)  # off the grid
    agg.add(rec("live", NOW, metadata=(("team", "x"),)), NOW)
    assert not agg.add_totals(group, "big", START - PERIOD, 5, 1, 1, 1, 1)
    assert not agg.add_totals(group, "big", int(NOW) + FUTURE_SLACK_S + PERIOD, 5, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="negative"):
        agg.add_totals(group, "big", START, -1, 0, 0, 0, 0)
    rows = {r.group: r for r in agg.rows(NOW, price_of)}
    assert rows[(NO_VALUE,)].invocations == 4
    assert rows[(NO_VALUE,)].input_tokens == 400
    assert rows[(NO_VALUE,)].series[1] == 4
    assert rows[("x",)].invocations == 1
    stats = agg.stats
    assert (stats.backfilled, stats.records, stats.outside, stats.future) == (2, 1, 1, 1)
    # Told the time, a fresh aggregator turns away rows outside its window at once.
    fresh = aggregator()
    assert not fresh.add_totals(("arn",), "big", START - PERIOD, 1, 1, 1, 1, 1, now=NOW)
    assert fresh.add_totals(("arn",), "big", START, 1, 1, 1, 1, 1, now=NOW)
    assert fresh.stats.outside == 1


def test_window_must_be_whole_periods() -> None:
    with pytest.raises(ValueError, match="multiple"):
        CallerAggregator(90, 60, GroupBy())
    with pytest.raises(ValueError, match="multiple"):
        CallerAggregator(60, 0, GroupBy())


# --- memory -----------------------------------------------------------------------------------


def test_state_is_bounded_by_the_window_not_the_session() -> None:
    """24 simulated hours, a record every 3 s from 5,000 callers over 3 models: what is held
    after each hour depends on the window (10 min) and the rate, not on the records seen."""
    rng = random.Random(7)
    agg = aggregator("caller+model")
    sizes = []
    step, hour = 3, 3600
    for i in range(24 * hour // step):
        at = T0 + i * step
        caller = f"arn:aws:iam::1:user/u{rng.randrange(5000)}"
        agg.add(rec(f"r{i}", at - rng.uniform(0, 20), caller, rng.choice("xyz")), at)
        if (i + 1) % (hour // step) == 0:
            sizes.append(agg.stats)
    last = sizes[-1]
    assert last.records == 24 * hour // step  # every record counted
    periods = WINDOW // PERIOD + 1 + FUTURE_SLACK_S // PERIOD
    per_period = PERIOD // step
    for stats in sizes:
        assert stats.periods <= periods
        assert stats.cells <= periods * per_period
        assert stats.groups <= stats.cells
        # ids of the window, the dedupe margin and the period being filled
        assert stats.request_ids <= (WINDOW + DEDUPE_EXTRA_S + 2 * PERIOD) // step
    assert max(s.request_ids for s in sizes[1:]) <= 1.05 * min(s.request_ids for s in sizes[1:])
    assert last.request_ids < last.records / 50
