"""Which Service Quota limits which CloudWatch ModelId.

AWS publishes no map from model id to quota code: a per-model quota only says, in its name,
which model it is for ("On-demand InvokeModel tokens per minute for Anthropic Claude 3
Haiku"). This module reads those names, resolves the model name with ListFoundationModels
(providerName + modelName) and a ModelId with ListInferenceProfiles, and lets the config
override. Pure: it works on a ``QuotaCatalog`` and does no I/O.

Names have changed over time (the same code has been seen under both spellings), so parsing is
case-insensitive and accepts "InvokeModel" or "model inference", "Cross-Region" or
"Cross-region", "Global cross-Region", an optional " V1"/" V2" version suffix and a trailing
remark in parentheses such as "(doubled for cross-region calls)". Names follow
https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.quotas import (
    QUOTA_KINDS,
    FoundationModel,
    InferenceProfile,
    ModelQuotas,
    QuotaCatalog,
    QuotaKind,
    QuotaReport,
    Scope,
    ServiceQuota,
)

__all__ = [
    "ACCOUNT_TPD_NAME",
    "account_tpd",
    "match_quotas",
    "parse_quota_name",
    "report",
    "resolve_model",
    "unknown_overrides",
]

ACCOUNT_TPD_NAME: Final = "Cross-Model Max Tokens Per Day"
APPLICATION: Final = "APPLICATION"

_WS = re.compile(r"\s+")
# "On-demand InvokeModel tokens per minute for X", "Cross-region model inference requests per
# minute for X", "Global cross-Region model inference tokens per day for X", ...
_SCOPED = re.compile(
    r"^(?P<scope>on[- ]demand|cross[- ]region|global cross[- ]region)\s+"
    r"(?:invoke ?model|model inference)\s+"
    r"(?P<unit>tokens|requests)\s+per\s+(?P<per>minute|day)\s+for\s+(?P<model>.+)$",
    re.IGNORECASE,
)
# "Model invocation max tokens per day for X (doubled for cross-region calls)": one daily
# quota shared by every way of calling model X.
_SHARED_TPD = re.compile(r"^model invocation max tokens per day for\s+(?P<model>.+)$", re.I)
_ACCOUNT = re.compile(r"^cross[- ]model max tokens per day$", re.IGNORECASE)
_MANTLE = re.compile(r"^bedrock mantle\b", re.IGNORECASE)
_DOUBLED = re.compile(r"\(doubled for cross[- ]region", re.IGNORECASE)
# A trailing remark such as "(doubled for cross-region calls)". A one-word parenthesis is kept:
# it is part of a model name ("Mistral Large (24.02)").
_REMARK = re.compile(r"\s*\([^()]*\s[^()]*\)\s*$")
_VERSION_SUFFIX = re.compile(r"^(?P<base>.+?)\s+v(?P<version>\d+)$", re.IGNORECASE)
_ID_VERSION = re.compile(r"-v(?P<version>\d+)(?=$|:)")
_SCOPES: Final[dict[str, Scope]] = {
    "on-demand": "on-demand",
    "on demand": "on-demand",
    "cross-region": "cross-region",
    "cross region": "cross-region",
    "global cross-region": "global",
    "global cross region": "global",
}
_PER_MODEL_SCOPES: Final[tuple[Scope, ...]] = ("on-demand", "cross-region", "global")
_NO_OVERRIDES: Final[Mapping[str, str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class _Parsed:
    kind: QuotaKind
    scope: Scope
    model: str | None
    shared: bool  # a daily quota for every scope of the model


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _norm(text: str) -> str:
    return _clean(text).casefold()


def _parse(name: str) -> _Parsed | None:
    text = _clean(name)
    while (stripped := _REMARK.sub("", text)) != text:
        text = stripped
    if _ACCOUNT.match(text):
        return _Parsed("tpd", "account", None, shared=False)
    if shared := _SHARED_TPD.match(text):
        return _Parsed("tpd", "on-demand", shared.group("model"), shared=True)
    scoped = _SCOPED.match(text)
    if scoped is None:
        return None
    unit, per = scoped.group("unit").lower(), scoped.group("per").lower()
    kind: QuotaKind
    if per == "minute":
        kind = "tpm" if unit == "tokens" else "rpm"
    elif unit == "tokens":
        kind = "tpd"
    else:
        return None  # requests per day: not a quota bedrock-top reads
    scope = _SCOPES[scoped.group("scope").lower()]
    return _Parsed(kind, scope, scoped.group("model"), shared=False)


def parse_quota_name(name: str) -> tuple[QuotaKind, Scope, str | None] | None:
    """(kind, scope, model name) of a per-model TPM/RPM/TPD runtime quota or of the
    account-wide daily quota (model name None); None for any other quota, Mantle ones
    included (a different endpoint, not counted by AWS/Bedrock metrics).

    The model name is as written, without a trailing remark in parentheses, with any " V2"
    version suffix kept. "Model invocation max tokens per day for X" has no scope in its name
    and limits every way of calling X (on-demand, cross-Region and global profiles; the name
    says it is doubled for cross-Region calls): it parses as scope "on-demand", the calls
    its value is stated for, and ``match_quotas`` applies it to all three scopes.
    """
    parsed = _parse(name)
    return None if parsed is None else (parsed.kind, parsed.scope, parsed.model)


def _split_version(name: str) -> tuple[str, int | None]:
    found = _VERSION_SUFFIX.match(name)
    if found is None:
        return name, None
    return found.group("base"), int(found.group("version"))


def _id_version(model_id: str) -> int | None:
    found = _ID_VERSION.search(model_id)
    return None if found is None else int(found.group("version"))


def _arn_model(arn: str) -> tuple[str, str] | None:
    """(region, model id) of a foundation-model or inference-profile ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "bedrock":
        return None
    kind, _, rest = parts[5].partition("/")
    if kind not in {"foundation-model", "inference-profile"} or not rest:
        return None
    return parts[3], rest


@dataclass(frozen=True, slots=True)
class _Index:
    """Everything ``match_quotas`` looks up, built once per catalogue."""

    quotas: dict[str, ServiceQuota]  # code -> quota (applied values win over defaults)
    parsed: dict[str, _Parsed]  # code -> parsed name, for the quotas that parse
    # (foundation model id, scope, kind) -> the quota that limits it
    slots: dict[tuple[str, Scope, QuotaKind], ServiceQuota]
    shadowed: dict[str, str]  # code of a quota that lost its slot -> the winner's code
    resolved: dict[str, tuple[str, ...]]  # code -> foundation model ids its name resolved to
    profiles: dict[str, InferenceProfile]  # profile id and ARN -> profile
    account_tpd: ServiceQuota | None


def _names_index(
    models: Iterable[FoundationModel],
) -> tuple[dict[str, list[tuple[int | None, str]]], dict[str, list[tuple[int | None, str]]]]:
    """Normalised whole name without version suffix -> [(version, model id)], once with the
    provider ("anthropic claude 3 haiku") and once without it ("claude 3 haiku")."""
    full: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    bare: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    for model in models:
        name = _clean(model.model_name)
        provider = _clean(model.provider_name)
        if provider and not name.casefold().startswith(provider.casefold() + " "):
            whole = f"{provider} {name}"
        else:
            whole = name
        base, version = _split_version(whole)
        bare_base, _ = _split_version(name)
        if version is None:
            version = _id_version(model.model_id)
        full[base.casefold()].append((version, model.model_id))
        bare[bare_base.casefold()].append((version, model.model_id))
    return full, bare


def _resolve_name(
    model_name: str,
    full: Mapping[str, list[tuple[int | None, str]]],
    bare: Mapping[str, list[tuple[int | None, str]]],
) -> tuple[str, ...]:
    """The foundation model ids a quota's model name means: a whole-name match (never a
    prefix), first with the provider, then without it. "X V2" needs version 2 (from the
    model name or the id's ``-v2:0``); a plain "X" means the only model so named, or else
    the version 1 ones (Claude 3.5 Sonnet is the -v1:0 model, Claude 3.5 Sonnet V2 the
    -v2:0 one)."""
    base, version = _split_version(_norm(model_name))
    candidates = full.get(base) or bare.get(base) or []
    if version is not None:
        chosen = [mid for v, mid in candidates if v == version]
        if not chosen and len(candidates) == 1 and candidates[0][0] is None:
            chosen = [candidates[0][1]]  # an id without a version: the name's suffix decides
    elif len(candidates) <= 1:
        chosen = [mid for _, mid in candidates]
    else:
        chosen = [mid for v, mid in candidates if v in (1, None)]
    return tuple(sorted(set(chosen)))


def _prefer(a: ServiceQuota, b: ServiceQuota) -> bool:
    """Whether ``a`` should hold a slot rather than ``b``: the account's own value, then the
    lower code, so the choice never depends on the order AWS listed them in."""
    return (not a.applied, a.code) < (not b.applied, b.code)


@lru_cache(maxsize=8)
def _index(catalog: QuotaCatalog) -> _Index:
    quotas: dict[str, ServiceQuota] = {}
    for quota in catalog.quotas:
        held = quotas.get(quota.code)
        if held is None or (quota.applied and not held.applied):
            quotas[quota.code] = quota
    full, bare = _names_index(catalog.models)
    parsed: dict[str, _Parsed] = {}
    resolved: dict[str, tuple[str, ...]] = {}
    slots: dict[tuple[str, Scope, QuotaKind], ServiceQuota] = {}
    shadowed: dict[str, str] = {}
    account: ServiceQuota | None = None
    names: dict[str, tuple[str, ...]] = {}  # the same model name is in several quotas
    for code in sorted(quotas):
        quota = quotas[code]
        found = _parse(quota.name)
        if found is None:
            continue
        parsed[code] = found
        if found.scope == "account":
            if account is None or _prefer(quota, account):
                account = quota
            continue
        assert found.model is not None
        key = _norm(found.model)
        if key not in names:
            names[key] = _resolve_name(found.model, full, bare)
        resolved[code] = names[key]
        scopes = _PER_MODEL_SCOPES if found.shared else (found.scope,)
        for model_id in resolved[code]:
            for scope in scopes:
                slot = (model_id, scope, found.kind)
                held = slots.get(slot)
                if held is None:
                    slots[slot] = quota
                    continue
                # A scoped daily quota beats the shared one; otherwise the preferred one.
                held_shared = parsed[held.code].shared
                if (held_shared and not found.shared) or (
                    held_shared == found.shared and _prefer(quota, held)
                ):
                    slots[slot] = quota
    used = {q.code for q in slots.values()}
    for code, ids in resolved.items():
        if code in used or not ids:
            continue
        found = parsed[code]
        scope = "on-demand" if found.shared else found.scope
        winner = slots.get((ids[0], scope, found.kind))
        if winner is not None:
            shadowed[code] = winner.code
    profiles: dict[str, InferenceProfile] = {}
    for profile in catalog.profiles:
        profiles[profile.profile_id] = profile
        profiles[profile.profile_arn] = profile
    return _Index(
        quotas=quotas,
        parsed=parsed,
        slots=slots,
        shadowed=shadowed,
        resolved=resolved,
        profiles=profiles,
        account_tpd=account,
    )


def _profile_target(profile: InferenceProfile) -> tuple[str, Scope] | None:
    """The model an application inference profile calls, and through which scope: one
    foundation-model ARN is an on-demand call in that region; ARNs in several regions mean
    the profile was copied from a system-defined cross-Region profile. Whether that one was
    geographic or global cannot be told from the regions, so several regions read as
    "cross-region"; an ARN without a region (how global profiles list their models) reads
    as "global". All ARNs must name the same model, or the target is unknown."""
    models: set[str] = set()
    regions: set[str] = set()
    hints: set[Scope] = set()
    for arn in profile.model_arns:
        found = _arn_model(arn)
        if found is None:
            return None
        region, target = found
        info = parse_model_id(target)
        if info.kind == "inference-profile":  # the ARN of a system-defined profile
            models.add(info.base_id)
            hints.add("global" if info.profile == "global" else "cross-region")
        else:
            models.add(target)
            if region:
                regions.add(region)
            else:
                hints.add("global")
    if len(models) != 1:
        return None
    (model_id,) = models
    if "global" in hints:
        return model_id, "global"
    if "cross-region" in hints or len(regions) > 1:
        return model_id, "cross-region"
    return model_id, "on-demand"


def _resolve(index: _Index, model_id: str) -> tuple[str, Scope] | None:
    info = parse_model_id(model_id)
    if info.kind == "base":
        return info.base_id, "on-demand"
    if info.kind == "inference-profile":
        return info.base_id, "global" if info.profile == "global" else "cross-region"
    if info.kind == "application-profile":
        profile = index.profiles.get(model_id) or index.profiles.get(info.base_id)
        if profile is None or profile.kind.upper() != APPLICATION:
            return None
        return _profile_target(profile)
    return None  # provisioned, custom and imported models have no on-demand quotas


def resolve_model(catalog: QuotaCatalog, model_id: str) -> tuple[str, Scope] | None:
    """(foundation model id, scope) a ModelId is counted against: its own id on demand, the
    base model of a ``us.``/``eu.``/... profile (cross-region) or ``global.`` profile
    (global), the model an application inference profile points at; None when unknown
    (an application profile missing from the catalogue, a provisioned model)."""
    return _resolve(_index(catalog), model_id)


def _unparsed_kind(index: _Index, code: str) -> QuotaKind:
    """The slot an override fills: the kind its name says, else TPM, the quota people most
    often need to point at by hand (a renamed or Mantle-style quota)."""
    found = index.parsed.get(code)
    return "tpm" if found is None else found.kind


def _limits(index: _Index, model_id: str, override: str | None) -> ModelQuotas:
    target = _resolve(index, model_id)
    slots: dict[QuotaKind, ServiceQuota | None] = dict.fromkeys(QUOTA_KINDS)
    if target is not None:
        base, scope = target
        for kind in QUOTA_KINDS:
            slots[kind] = index.slots.get((base, scope, kind))
        daily = slots["tpd"]
        if daily is not None and scope != "on-demand" and _DOUBLED.search(daily.name):
            # "... tokens per day for X (doubled for cross-region calls)": a profile's calls
            # have twice the value the quota states (the usage counted stays shared).
            slots["tpd"] = replace(daily, value=daily.value * 2)
    if override is not None and (quota := index.quotas.get(override)) is not None:
        slots[_unparsed_kind(index, override)] = quota
    return ModelQuotas(tpm=slots["tpm"], rpm=slots["rpm"], tpd=slots["tpd"])


def match_quotas(
    catalog: QuotaCatalog, model_ids: Iterable[str], overrides: Mapping[str, str] = _NO_OVERRIDES
) -> dict[str, ModelQuotas]:
    """The per-model limits of each ModelId given (every id is a key; one without any known
    quota maps to an empty, falsy ``ModelQuotas``).

    A base model id uses its on-demand quotas, a geographic profile (``us.``, ``eu.``, ...)
    the cross-Region ones of its base model, a ``global.`` profile the global ones, and an
    application profile those of the model it points at. A model's daily quota applies to
    all of them. The account-wide daily quota is not in here: see ``account_tpd``.
    ``overrides`` (ModelId -> quota code, from the config) win: the quota fills the slot of
    the kind its name says (TPM when the name does not parse); a code missing from the
    catalogue is ignored (``unknown_overrides`` and ``report`` list it).
    """
    index = _index(catalog)
    return {mid: _limits(index, mid, overrides.get(mid)) for mid in dict.fromkeys(model_ids)}


def account_tpd(catalog: QuotaCatalog) -> ServiceQuota | None:
    """The account-wide daily quota ("Cross-Model Max Tokens Per Day"), if listed."""
    return _index(catalog).account_tpd


def unknown_overrides(catalog: QuotaCatalog, overrides: Mapping[str, str]) -> dict[str, str]:
    """The overrides (ModelId -> code) whose quota code the catalogue does not have."""
    known = _index(catalog).quotas
    return {mid: code for mid, code in overrides.items() if code not in known}


def _candidate_ids(catalog: QuotaCatalog, model_ids: Iterable[str]) -> list[str]:
    """The ids ``report`` matches: those given, every foundation model and every profile of
    the catalogue, so quotas show their models even before any traffic."""
    ids = dict.fromkeys(model_ids)
    ids.update(dict.fromkeys(m.model_id for m in catalog.models))
    ids.update(dict.fromkeys(p.profile_id for p in catalog.profiles))
    return list(ids)


def _kind_order(kind: QuotaKind | None) -> int:
    return QUOTA_KINDS.index(kind) if kind is not None else len(QUOTA_KINDS)


def _reason(index: _Index, code: str, overridden: bool) -> str:
    quota = index.quotas[code]
    found = index.parsed.get(code)
    if found is None:
        if _MANTLE.match(_clean(quota.name)):
            return "Mantle endpoint quota (not AWS/Bedrock)"
        return "not a per-model runtime rate quota"
    if found.scope == "account":
        if index.account_tpd is not None and index.account_tpd.code != code:
            return f"account-wide daily quota (duplicate of {index.account_tpd.code})"
        return "account-wide daily quota"
    assert found.model is not None
    if not index.resolved.get(code):
        return f"no foundation model named '{_clean(found.model)}'"
    if code in index.shadowed:
        return f"same model, scope and kind as {index.shadowed[code]}"
    if overridden:
        return "replaced by a config override on every model id it matched"
    models = ", ".join(index.resolved[code])
    profile = "global" if found.scope == "global" else "cross-Region"
    return f"no {profile} inference profile of {models} in use or in the catalogue"


def report(
    catalog: QuotaCatalog, model_ids: Iterable[str], overrides: Mapping[str, str] = _NO_OVERRIDES
) -> list[QuotaReport]:
    """One line per quota of the catalogue for ``bedrock-top quotas``: what it is and the
    ModelIds it limits (among those given, those overridden, the catalogue's foundation
    models and profiles), or why none (``reason``). Sorted by kind (TPM, RPM, TPD, others),
    model name, code. An override naming a code the catalogue lacks is listed last, as a
    quota of value 0 with the reason."""
    index = _index(catalog)
    ids = _candidate_ids(catalog, [*model_ids, *overrides])
    matched = match_quotas(catalog, ids, overrides)
    users: dict[str, list[str]] = defaultdict(list)
    for mid, limits in matched.items():
        for slot in QUOTA_KINDS:
            if (limit := limits.of(slot)) is not None:
                users[limit.code].append(mid)
    # Would the quota have matched something without the overrides?
    plain = match_quotas(catalog, [m for m in ids if m in overrides]) if overrides else {}
    replaced = {q.code for limits in plain.values() for k in QUOTA_KINDS if (q := limits.of(k))}
    lines: list[QuotaReport] = []
    for code, quota in index.quotas.items():
        found = index.parsed.get(code)
        kind: QuotaKind | None = found.kind if found else None
        scope: Scope | None = found.scope if found else None
        model = _clean(found.model) if found and found.model else None
        if kind is None and code in users:
            kind = _unparsed_kind(index, code)  # an override made it a limit
        matched_ids = tuple(sorted(users.get(code, ())))
        reason = "" if matched_ids else _reason(index, code, code in replaced)
        lines.append(QuotaReport(quota, kind, scope, model, matched_ids, reason))
    lines.sort(key=lambda r: (_kind_order(r.kind), (r.model_name or "").casefold(), r.quota.code))
    for mid, code in sorted(unknown_overrides(catalog, overrides).items()):
        missing = ServiceQuota(code=code, name="(unknown quota code)", value=0.0)
        reason = f"config override for {mid}: no quota {code} in this region's catalogue"
        lines.append(QuotaReport(missing, None, None, None, (), reason))
    return lines
