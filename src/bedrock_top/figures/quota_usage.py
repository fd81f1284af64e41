"""Usage against each quota, minute by minute: peak and last TPM / RPM, tokens per day, and
why a throttled minute was throttled.

Bedrock counts quotas per minute, so these figures are always at 1-minute resolution over the
last 60 complete minutes, whatever the window and period of the table. Pure: the poller hands
in per-minute values it read from CloudWatch; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Final, Literal, TypeVar

from bedrock_top.figures.quotas import ModelQuotas, QuotaKind, ServiceQuota

MINUTE: Final = 60
LOOKBACK_MINUTES: Final = 60  # "peak" is the busiest of this many complete minutes
DAY_S: Final = 86_400
# What each figure needs per minute (metric keys of ``catalog.METRICS``).
RPM_KEYS: Final = ("invocations", "throttles")
COMPUTED_TPM_KEYS: Final = ("input_tokens", "cache_write_tokens", "output_tokens")
ESTIMATED_TPM_KEY: Final = "tpm_quota"
NEAR: Final = 0.9  # a quota this full explains a throttle

TpmSource = Literal["EstimatedTPMQuotaUsage", "computed", "Invocations"]
# (metric key, first minute) -> its 60 per-minute values from there (0.0 without a datapoint:
# nothing happened), or None when the series is not held at all
SeriesReader = Callable[[str, int], Sequence[float] | None]


@dataclass(frozen=True, slots=True)
class RateUsage:
    """Usage of one per-minute quota (the contract's ``Q``). Percentages are 0-100."""

    code: str
    name: str
    limit: float
    peak: float  # the busiest complete minute of the last 60
    peak_pct: float
    last: float  # the newest complete minute
    last_pct: float
    source: TpmSource


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """Usage of a per-day quota over [until - 24 h, until) (the contract's ``D``)."""

    code: str
    name: str
    limit: float
    used: float
    used_pct: float
    until: int  # epoch seconds: the end of the 24 hours counted


@dataclass(frozen=True, slots=True)
class QuotaMinutes:
    """The last 60 complete minutes of one model, oldest first: what the quota charts draw
    and the throttle reasons read.

    A quota is shared by every ModelId it applies to (an application profile and its base
    model; the geographic profiles of one model), so once ``shared`` by ``share`` the usage
    series are the quota's, summed over those ModelIds; throttles stay the row's own.
    """

    starts: tuple[int, ...]
    tpm_used: tuple[float, ...]
    requests: tuple[float, ...]  # Invocations Sum
    throttles: tuple[float, ...]  # InvocationThrottles Sum
    tpm_source: TpmSource
    sharing: int = 1  # how many ModelIds the usage series add up

    def shared(
        self, tpm_used: Sequence[float], requests: Sequence[float], sharing: int
    ) -> QuotaMinutes:
        return QuotaMinutes(
            self.starts, tuple(tpm_used), tuple(requests), self.throttles, self.tpm_source, sharing
        )


@dataclass(frozen=True, slots=True)
class RowQuota:
    """A row's quota figures (``ModelRow.quota``): each kind None when no quota of it is
    known for the model."""

    tpm: RateUsage | None
    rpm: RateUsage | None
    tpd: DailyUsage | None
    minutes: QuotaMinutes

    @property
    def peak_pct(self) -> float | None:
        """The table's Quota %: peak TPM or RPM, whichever is higher."""
        found = [u.peak_pct for u in (self.tpm, self.rpm) if u is not None]
        return max(found) if found else None

    def worst(self) -> tuple[QuotaKind, float] | None:
        """The fullest quota of the row: (kind, percent), TPD counted by its daily use."""
        found: list[tuple[float, QuotaKind]] = []
        if self.tpm is not None:
            found.append((self.tpm.peak_pct, "tpm"))
        if self.rpm is not None:
            found.append((self.rpm.peak_pct, "rpm"))
        if self.tpd is not None:
            found.append((self.tpd.used_pct, "tpd"))
        if not found:
            return None
        pct, kind = max(found, key=lambda f: f[0])
        return kind, pct

    def reasons(self) -> list[tuple[int, str]]:
        """(minute start, one-line reason) for every throttled minute, oldest first."""
        return [
            (t, throttle_reason(self, i))
            for i, (t, thr) in enumerate(
                zip(self.minutes.starts, self.minutes.throttles, strict=True)
            )
            if thr > 0
        ]

    def to_dict(self) -> dict[str, object]:
        return {
            "tpm": _rate_dict(self.tpm),
            "rpm": _rate_dict(self.rpm),
            "tpd": daily_dict(self.tpd),
        }


def _rate_dict(usage: RateUsage | None) -> dict[str, object] | None:
    return asdict(usage) if usage is not None else None


def daily_dict(usage: DailyUsage | None) -> dict[str, object] | None:
    """The contract's ``D`` (without ``until``, which the JSON window says)."""
    if usage is None:
        return None
    out = asdict(usage)
    del out["until"]
    return out


def pct(used: float, limit: float) -> float:
    """Percent of a limit (0-100, may exceed 100); a zero limit is full at any use."""
    if limit <= 0:
        return 100.0 if used > 0 else 0.0
    return used / limit * 100.0


def last_complete_minute(complete_until: int) -> int:
    """Start of the newest minute that ends at or before ``complete_until``."""
    return complete_until - complete_until % MINUTE - MINUTE


def minute_starts(complete_until: int) -> tuple[int, ...]:
    """Starts of the last ``LOOKBACK_MINUTES`` complete minutes, oldest first."""
    last = last_complete_minute(complete_until)
    return tuple(range(last - (LOOKBACK_MINUTES - 1) * MINUTE, last + MINUTE, MINUTE))


def tpm_source(published: Sequence[str] | Mapping[str, str]) -> TpmSource:
    """EstimatedTPMQuotaUsage when the model publishes it (it already applies the burndown),
    else the TPM figure is computed from token counts."""
    return "EstimatedTPMQuotaUsage" if ESTIMATED_TPM_KEY in published else "computed"


def computed_tokens(inputs: float, cache_writes: float, outputs: float, burndown: int) -> float:
    """Quota tokens from token counts: input + cache write + burndown x output (cache reads
    do not count against the quota)."""
    return inputs + cache_writes + burndown * outputs


def tpm_used(read: Callable[[str], float | None], source: TpmSource, burndown: int) -> float:
    """Quota tokens of one span: the estimate, or ``computed_tokens``."""
    if source == "EstimatedTPMQuotaUsage":
        return read(ESTIMATED_TPM_KEY) or 0.0
    inputs, writes, outputs = (read(k) or 0.0 for k in COMPUTED_TPM_KEYS)
    return computed_tokens(inputs, writes, outputs, burndown)


def quota_minutes(
    series: SeriesReader, complete_until: int, source: TpmSource, burndown: int
) -> QuotaMinutes:
    """Per-minute usage over the last 60 complete minutes (a minute without a datapoint
    had no traffic: 0). Whole series at a time: this runs for every model with a quota on
    every snapshot."""
    starts = minute_starts(complete_until)
    first = starts[0]
    zeros = (0.0,) * LOOKBACK_MINUTES

    def values(metric: str) -> Sequence[float]:
        found = series(metric, first)
        return zeros if found is None else found

    if source == "EstimatedTPMQuotaUsage":
        tpm = tuple(values(ESTIMATED_TPM_KEY))
    else:
        inputs, writes, outputs = (values(k) for k in COMPUTED_TPM_KEYS)
        per_minute = zip(inputs, writes, outputs, strict=True)
        tpm = tuple(computed_tokens(i, w, o, burndown) for i, w, o in per_minute)
    return QuotaMinutes(
        starts=starts,
        tpm_used=tpm,
        requests=tuple(values("invocations")),
        throttles=tuple(values("throttles")),
        tpm_source=source,
    )


def rate_usage(quota: ServiceQuota, per_minute: Sequence[float], source: TpmSource) -> RateUsage:
    peak = max(per_minute, default=0.0)
    last = per_minute[-1] if per_minute else 0.0
    return RateUsage(
        code=quota.code,
        name=quota.name,
        limit=quota.value,
        peak=peak,
        peak_pct=pct(peak, quota.value),
        last=last,
        last_pct=pct(last, quota.value),
        source=source,
    )


def daily_usage(quota: ServiceQuota, used: float, until: int) -> DailyUsage:
    return DailyUsage(quota.code, quota.name, quota.value, used, pct(used, quota.value), until)


def row_quota(
    limits: ModelQuotas, minutes: QuotaMinutes, day_used: float | None, day_until: int | None
) -> RowQuota:
    """A row's figures from its limits, minutes and 24-hour total (None: not read yet)."""
    tpd = None
    if limits.tpd is not None and day_used is not None and day_until is not None:
        tpd = daily_usage(limits.tpd, day_used, day_until)
    return RowQuota(
        tpm=rate_usage(limits.tpm, minutes.tpm_used, minutes.tpm_source) if limits.tpm else None,
        rpm=rate_usage(limits.rpm, minutes.requests, "Invocations") if limits.rpm else None,
        tpd=tpd,
        minutes=minutes,
    )


def throttle_reason(quota: RowQuota, index: int) -> str:
    """Why minute ``index`` of ``quota.minutes`` was throttled, in one line."""
    minutes = quota.minutes
    if quota.tpm is not None:
        share = pct(minutes.tpm_used[index], quota.tpm.limit)
        if share >= NEAR * 100:
            return f"TPM at {share:.0f} % of {quota.tpm.limit:,.0f}"
    if quota.rpm is not None:
        share = pct(minutes.requests[index], quota.rpm.limit)
        if share >= NEAR * 100:
            return f"RPM at {share:.0f} % of {quota.rpm.limit:,.0f}"
    if quota.tpd is not None and quota.tpd.used_pct >= 100:
        return f"daily tokens at {quota.tpd.used_pct:.0f} %"
    return (
        "no quota near its limit: likely max_tokens reservation "
        "(Bedrock reserves input + max_tokens at request start)"
    )


K = TypeVar("K")


def share_quotas(
    entries: Mapping[K, tuple[ModelQuotas, QuotaMinutes, float | None, int | None]],
) -> dict[K, RowQuota]:
    """Each row's figures against quotas shared with other rows: usage of a quota is the sum
    over every ModelId it applies to (entries: key -> (limits, own minutes, own 24-hour
    total or None, when it was read))."""
    tpm: dict[str, list[float]] = {}
    rpm: dict[str, list[float]] = {}
    day: dict[str, float] = {}
    users: dict[tuple[str, str], int] = {}
    for limits, _, day_used, _ in entries.values():
        for kind, quota in (("tpm", limits.tpm), ("rpm", limits.rpm)):
            if quota is not None:
                users[(kind, quota.code)] = users.get((kind, quota.code), 0) + 1
        if limits.tpd is not None and day_used is not None:
            day[limits.tpd.code] = day.get(limits.tpd.code, 0.0) + day_used
    for limits, minutes, _, _ in entries.values():  # sums only where a quota is shared
        for kind, quota, series, into in (
            ("tpm", limits.tpm, minutes.tpm_used, tpm),
            ("rpm", limits.rpm, minutes.requests, rpm),
        ):
            if quota is None or users[(kind, quota.code)] < 2:
                continue
            total = into.get(quota.code)
            into[quota.code] = (
                list(series)
                if total is None
                else [a + b for a, b in zip(total, series, strict=True)]
            )
    out: dict[K, RowQuota] = {}
    for key, (limits, minutes, day_used, until) in entries.items():
        tpm_series = tpm.get(limits.tpm.code, minutes.tpm_used) if limits.tpm else minutes.tpm_used
        rpm_series = rpm.get(limits.rpm.code, minutes.requests) if limits.rpm else minutes.requests
        sharing = max(
            (users.get((k, q.code), 1) for k, q in (("tpm", limits.tpm), ("rpm", limits.rpm)) if q),
            default=1,
        )
        shared = minutes.shared(tpm_series, rpm_series, sharing)
        used = day.get(limits.tpd.code) if limits.tpd and day_used is not None else None
        out[key] = row_quota(limits, shared, used, until)
    return out


def quota_lines(quota: RowQuota, time_fmt: Callable[[int], str]) -> list[str]:
    """The detail view's words: each limit and its use, then why each throttled minute of
    the last 60 was throttled, newest first."""
    lines = []
    for label, usage in (("TPM", quota.tpm), ("RPM", quota.rpm)):
        if usage is not None:
            source = f" ({usage.source})" if label == "TPM" else ""
            lines.append(
                f"{label} quota {usage.limit:,.0f} ({usage.code}): peak {usage.peak:,.0f} "
                f"= {usage.peak_pct:.1f} %, last {usage.last:,.0f} = {usage.last_pct:.1f} %"
                + source
            )
    throttled = sum(quota.minutes.throttles)
    lines.append(f"throttled requests in these 60 minutes: {throttled:,.0f}")
    if quota.tpd is not None:
        d = quota.tpd
        lines.append(
            f"TPD quota {d.limit:,.0f} ({d.code}): {d.used:,.0f} in the 24 h to "
            f"{time_fmt(d.until)} = {d.used_pct:.1f} %"
        )
    if quota.minutes.sharing > 1:
        lines.append(f"usage counts all {quota.minutes.sharing} model ids sharing the quota")
    for t, why in reversed(quota.reasons()):
        lines.append(f"✕ {time_fmt(t)} throttled: {why}")
    return lines
