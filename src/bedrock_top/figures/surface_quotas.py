"""Per-model quotas of the views beside the models table (Mantle's input and output tokens
per minute): which Service Quota limits which model, and the busiest complete minute of the
last 60 against it. Pure: works on a ``QuotaCatalog`` and the rows' rings.

AWS does not document how Mantle spells the model in the quota name, so both are accepted:
the Mantle model id itself, or a model name that ListFoundationModels resolves to a model
whose id, without its date and version, is the Mantle id ("Anthropic Claude Sonnet 4.5" ->
anthropic.claude-sonnet-4-5-20250929-v1:0 -> anthropic.claude-sonnet-4-5). Names are compared
whole (with or without the provider), never as prefixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from bedrock_top.figures.catalog import SUM
from bedrock_top.figures.quota_usage import LOOKBACK_MINUTES, MINUTE
from bedrock_top.figures.quotas import QuotaCatalog, ServiceQuota
from bedrock_top.figures.series import ModelSeries
from bedrock_top.figures.surface_rows import Window
from bedrock_top.figures.surfaces import QuotaSpec, ViewSpec

Dims = tuple[tuple[str, str], ...]
# "-20250929-v1:0", "-v2:0", "-1:0" (openai.gpt-oss-120b-1:0), ":0"
_DATED: Final = re.compile(r"-\d{8}(-v\d+(:\d+)?)?$|-v\d+(:\d+)?$|-\d+:\d+$|:\d+$")


def _words(name: str) -> str:
    """A model name compared whole, whatever its separators: 'gpt-oss-120b' and 'GPT OSS
    120B' are the same words; 'Claude Sonnet 4.5' keeps its version."""
    return " ".join(re.findall(r"[a-z0-9.]+", name.casefold()))


def undated(model_id: str) -> str:
    """A foundation model id without its date and version: the form Mantle ids take."""
    return _DATED.sub("", model_id)


def surface_limits(
    spec: ViewSpec, catalog: QuotaCatalog | None, models: Iterable[str]
) -> dict[tuple[str, str], ServiceQuota]:
    """(quota key, model) -> the quota that limits it, for the models of the view's rows
    (applied values win over AWS defaults, as everywhere)."""
    if catalog is None or not spec.quotas:
        return {}
    wanted = {m.casefold(): m for m in models}
    quotas: dict[str, ServiceQuota] = {}
    for quota in catalog.quotas:
        held = quotas.get(quota.code)
        if held is None or (quota.applied and not held.applied):
            quotas[quota.code] = quota
    found: dict[tuple[str, str], ServiceQuota] = {}
    for quota in quotas.values():
        for limit in spec.quotas:
            if not quota.name.casefold().startswith(limit.prefix.casefold()):
                continue
            named = quota.name[len(limit.prefix) :].strip()
            targets = {named.casefold()} | {
                undated(f.model_id).casefold()
                for f in catalog.models
                if _words(named)
                in (_words(f"{f.provider_name} {f.model_name}"), _words(f.model_name))
            }
            for target in targets & wanted.keys():
                found[(limit.key, wanted[target])] = quota
    return found


def quota_figures(
    spec: ViewSpec,
    rows: Sequence[tuple[str | None, Dims, ModelSeries]],
    limits: Mapping[tuple[str, str], ServiceQuota],
    window: Window,
    complete_until: int,
    own_account: str | None = None,
) -> dict[tuple[str | None, Dims], dict[str, float | None]]:
    """Each row's ``<key>_limit`` and ``<key>_peak_pct`` (0-100): the busiest complete
    minute of its model (every row of the model in the account summed) against the limit,
    over the last 60 complete minutes the window holds. Only at a 1-minute period (the quota
    counts per minute); None where no quota is published for the model. Linked accounts'
    quotas are their own: only this account's rows (``own_account``, or None) get figures."""
    out: dict[tuple[str | None, Dims], dict[str, float | None]] = {
        (account, dims): {} for account, dims, _ in rows
    }
    last = complete_until - complete_until % MINUTE  # the first minute not yet complete
    first = max(last - LOOKBACK_MINUTES * MINUTE, window.start)
    count = max(0, (last - first) // MINUTE)
    for limit in spec.quotas:
        per_model: dict[tuple[str | None, str], list[float]] = {}
        for account, dims, stored in rows:
            model = dict(dims).get(limit.dimension)
            ring = stored.rings.get((limit.measure, SUM))
            if model is None or ring is None or window.period != MINUTE or not count:
                continue
            summed = per_model.setdefault((account, model), [0.0] * count)
            for i, value in enumerate(ring.counts(first, count)):
                summed[i] += value
        for account, dims, _ in rows:
            model = dict(dims).get(limit.dimension)
            own = account is None or account == own_account
            quota = limits.get((limit.key, model)) if model and own else None
            minutes = per_model.get((account, model)) if model else None
            out[(account, dims)][f"{limit.key}_limit"] = quota.value if quota else None
            out[(account, dims)][f"{limit.key}_peak_pct"] = (
                max(minutes) / quota.value * 100 if quota and quota.value and minutes else None
            )
    return out


def quota_keys(specs: Iterable[QuotaSpec]) -> list[str]:
    """The row figures the quotas add, in order."""
    return [k for q in specs for k in (f"{q.key}_limit", f"{q.key}_peak_pct")]
