"""How far back CloudWatch still answers, and at which periods: the rules a past window
(``--end``, the monitor's ``{`` / ``}`` keys) must follow.

CloudWatch keeps 1-minute datapoints 15 days, 5-minute ones 63 days and 1-hour ones 455 days;
a GetMetricData query whose StartTime is older than a tier must use a period that is a
multiple of the next one, or it gets no data. Pure functions of numbers: no clock is read.
"""

from __future__ import annotations

from typing import Final

from bedrock_top.errors import ConfigError

MINUTE: Final = 60
DAY: Final = 86_400
# (how long CloudWatch keeps them, the period of the datapoints kept that long)
TIERS: Final = ((15 * DAY, 60), (63 * DAY, 300), (455 * DAY, 3600))
MAX_AGE_S: Final = TIERS[-1][0]  # nothing older than this is kept at all
# ListMetrics (and so discovery) finds only metrics with data in the last two weeks.
LISTED_S: Final = 14 * DAY
LISTED_WARNING: Final = (
    "this window starts more than 14 days ago and CloudWatch lists only metrics with data "
    "in the last 14 days: a model silent since then is missing here"
)
MAX_POINTS: Final = 1440  # points per window (``config.MAX_PERIODS_PER_WINDOW``)
# A window near a tier boundary gets the coarser period already: its queries stay valid for
# the hour a screen may show it (the boundary moves back as the window ages).
MARGIN_S: Final = 3600


def finest_period(age_s: float) -> int | None:
    """The finest period CloudWatch still answers for data ``age_s`` old (None: none kept)."""
    for kept, period in TIERS:
        if age_s <= kept:
            return period
    return None


def period_name(period_s: int) -> str:
    """60 -> "1-minute", 3600 -> "1-hour", 86400 -> "1-day"."""
    for unit, name in ((DAY, "day"), (3600, "hour"), (MINUTE, "minute")):
        if period_s % unit == 0:
            return f"{period_s // unit}-{name}"
    return f"{period_s}-second"


def duration_text(seconds: int) -> str:
    """900 -> "15m", 5400 -> "90m", 7200 -> "2h", 86400 -> "1d" (as --window takes it)."""
    for unit, name in ((DAY, "d"), (3600, "h"), (MINUTE, "m")):
        if seconds % unit == 0:
            return f"{seconds // unit}{name}"
    return f"{seconds}s"


def _days_ago(age_s: float) -> str:
    days = round(age_s / DAY)
    return f"{days} day{'s' if days != 1 else ''} ago"


def _allowed(period_s: int, window_s: int, start_age_s: float) -> bool:
    """CloudWatch answers this period over the whole window (the start may move back by up
    to a period when the end is aligned to it, and by ``MARGIN_S`` while it is shown)."""
    finest = finest_period(start_age_s + period_s + MARGIN_S)
    return (
        finest is not None
        and period_s % finest == 0
        and window_s % period_s == 0
        and window_s // period_s <= MAX_POINTS
    )


def choose_period(
    window_s: int, period_s: int, start_age_s: float, explicit: bool
) -> tuple[int, str | None]:
    """The period to show a window starting ``start_age_s`` ago with, and why it differs from
    ``period_s`` (None: it does not).

    A period finer than CloudWatch keeps at the window's start is raised to the smallest one
    that is a multiple of the tier kept there, divides the window and keeps it at
    ``MAX_POINTS`` or fewer; ``explicit`` (the user's --period) only changes the note's
    wording. When no period fits, ConfigError names --window and --end.
    """
    if period_s <= 0 or period_s % MINUTE or window_s % period_s:
        raise ValueError(f"period {period_s}s must be a multiple of 60 dividing {window_s}s")
    if window_s // period_s > MAX_POINTS:
        raise ValueError(f"period {period_s}s gives more than {MAX_POINTS} points")
    if _allowed(period_s, window_s, start_age_s):
        return period_s, None
    for candidate in range(period_s + MINUTE, window_s + 1, MINUTE):
        if _allowed(candidate, window_s, start_age_s):
            break
    else:
        raise _no_period(window_s, start_age_s)
    kept = finest_period(start_age_s + candidate + MARGIN_S)
    gone = TIERS[[period for _, period in TIERS].index(kept or 60) - 1]  # the tier before
    note = (
        f"{period_name(gone[1])} data is kept {gone[0] // DAY} days; this window starts "
        f"{_days_ago(start_age_s)}, so it shows {period_name(candidate)} periods"
    )
    if explicit:
        note = f"--period {period_s} is finer than CloudWatch keeps: {note}"
    return candidate, note


def _no_period(window_s: int, start_age_s: float) -> ConfigError:
    """Why no period shows this window: its start is gone, or no period of the tier kept
    there divides it."""
    window = duration_text(window_s)
    kept = finest_period(start_age_s + MARGIN_S)
    if kept is None:
        return ConfigError(
            f"--window {window} with --end: this window starts {_days_ago(start_age_s)} and "
            f"CloudWatch keeps data {MAX_AGE_S // DAY} days; use a later --end or a shorter "
            "--window"
        )
    return ConfigError(
        f"--window {window} with --end: this window starts {_days_ago(start_age_s)}, where "
        f"CloudWatch keeps only {period_name(kept)} data, and no multiple of that divides "
        f"{window}; use a longer --window or a later --end"
    )


def past_period(
    window_s: int, period_s: int, end: float | None, now: float, explicit: bool
) -> tuple[int, str | None]:
    """``choose_period`` for a window ending at ``end`` (None: live, kept as asked). Call it
    with the period the user asked for each time the window moves, so a window stepped back
    to recent data gets its finer period again."""
    if end is None:
        return period_s, None
    start = end - end % MINUTE - window_s
    return choose_period(window_s, period_s, now - start, explicit)


def step_end(
    end: float | None, window_s: int, direction: int, now: float, period_s: int = MINUTE
) -> float | None:
    """The end of the window ``direction`` windows later (-1: one back, +1: one forward).

    None is the live window, which ends with the period under way (the poller's live
    window): one step back from it is the window just before, adjoining it. A step that
    reaches into the period under way returns None (live again), so a result is never in the
    future. Ends are aligned to ``period_s`` (the minute by default; pass the period shown
    so the window the poller aligns is exactly this one). A step back past what CloudWatch
    keeps (the new window would start more than ``MAX_AGE_S`` ago) does not move: ``end``
    is returned as it was.
    """
    current = now - now % period_s  # the start of the period under way
    base = current + period_s if end is None else end - end % period_s
    moved = base + direction * window_s
    if moved > current:
        return None
    if moved - window_s < now - MAX_AGE_S:
        return end
    return moved


def around(at: float, window_s: int, now: float, period_s: int = MINUTE) -> float | None:
    """The end of the window centred on the moment ``at`` (aligned down to ``period_s``);
    None when that window reaches into the period under way (the live window shows it)."""
    end = at + window_s / 2
    end -= end % period_s
    if end > now - now % period_s:
        return None
    return end
