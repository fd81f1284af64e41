"""What the poller reads for quota figures, and how it turns that into a row's ``RowQuota``.

Quotas are counted per minute, so a model with a quota and traffic needs its last hour at a
1-minute period whatever the table's period, plus 24-hour totals for daily quotas. At a
1-minute period the table's own queries already return those minutes (they only reach a few
minutes further back on their first read), so the quota figures cost no extra metric; at a
longer period the minutes are extra queries in the same GetMetricData calls. Daily totals are
one whole-day datapoint per series, re-read every 15 minutes, not every poll.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from bedrock_top.cloudwatch.plan import MetricQuery, SeriesKey, metric_stat
from bedrock_top.figures.catalog import SUM
from bedrock_top.figures.quota_usage import (
    COMPUTED_TPM_KEYS,
    DAY_S,
    ESTIMATED_TPM_KEY,
    LOOKBACK_MINUTES,
    MINUTE,
    RPM_KEYS,
    QuotaMinutes,
    quota_minutes,
    tpm_source,
    tpm_used,
)
from bedrock_top.figures.series import ModelSeries, Ring, span

# The last 60 complete minutes end up to settle + 1 minute before the current minute ends:
# keep a few more than 60 so the oldest of them is always still held.
MINUTE_SLOTS: Final = LOOKBACK_MINUTES + 6
DAY_REFRESH_S: Final = 900  # 24-hour totals move slowly (15 min is ~1 % of a day)
QUOTA_KEYS: Final = frozenset((*RPM_KEYS, *COMPUTED_TPM_KEYS, ESTIMATED_TPM_KEY))


def tpm_keys(names: Mapping[str, str]) -> tuple[str, ...]:
    """The series TPM usage is read from for a model publishing ``names``."""
    if ESTIMATED_TPM_KEY in names:
        return (ESTIMATED_TPM_KEY,)
    return tuple(k for k in COMPUTED_TPM_KEYS if k in names)


def minute_keys(names: Mapping[str, str]) -> tuple[str, ...]:
    """Every series the quota figures need per minute."""
    return (*(k for k in RPM_KEYS if k in names), *tpm_keys(names))


def minute_since(stored: ModelSeries, metric: str, end: int, overlap: int) -> int:
    """Where a minute series' next read starts: the whole span on the first read, the
    recent tail (with the poller's overlap for late datapoints) after that."""
    floor = end - MINUTE_SLOTS * MINUTE
    done = stored.minutes_loaded.get(metric)
    since = floor if done is None else max(floor, min(end, done) - overlap)
    return since - since % MINUTE


def minute_queries(
    region: str,
    model: tuple[str | None, str],
    stored: ModelSeries,
    end: int,
    overlap: int,
) -> list[MetricQuery]:
    """Separate 1-minute queries (for a table period longer than a minute)."""
    out = []
    for key in minute_keys(stored.metric_names):
        name = stored.metric_names[key]
        since = minute_since(stored, key, end, overlap)
        sk = SeriesKey(region, model[0], model[1], key, SUM)
        out.append(MetricQuery(sk, name, MINUTE, since, metric_stat(name, model[1], MINUTE, SUM)))
    return out


def day_queries(
    region: str, model: tuple[str | None, str], stored: ModelSeries, end: int
) -> list[MetricQuery]:
    """One whole-day datapoint per TPM series, when the last read is older than
    ``DAY_REFRESH_S``."""
    if stored.day_until is not None and end - stored.day_until < DAY_REFRESH_S:
        return []
    out = []
    for key in tpm_keys(stored.metric_names):
        name = stored.metric_names[key]
        sk = SeriesKey(region, model[0], model[1], key, SUM, True)
        stat = metric_stat(name, model[1], DAY_S, SUM)
        out.append(MetricQuery(sk, name, DAY_S, end - DAY_S, stat))
    return out


def write_minutes(
    stored: ModelSeries,
    metric: str,
    start: int,
    end: int,
    stamps: Sequence[float],
    values: Sequence[float],
) -> None:
    """Store what a 1-minute query returned for [start, end)."""
    ring = stored.minutes.get(metric)
    if ring is None:
        ring = stored.minutes[metric] = Ring(MINUTE, MINUTE_SLOTS)
    ring.write(span(start, end, MINUTE, MINUTE_SLOTS), stamps, values)
    stored.minutes_loaded[metric] = end


def model_minutes(stored: ModelSeries, complete_until: int, burndown: int) -> QuotaMinutes:
    """One model's own usage minute by minute, from what is stored for it."""
    rings = stored.minutes

    def series(metric: str, first: int) -> list[float] | None:
        ring = rings.get(metric)
        return ring.counts(first, LOOKBACK_MINUTES) if ring is not None else None

    return quota_minutes(series, complete_until, tpm_source(stored.metric_names), burndown)


def quota_tokens(stored: ModelSeries, burndown: int) -> float | None:
    """The 24-hour total in quota tokens (None before it was read)."""
    if stored.day_until is None:
        return None
    return tpm_used(stored.day_sums.get, tpm_source(stored.metric_names), burndown)
