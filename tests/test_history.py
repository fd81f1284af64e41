"""The way back: ``--end TIME`` shows a past window, within what CloudWatch still keeps.

Pure parts (parsing a moment, retention tiers, stepping a window) are tested with fixed
clocks and hypothesis; the whole path runs against moto over HTTP, where every figure of a
window that ended hours ago must equal the truth computed from the requests of exactly that
window (with traffic before and after it that must not count).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.arguments import parse_settings
from bedrock_top.cli import main
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.config import Settings, parse_end
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.errors import ConfigError
from bedrock_top.figures.retention import (
    DAY,
    LISTED_WARNING,
    MARGIN_S,
    MAX_AGE_S,
    around,
    choose_period,
    finest_period,
    past_period,
    step_end,
)
from bedrock_top.output.render import past_window_lines, render_table, to_json_dict, which_window
from support.bedrock_truth import Request, expected, publish, scenario
from support.call_recorder import CallRecorder, record_cloudwatch_calls
from support.once_truth import assert_matches_truth, parse_time

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef

NOW = 1_780_000_000.0  # a fixed clock (2026-05-28T20:26:40Z): not on a minute boundary
HOUR = 3600

# --- parsing a moment -----------------------------------------------------------------------


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2026-05-28T12:00:00Z", datetime(2026, 5, 28, 12, tzinfo=UTC).timestamp()),
        ("2026-05-28T12:00Z", datetime(2026, 5, 28, 12, tzinfo=UTC).timestamp()),
        ("2026-05-28T14:00:00+02:00", datetime(2026, 5, 28, 12, tzinfo=UTC).timestamp()),
        ("2026-05-28T07:30-04:30", datetime(2026, 5, 28, 12, tzinfo=UTC).timestamp()),
        ("2026-05-28T12:00", datetime(2026, 5, 28, 12, tzinfo=UTC).timestamp()),  # naive: UTC
        ("2026-05-28 12:00:00", datetime(2026, 5, 28, 12, tzinfo=UTC).timestamp()),
        ("2026-05-20", datetime(2026, 5, 20, tzinfo=UTC).timestamp()),  # a date: its midnight
        ("2h ago", NOW - 2 * HOUR),
        ("90m ago", NOW - 90 * 60),
        ("3d ago", NOW - 3 * DAY),
        ("1h30m ago", NOW - 90 * 60),
        (" 1h 30m  ago ", NOW - 90 * 60),
        ("2 hours ago", NOW - 2 * HOUR),
        ("45 min ago", NOW - 45 * 60),
        ("2H AGO", NOW - 2 * HOUR),
    ],
)
def test_parse_end_reads_iso_and_relative_times(text: str, want: float) -> None:
    assert parse_end(text, NOW) == want


def test_now_is_the_live_window() -> None:
    assert parse_end("now", NOW) is None
    assert parse_end(" NOW ", NOW) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("garbage", "cannot read 'garbage' as a time"),
        ("", "cannot read '' as a time"),
        ("2h", "cannot read '2h' as a time"),  # a duration is not a moment
        ("ago", "cannot read 'ago' as a time"),
        ("2026-13-01", "cannot read"),
        ("2 fortnights ago", "unknown unit 'fortnights'"),
        ("2026-05-29T00:00Z", "is in the future"),
        ("1 ago", "cannot read"),
        (_iso(NOW + 61), "is in the future"),
        ("500d ago", "is 500 days ago; CloudWatch keeps data 455 days"),
        ("2025-01-01", "days ago; CloudWatch keeps data 455 days"),
    ],
)
def test_parse_end_refuses_in_one_line_naming_the_option(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_end(text, NOW, "--end")
    message = str(caught.value)
    assert message.startswith("--end: ")
    assert says in message
    assert "\n" not in message


def test_the_edges_of_what_parse_end_takes() -> None:
    assert parse_end(_iso(NOW), NOW) == NOW  # the present moment itself is not the future
    assert parse_end("455d ago", NOW) == NOW - MAX_AGE_S
    with pytest.raises(ConfigError):
        parse_end("455d1s ago", NOW)


@given(st.integers(0, 455 * 24 - 1), st.integers(0, 59))
def test_relative_hours_and_minutes(hours: int, minutes: int) -> None:
    assert parse_end(f"{hours}h{minutes}m ago", NOW) == NOW - hours * HOUR - minutes * 60


# --- retention tiers and the period of a past window -------------------------------------


def test_finest_period_follows_cloudwatch_retention() -> None:
    assert finest_period(0) == 60
    assert finest_period(15 * DAY) == 60
    assert finest_period(15 * DAY + 1) == 300
    assert finest_period(63 * DAY) == 300
    assert finest_period(63 * DAY + 1) == 3600
    assert finest_period(455 * DAY) == 3600
    assert finest_period(455 * DAY + 1) is None


def test_a_recent_window_keeps_its_period() -> None:
    assert choose_period(3600, 60, 5 * HOUR, explicit=False) == (60, None)
    assert choose_period(3600, 60, 14 * DAY, explicit=True) == (60, None)
    # already a multiple of the tier kept there
    assert choose_period(86_400, 600, 20 * DAY, explicit=False) == (600, None)


def test_a_window_older_than_15_days_gets_5_minute_periods_and_says_why() -> None:
    assert choose_period(3600, 60, 20 * DAY, explicit=False) == (
        300,
        "1-minute data is kept 15 days; this window starts 20 days ago, "
        "so it shows 5-minute periods",
    )
    period, note = choose_period(3600, 60, 20 * DAY, explicit=True)
    assert period == 300
    assert note is not None
    assert note.startswith("--period 60 is finer than CloudWatch keeps: 1-minute data")


def test_a_window_older_than_63_days_gets_hours() -> None:
    period, note = choose_period(3 * HOUR, 60, 70 * DAY, explicit=False)
    assert period == 3600
    assert note == (
        "5-minute data is kept 63 days; this window starts 70 days ago, so it shows 1-hour periods"
    )
    # the smallest multiple of the tier dividing the window, not the next "nice" one
    assert choose_period(3600, 60, 20 * DAY, explicit=False)[0] == 300
    assert choose_period(2700, 60, 20 * DAY, explicit=False)[0] == 300
    assert choose_period(4 * 3600, 120, 20 * DAY, explicit=True)[0] == 300


def test_no_period_fits_is_a_usage_error_naming_window_and_end() -> None:
    with pytest.raises(ConfigError) as caught:
        choose_period(900, 60, 70 * DAY, explicit=False)
    message = str(caught.value)
    assert "--window 15m" in message
    assert "--end" in message
    assert "1-hour data" in message
    with pytest.raises(ConfigError) as gone:  # the window starts before anything is kept
        choose_period(7 * DAY, 3600, 454 * DAY + 7 * DAY, explicit=False)
    assert "455 days" in str(gone.value)
    assert "--window 7d" in str(gone.value)


def test_a_window_near_a_tier_boundary_gets_the_coarser_period_already() -> None:
    """It stays valid for ``MARGIN_S`` while shown (the boundary moves as it ages)."""
    assert choose_period(3600, 60, 15 * DAY - 2 * MARGIN_S, explicit=False)[0] == 60
    assert choose_period(3600, 60, 15 * DAY - MARGIN_S // 2, explicit=False)[0] == 300


def test_past_period_of_the_live_window_is_the_asked_one() -> None:
    assert past_period(3600, 60, None, NOW, explicit=False) == (60, None)
    assert past_period(3600, 60, NOW - 20 * DAY, NOW, explicit=False)[0] == 300
    assert past_period(3600, 60, NOW - 5 * HOUR, NOW, explicit=False) == (60, None)


def _periods(window_s: int) -> list[int]:
    return [p for p in range(60, window_s + 1, 60) if window_s % p == 0 and window_s // p <= 1440]


windows = st.sampled_from([900, 1800, 3600, 5400, 3 * HOUR, 12 * HOUR, DAY, 3 * DAY, 7 * DAY])


@given(windows, st.data(), st.floats(0, 460 * DAY), st.booleans())
def test_periods_respect_retention_and_divide_the_window(
    window_s: int, data: st.DataObject, age: float, explicit: bool
) -> None:
    period_s = data.draw(st.sampled_from(_periods(window_s)))

    def kept(p: int) -> bool:  # CloudWatch answers p over the window for MARGIN_S to come
        finest = finest_period(age + p + MARGIN_S)
        return finest is not None and p % finest == 0

    if not any(kept(p) for p in _periods(window_s) if p >= period_s):
        with pytest.raises(ConfigError, match=r"^--window .* with --end: "):
            choose_period(window_s, period_s, age, explicit)
        return
    period, note = choose_period(window_s, period_s, age, explicit)
    finest = finest_period(age)
    assert finest is not None
    assert period % finest == 0
    assert kept(period)
    assert window_s % period == 0
    assert window_s // period <= 1440
    assert period >= period_s
    assert not any(kept(p) for p in _periods(window_s) if period_s <= p < period)  # smallest
    assert (note is None) == (period == period_s)
    if note is not None:
        assert note.startswith("--period") == explicit


# --- stepping a window back and forward --------------------------------------------------


def test_stepping_back_from_live_and_forward_again() -> None:
    live_end = NOW - NOW % 60 + 60  # the live window takes in the minute under way
    back = step_end(None, HOUR, -1, NOW)
    assert back == live_end - HOUR  # the window just before the live one
    assert step_end(back, HOUR, -1, NOW) == live_end - 2 * HOUR
    assert step_end(back, HOUR, +1, NOW) is None  # back to live
    assert step_end(None, HOUR, +1, NOW) is None  # no window after the live one
    # A past end given to the second is aligned to the minute.
    assert step_end(live_end - 5 * HOUR + 17, HOUR, -1, NOW) == live_end - 6 * HOUR
    # With the period shown, ends fall on its boundaries.
    assert step_end(None, DAY, -1, NOW, period_s=600) == NOW - NOW % 600 + 600 - DAY


def test_stepping_back_stops_at_what_cloudwatch_keeps() -> None:
    oldest = NOW - MAX_AGE_S + 7 * DAY  # a 7-day window ending here starts at the limit
    oldest += 60 - oldest % 60
    assert step_end(oldest + 7 * DAY, 7 * DAY, -1, NOW) == oldest
    assert step_end(oldest, 7 * DAY, -1, NOW) == oldest  # does not move


ends = st.one_of(st.none(), st.integers(1, 400 * 24 * 60).map(lambda m: NOW - NOW % 60 - m * 60))


def _period_of(data: st.DataObject, window_s: int) -> int:
    """A period the window could be shown with (it divides the window)."""
    return data.draw(st.sampled_from([p for p in (60, 300, 3600) if window_s % p == 0]))


@given(ends, windows, st.floats(0, 10 * DAY), st.data())
def test_back_then_forward_returns_to_the_same_end(
    end: float | None, window_s: int, later: float, data: st.DataObject
) -> None:
    now = NOW + later
    period_s = _period_of(data, window_s)
    if end is not None:
        end -= end % period_s
    back = step_end(end, window_s, -1, now, period_s)
    assert back is not None
    assert back <= now
    assert back % period_s == 0
    assert step_end(back, window_s, +1, now, period_s) == end


@given(ends, windows, st.integers(-3, 3), st.floats(0, DAY), st.data())
def test_a_step_never_ends_in_the_future(
    end: float | None, window_s: int, direction: int, later: float, data: st.DataObject
) -> None:
    now = NOW + later
    period_s = _period_of(data, window_s)
    moved = step_end(end, window_s, direction, now, period_s)
    if moved is not None and moved != end:
        assert moved <= now
        assert moved % period_s == 0
        assert moved - window_s >= now - MAX_AGE_S


def test_around_centres_a_window_on_a_moment() -> None:
    at = NOW - 2 * DAY + 17
    end = around(at, HOUR, NOW)
    assert end is not None
    assert end % 60 == 0
    assert end - HOUR <= at < end
    assert abs((end - HOUR / 2) - at) < 60
    assert around(NOW - 10 * 60, HOUR, NOW) is None  # that window reaches now: live
    assert around(NOW - DAY, DAY, NOW, period_s=600) == (NOW - DAY / 2) - (NOW - DAY / 2) % 600


@given(st.floats(0, 400 * DAY), windows)
def test_around_always_contains_the_moment(ago: float, window_s: int) -> None:
    at = NOW - ago
    end = around(at, window_s, NOW)
    if end is None:  # the centred window would reach the minute under way
        assert at + window_s / 2 > NOW - NOW % 60
        return
    assert end - window_s <= at < end <= NOW


# --- settings: --end is a flag, resolved with the retention rule -------------------------


def test_end_flag_sets_a_past_window_and_raises_the_period() -> None:
    settings = parse_settings(["--demo", "--end", "20d ago"])
    assert settings.end is not None
    assert abs(settings.end - (time.time() - 20 * DAY)) < 60
    assert settings.period_s == 300
    assert settings.period_note is not None
    assert "1-minute data is kept 15 days" in settings.period_note
    explicit = parse_settings(["--demo", "--end", "20d ago", "--period", "60"])
    assert explicit.period_s == 300
    assert explicit.period_note is not None
    assert explicit.period_note.startswith("--period 60")


def test_no_end_is_live_and_end_is_never_a_setting_of_the_environment() -> None:
    assert parse_settings(["--demo"]).end is None
    assert parse_settings(["--demo", "--end", "now"]).end is None
    assert parse_settings(["--demo"], environ={"BEDROCK_TOP_END": "2h ago"}).end is None
    recent = parse_settings(["--demo", "--end", "2h ago"])
    assert recent.end is not None
    assert (recent.period_s, recent.period_note) == (60, None)


def test_poll_settings_of_a_past_window() -> None:
    live = PollSettings(window_s=HOUR, period_s=60)
    assert live.window_end(NOW) == NOW - NOW % 60 + 60
    assert live.complete_until(NOW) == int(NOW) - 120
    assert live.recently_active_only
    end = NOW - 5 * HOUR + 30
    past = replace(live, end=end)
    assert past.window_end(NOW) == end - end % 60  # the boundary at or before --end
    assert past.complete_until(NOW) == past.window_end(NOW)  # every period is complete
    assert not past.recently_active_only  # PT3H of the real now says nothing of then
    just = replace(live, end=NOW - 30)  # a window ending a moment ago is still settling
    assert just.complete_until(NOW) == int(NOW) - 120 < just.window_end(NOW)
    coarse = replace(past, period_s=300)
    assert coarse.window_end(NOW) % 300 == 0


# --- the poller: rebuilt for a past window ------------------------------------------------


def test_a_poller_rebuilt_with_an_end_shows_that_window() -> None:
    """What the monitor does on ``{``: ``with_settings(replace(settings, end=...))``."""
    clock = lambda: NOW  # noqa: E731
    client = DemoCloudWatch(seed=3, region="us-east-1", clock=clock)
    poller = Poller({"us-east-1": client}, PollSettings(window_s=HOUR, period_s=60), clock)
    live = poller.poll()
    assert live.live
    assert live.requested_end is None
    end = step_end(None, HOUR, -1, NOW)
    assert end is not None
    past_poller = poller.with_settings(replace(poller.settings, end=end))
    try:
        past = past_poller.poll()
    finally:
        past_poller.close()
    assert not past.live
    assert past.requested_end == end
    assert (past.window_start, past.window_end) == (end - HOUR, end)
    assert past.window_end == live.window_start  # the window just before the live one
    assert past.latest_complete_index == HOUR // 60 - 1  # nothing in it is incomplete
    assert past.rows
    assert LISTED_WARNING not in past.warnings
    old = past_poller.with_settings(
        replace(past_poller.settings, end=NOW - 20 * DAY, period_s=300, period_note="why")
    )
    try:
        snapshot = old.poll()
    finally:
        old.close()
    assert snapshot.period == 300
    assert snapshot.period_note == "why"
    assert LISTED_WARNING in snapshot.warnings


# --- what --once says of its window ---------------------------------------------------------


def _snapshot(end: float | None, note: str | None = None) -> Any:
    poller = Poller(
        {"us-east-1": DemoCloudWatch(seed=1, region="us-east-1", clock=lambda: NOW)},
        PollSettings(window_s=HOUR, period_s=60, end=end, period_note=note),
        lambda: NOW,
    )
    try:
        return poller.poll()
    finally:
        poller.close()


def test_json_window_says_live_or_past_keeping_every_key_in_order() -> None:
    live = to_json_dict(_snapshot(None), [])["window"]
    assert list(live) == ["start", "end", "period_s", "quota_minutes", "live"]
    assert live["live"] is True
    end = datetime(2026, 5, 28, 13, 0, 30, tzinfo=UTC).timestamp()
    past = to_json_dict(_snapshot(end, "a note"), [])["window"]
    assert list(past) == [
        "start",
        "end",
        "period_s",
        "quota_minutes",
        "live",
        "requested_end",
        "period_note",
    ]
    assert past["start"] == "2026-05-28T12:00:00Z"
    assert past["end"] == "2026-05-28T13:00:00Z"
    assert past["requested_end"] == "2026-05-28T13:00:30Z"
    assert (past["live"], past["period_note"]) == (False, "a note")
    assert which_window(_snapshot(end)) == {
        "live": False,
        "requested_end": "2026-05-28T13:00:30Z",
        "period_note": None,
    }


def test_table_says_it_is_a_past_window() -> None:
    end = datetime(2026, 5, 28, 13, 0, tzinfo=UTC).timestamp()
    snapshot = _snapshot(end, "a note")
    assert past_window_lines(snapshot) == [
        "window 2026-05-28 12:00\u201313:00 UTC (past window)",
        "note: a note",
    ]
    lines = render_table(snapshot, list(snapshot.rows), None).splitlines()
    assert lines[1] == "window 2026-05-28 12:00\u201313:00 UTC (past window)"
    assert past_window_lines(_snapshot(None)) == []
    assert "past window" not in render_table(_snapshot(None), [], None)


# --- the command line: bad input is a usage error ----------------------------------------


@pytest.mark.parametrize(
    ("end", "says"),
    [
        ("garbage", "cannot read 'garbage' as a time"),
        ("2999-01-01T00:00Z", "is in the future"),
        ("500d ago", "CloudWatch keeps data 455 days"),
    ],
)
def test_bad_end_exits_2_with_one_line(
    end: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--once", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"]
    rc = main([*args, "--end", end])
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("bedrock-top: error: --end: ")
    assert says in err
    assert "Traceback" not in err


def test_a_window_no_period_can_show_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--demo", "--once", "--window", "15m", "--end", "100d ago"])
    out, err = capsys.readouterr()
    assert (rc, out) == (2, "")
    assert err.count("\n") == 1
    assert "--window 15m with --end" in err


# --- the whole path against CloudWatch over HTTP (moto) -----------------------------------


def _three_hours(client: CloudWatchClient, end: datetime) -> list[Request]:
    """The scenario's hour ending at ``end``, another before it and another after it (each
    its own seed): only the middle one belongs to the window."""
    requests = [
        *scenario(end - timedelta(hours=1), seed=8),
        *scenario(end, seed=7),
        *scenario(end + timedelta(hours=1), seed=9),
    ]
    # The minutes just outside the window hold traffic: a window one minute off would show.
    minutes = {r.at.replace(second=0, microsecond=0) for r in requests}
    assert end in minutes
    assert end - timedelta(hours=1, minutes=1) in minutes
    publish(client, requests)
    return requests


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> CallRecorder:
    return record_cloudwatch_calls(monkeypatch)


def _once(endpoint: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[str, str]:
    args = ["--once", "--region", "us-east-1", "--endpoint-url", endpoint, *extra]
    assert main(args) == 0
    return capsys.readouterr()


def test_a_window_that_ended_hours_ago_is_exact(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    recorder: CallRecorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    end = (datetime.now(UTC) - timedelta(hours=5)).replace(second=0, microsecond=0)
    requests = _three_hours(cloudwatch_client, end)
    asked = end.isoformat().replace("+00:00", "Z")
    out, err = _once(cloudwatch_endpoint, capsys, "--format", "json", "--end", asked)
    assert err == ""
    output = json.loads(out)
    window = output["window"]
    assert parse_time(window["start"]) == end - timedelta(hours=1)
    assert parse_time(window["end"]) == end
    assert window["period_s"] == 60
    assert window["live"] is False
    assert window["requested_end"] == asked
    assert window["period_note"] is None
    assert_matches_truth(output, requests)
    # The hours around it hold other traffic: counting any of it would show.
    whole = expected(requests, end - timedelta(hours=2), end + timedelta(hours=1), 60)
    assert sum(f["invocations"] for f in whole.values()) > output["totals"]["invocations"] > 0
    # Discovery lists every metric (RecentlyActive is relative to the real now), and no
    # call reads past the window's end.
    listed = recorder.named("ListMetrics")
    assert listed
    assert all("RecentlyActive" not in call for call in listed)
    for call in recorder.named("GetMetricData"):
        assert call["EndTime"] <= end
    # The table says which window it shows.
    table, _ = _once(cloudwatch_endpoint, capsys, "--end", asked)
    assert table.splitlines()[1] == (
        f"window {end - timedelta(hours=1):%Y-%m-%d %H:%M}\u2013{end:%H:%M} UTC (past window)"
    )


def test_a_relative_end_is_exact_for_the_window_it_names(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    end = (datetime.now(UTC) - timedelta(hours=5)).replace(second=0, microsecond=0)
    requests = _three_hours(cloudwatch_client, end)
    before = time.time()
    out, err = _once(cloudwatch_endpoint, capsys, "--format", "json", "--end", "5h ago")
    after = time.time()
    assert err == ""
    output = json.loads(out)
    window = output["window"]
    requested = parse_time(window["requested_end"]).timestamp()
    assert before - 5 * HOUR <= requested <= after - 5 * HOUR
    assert parse_time(window["end"]).timestamp() == requested - requested % 60
    assert window["live"] is False
    assert_matches_truth(output, requests)


def test_a_window_older_than_15_days_reads_5_minute_periods_only(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    recorder: CallRecorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The period is raised (and said on stderr), no query asks for 1-minute data there
    (quota minutes included), and the figures are still those of exactly that hour."""
    end = (datetime.now(UTC) - timedelta(days=16)).replace(minute=0, second=0, microsecond=0)
    requests = _three_hours(cloudwatch_client, end)
    asked = end.isoformat().replace("+00:00", "Z")
    out, err = _once(cloudwatch_endpoint, capsys, "--format", "json", "--end", asked)
    assert err == (
        "bedrock-top: note: 1-minute data is kept 15 days; this window starts 16 days ago, "
        "so it shows 5-minute periods\n"
    )
    output = json.loads(out)
    assert output["window"]["period_s"] == 300
    assert output["window"]["period_note"] == err.split("note: ", 1)[1].strip()
    assert LISTED_WARNING in output["warnings"]
    assert_matches_truth(output, requests)
    periods = {
        q["MetricStat"]["Period"]
        for call in recorder.named("GetMetricData")
        for q in call["MetricDataQueries"]
    }
    assert periods
    assert all(p % 300 == 0 for p in periods), periods


def test_settings_end_reaches_the_poller() -> None:
    from bedrock_top.assemble import poll_settings

    settings = Settings(end=NOW - HOUR, period_note="n")
    polled = poll_settings(settings)
    assert (polled.end, polled.period_note) == (NOW - HOUR, "n")
    assert poll_settings(Settings()).end is None


def test_moto_really_filters_by_time(cloudwatch_client: CloudWatchClient) -> None:
    """The test double honours StartTime/EndTime for old timestamps, so the exactness
    tests above could fail if the tool read the wrong window."""
    end = (datetime.now(UTC) - timedelta(days=16)).replace(minute=0, second=0, microsecond=0)
    dims: list[DimensionTypeDef] = [{"Name": "ModelId", "Value": "m"}]
    for minutes, value in ((-30, 1.0), (30, 100.0)):
        cloudwatch_client.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": dims,
                    "Timestamp": end + timedelta(minutes=minutes),
                    "Value": value,
                }
            ],
        )
    answer = cloudwatch_client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Bedrock",
                        "MetricName": "Invocations",
                        "Dimensions": dims,
                    },
                    "Period": 3600,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=end - timedelta(hours=1),
        EndTime=end,
    )
    assert answer["MetricDataResults"][0]["Values"] == [1.0]
