"""Who is spending: invocation log records summed per caller (or per caller and model, or
per request metadata tag) over a sliding window, priced per model.

Counts live in per-period buckets on the same grid as the rest of the app (``end`` is the
start of the period after ``now``'s, the window is the ``window_s`` before it), so window
sums are exact as the window slides: a bucket that leaves the window stops counting and is
dropped. Each request is counted once, by request id, however often the log tail or a
retry delivers it.

Memory is bounded by the window, never by how long the monitor runs:

* periods stored: at most ``window_s / period_s`` plus the current one plus those of the
  5 minutes of clock skew let in (``FUTURE_SLACK_S``);
* counters: one per (period, group, model) with data, so at most periods x the (group,
  model) pairs active in a period; a group with nothing left in the window is gone;
* request ids: those of records no older than the window start minus ``DEDUPE_EXTRA_S``
  (a copy older than that is outside the window anyway), so at most the log rate times
  (window + 15 minutes).

``stats`` reports these sizes. Time never goes back: ``now`` older than the newest one
seen is taken as the newest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import add
from typing import Final, Literal

from bedrock_top.figures.invocation_records import InvocationRecord

NO_VALUE: Final = "(none)"  # the group of records without the metadata key grouped by
FUTURE_SLACK_S: Final = 300  # records stamped further ahead than this are clock trouble
DEDUPE_EXTRA_S: Final = 600  # request ids are kept this long past the window start

# USD per token for (input, output, cache read, cache write), as ``RowCost.per_token``.
TokenPrices = tuple[float, float, float, float]
PriceOf = Callable[[str], TokenPrices | None]
GroupKind = Literal["caller", "caller_model", "metadata"]
ShareOf = Literal["cost", "tokens"]
Group = tuple[str, ...]

# Bedrock's own rule for request metadata keys (RequestMetadataFilters in the API reference).
_METADATA_KEY: Final = re.compile(r"[a-zA-Z0-9\s._:/=+$@-]{1,256}")
_USAGE: Final = "use caller, caller+model or metadata.<key>"


@dataclass(frozen=True, slots=True)
class GroupBy:
    """How rows are grouped; ``str()`` gives "caller", "caller_model" or "metadata:<key>"."""

    kind: GroupKind = "caller"
    key: str = ""  # the requestMetadata key, for kind "metadata" only

    def __post_init__(self) -> None:
        if (self.kind == "metadata") != bool(self.key):
            raise ValueError(f"a metadata key goes with kind 'metadata' only, not {self!r}")

    def __str__(self) -> str:
        return f"metadata:{self.key}" if self.kind == "metadata" else self.kind

    @property
    def option(self) -> str:
        """As the command line spells it: "caller", "caller+model" or "metadata.<key>"."""
        if self.kind == "metadata":
            return f"metadata.{self.key}"
        return "caller+model" if self.kind == "caller_model" else "caller"

    @property
    def columns(self) -> Group:
        """What each value of a row's ``group`` is, for headings."""
        if self.kind == "caller":
            return ("caller",)
        return ("caller", "model") if self.kind == "caller_model" else (self.key,)

    def group_values(self, caller: str, model_id: str, metadata_value: str | None) -> Group:
        """A group from its parts, as a backfill row has them (None: the key was absent)."""
        if self.kind == "caller":
            return (caller,)
        if self.kind == "caller_model":
            return (caller, model_id)
        return (NO_VALUE if metadata_value is None else metadata_value,)

    def group_of(self, record: InvocationRecord) -> Group:
        if self.kind == "caller":
            return (record.caller,)
        if self.kind == "caller_model":
            return (record.caller, record.model_id)
        for key, value in record.metadata:
            if key == self.key:
                return (value,)
        return (NO_VALUE,)


def parse_group_by(text: str) -> GroupBy:
    """Parse "caller", "caller+model" or "metadata.<key>" (``str(GroupBy)`` forms too)."""
    spec = text.strip()
    lowered = spec.lower()
    if lowered == "caller":
        return GroupBy("caller")
    if lowered in ("caller+model", "caller_model"):
        return GroupBy("caller_model")
    for prefix in ("metadata.", "metadata:"):
        if lowered.startswith(prefix):
            key = spec[len(prefix) :]
            if not _METADATA_KEY.fullmatch(key):
                raise ValueError(f"bad request metadata key {key!r} in {text!r}: {_USAGE}")
            return GroupBy("metadata", key)
    raise ValueError(f"unknown grouping {text!r}: {_USAGE}")


def short_caller(arn: str) -> str:
    """A caller as people say it: 'RoleName/session' for an assumed role, the name of an IAM
    user or role (its path dropped), a federated user's name; any other ARN unchanged."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return arn
    service, resource = parts[2], parts[5]
    kind, _, rest = resource.partition("/")
    if service == "sts" and kind in ("assumed-role", "federated-user"):
        short = rest
    elif service == "iam" and kind in ("user", "role"):
        short = rest.rsplit("/", 1)[-1]
    else:
        short = ""
    return short or arn


@dataclass(frozen=True, slots=True)
class CallerRow:
    """One group's figures over the window (or one model's, in a group's drill-down)."""

    group: Group  # (caller,), (caller, model id) or (metadata value,)
    invocations: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None  # its priced models' tokens at their prices; None: none priced
    unpriced_models: tuple[str, ...]  # models left out of cost_usd
    share: float | None  # of all rows' cost (or tokens, see share_of); None: not known
    share_of: ShareOf  # the same for every row of one call, so shares add up to 1
    models: tuple[str, ...]
    series: tuple[float | None, ...]  # invocations per period, oldest first; None: no records
    latest_rate: float  # invocations per minute in the newest complete period

    @property
    def tokens(self) -> int:
        reads, writes = self.cache_read_tokens, self.cache_write_tokens
        return self.input_tokens + self.output_tokens + reads + writes


@dataclass(frozen=True, slots=True)
class AggregatorStats:
    """What was counted and turned away, and the state held (see the module's bound)."""

    records: int  # records counted
    duplicates: int  # request ids counted before
    outside: int  # older than the window start
    future: int  # stamped more than FUTURE_SLACK_S ahead of now
    backfilled: int  # add_totals rows counted
    groups: int  # groups with data in the periods stored
    periods: int
    cells: int  # (period, group, model) counters
    request_ids: int  # remembered for deduplication


# A cell: [invocations, input, output, cache read, cache write] of one (period, group, model).
_Cell = list[int]
_CellKey = tuple[Group, str]


class _Sums:
    """A row being summed: per-model totals (each model is priced on its own) and series."""

    __slots__ = ("models", "series")

    def __init__(self, periods: int) -> None:
        self.models: dict[str, _Cell] = {}
        self.series: list[float | None] = [None] * periods

    def add(self, index: int, model_id: str, cell: _Cell) -> None:
        before = self.series[index]
        self.series[index] = cell[0] if before is None else before + cell[0]
        total = self.models.get(model_id)
        if total is None:
            self.models[model_id] = cell.copy()
        else:
            total[:] = map(add, total, cell)

    def priced(
        self, price_of: PriceOf, prices: dict[str, TokenPrices | None]
    ) -> tuple[_Cell, float | None, tuple[str, ...]]:
        """Totals, cost of the priced models (None: none priced) and the unpriced models;
        ``prices`` caches ``price_of`` over one call of ``rows``. Costs are added with
        ``fsum``, so the order records came in cannot change a row by a rounding."""
        inv = tin = tout = read = write = 0
        costs: list[float] = []
        missing: list[str] = []
        for model_id, (c0, c1, c2, c3, c4) in self.models.items():
            inv, tin, tout, read, write = inv + c0, tin + c1, tout + c2, read + c3, write + c4
            if model_id in prices:
                price = prices[model_id]
            else:
                price = prices[model_id] = price_of(model_id)
            if price is None:
                missing.append(model_id)
            else:
                costs.append(c1 * price[0] + c2 * price[1] + c3 * price[2] + c4 * price[3])
        cost = math.fsum(costs) if costs else None
        return [inv, tin, tout, read, write], cost, tuple(sorted(missing))


class CallerAggregator:
    """Live per-group sums of invocation log records over a sliding window."""

    def __init__(self, window_s: int, period_s: int, group_by: GroupBy) -> None:
        if period_s <= 0 or window_s <= 0 or window_s % period_s:
            raise ValueError(f"window {window_s}s is not a positive multiple of period {period_s}s")
        self.window_s = window_s
        self.period_s = period_s
        self.group_by = group_by
        self._periods: dict[int, dict[_CellKey, _Cell]] = {}
        self._group_cells: dict[Group, int] = {}  # cells per group over the periods stored
        self._ids_by_period: dict[int, list[str]] = {}
        self._seen: set[str] = set()
        self._id_extra = math.ceil(DEDUPE_EXTRA_S / period_s) * period_s
        self._now = -math.inf  # the newest now seen
        self._start = -(2**62)  # the window start the state was last trimmed to
        self._records = self._duplicates = self._outside = self._future = 0
        self._backfilled = 0

    def window(self, now: float) -> tuple[int, int]:
        """[start, end) of the window at ``now``: ``end`` starts the period after now's."""
        end = int(now // self.period_s) * self.period_s + self.period_s
        return end - self.window_s, end

    def add(self, record: InvocationRecord, now: float) -> bool:
        """Count a record; False when it is a duplicate, outside the window or too far ahead.

        The window is whole periods: a record is in it when its period is, so one stamped
        just after ``now - window_s`` but in a period that has begun to leave is outside.
        """
        if now > self._now:
            self._advance(now)
        at = record.at
        if at > self._now + FUTURE_SLACK_S:
            self._future += 1
            return False
        period = self.period_s
        start = int(at // period) * period
        if start < self._start:
            self._outside += 1
            return False
        request_id = record.request_id
        if request_id in self._seen:
            self._duplicates += 1
            return False
        self._seen.add(request_id)
        ids = self._ids_by_period.get(start)
        if ids is None:
            self._ids_by_period[start] = [request_id]
        else:
            ids.append(request_id)
        self._count(
            start,
            self.group_by.group_of(record),
            record.model_id,
            (
                1,
                record.input_tokens,
                record.output_tokens,
                record.cache_read_tokens,
                record.cache_write_tokens,
            ),
        )
        self._records += 1
        return True

    def add_totals(
        self,
        group_values: Group,
        model_id: str,
        period_start: int,
        invocations: int,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int,
        cache_write_tokens: int,
        *,
        now: float | None = None,
    ) -> bool:
        """Count one row of a Logs Insights backfill (``stats count(*), sum(...) by
        bin(period_s), identity.arn, modelId``; ``GroupBy.group_values`` makes its group).

        It has no request ids, so it cannot be deduplicated against live records: backfill
        up to a period boundary and tail the log from there. A start off the grid is moved
        down onto it; rows outside the window (at ``now``, or the newest ``now`` seen; none
        yet: every row is kept until one comes) are not counted.
        """
        counts = (invocations, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        if min(counts) < 0:
            raise ValueError(f"negative counts in a backfill row: {counts}")
        if now is not None and now > self._now:
            self._advance(now)
        start = period_start - period_start % self.period_s
        if start > self._now + FUTURE_SLACK_S > -math.inf:
            self._future += 1
            return False
        if start < self._start:
            self._outside += 1
            return False
        self._count(start, group_values, model_id, counts)
        self._backfilled += 1
        return True

    def rows(self, now: float, price_of: PriceOf) -> list[CallerRow]:
        """One row per group with records in the window, the biggest share first."""
        return self._rows(self._sums(now, None), price_of, None)

    def models_of(self, group: Group, now: float, price_of: PriceOf) -> list[CallerRow]:
        """The drill-down of one group: a row per model (``models`` holds it; ``group`` is
        the group's), shares of the group's own total."""
        return self._rows(self._sums(now, group), price_of, group)

    @property
    def stats(self) -> AggregatorStats:
        return AggregatorStats(
            records=self._records,
            duplicates=self._duplicates,
            outside=self._outside,
            future=self._future,
            backfilled=self._backfilled,
            groups=len(self._group_cells),
            periods=len(self._periods),
            cells=sum(len(cells) for cells in self._periods.values()),
            request_ids=len(self._seen),
        )

    # --- state -------------------------------------------------------------------------

    def _count(self, start: int, group: Group, model_id: str, counts: tuple[int, ...]) -> None:
        cells = self._periods.get(start)
        if cells is None:
            cells = self._periods[start] = {}
        key = (group, model_id)
        cell = cells.get(key)
        if cell is None:
            cells[key] = list(counts)
            self._group_cells[group] = self._group_cells.get(group, 0) + 1
        else:
            for i, value in enumerate(counts):
                cell[i] += value

    def _advance(self, now: float) -> None:
        """Move time to ``now``, dropping the periods and request ids it leaves behind."""
        self._now = now
        start = self.window(now)[0]
        if start == self._start:
            return
        self._start = start
        for old in [p for p in self._periods if p < start]:
            for group, _ in self._periods.pop(old):
                left = self._group_cells[group] - 1
                if left:
                    self._group_cells[group] = left
                else:
                    del self._group_cells[group]
        forget = start - self._id_extra
        for old in [p for p in self._ids_by_period if p < forget]:
            self._seen.difference_update(self._ids_by_period.pop(old))

    # --- rows --------------------------------------------------------------------------

    def _sums(self, now: float, only: Group | None) -> dict[Group, _Sums]:
        """Per group (or, with ``only``, per model of that group, as ``(model,)``) sums of
        the periods in the window."""
        if now > self._now:
            self._advance(now)
        start, _ = self.window(self._now)
        n = self.window_s // self.period_s
        sums: dict[Group, _Sums] = {}
        for index in range(n):
            cells = self._periods.get(start + index * self.period_s)
            if not cells:
                continue
            for (group, model_id), cell in cells.items():
                if only is not None and group != only:
                    continue
                key = group if only is None else (model_id,)
                row = sums.get(key)
                if row is None:
                    row = sums[key] = _Sums(n)
                row.add(index, model_id, cell)
        return sums

    def _rows(
        self, sums: dict[Group, _Sums], price_of: PriceOf, parent: Group | None
    ) -> list[CallerRow]:
        prices: dict[str, TokenPrices | None] = {}
        drafts = [(group, *row.priced(price_of, prices), row) for group, row in sums.items()]
        total_cost = math.fsum(d[2] for d in drafts if d[2] is not None)
        share_of: ShareOf = "cost" if total_cost > 0 else "tokens"
        total_tokens = sum(sum(d[1]) - d[1][0] for d in drafts)
        n = self.window_s // self.period_s
        per_minute = self.period_s / 60
        rows = []
        for group, totals, cost, unpriced, row in drafts:
            if share_of == "cost":
                share = None if cost is None else cost / total_cost
            elif not total_tokens:
                share = None
            else:
                share = (totals[1] + totals[2] + totals[3] + totals[4]) / total_tokens
            latest = row.series[n - 2] if n >= 2 else None
            rows.append(
                CallerRow(
                    group=group if parent is None else parent,
                    invocations=totals[0],
                    input_tokens=totals[1],
                    output_tokens=totals[2],
                    cache_read_tokens=totals[3],
                    cache_write_tokens=totals[4],
                    cost_usd=cost,
                    unpriced_models=unpriced,
                    share=share,
                    share_of=share_of,
                    models=tuple(sorted(row.models)),
                    series=tuple(row.series),
                    latest_rate=(latest or 0) / per_minute,
                )
            )
        rows.sort(key=_biggest_first)
        return rows


def _biggest_first(row: CallerRow) -> tuple[float, int, int, Group, tuple[str, ...]]:
    share = -1.0 if row.share is None else row.share
    return (-share, -row.tokens, -row.invocations, row.group, row.models)
