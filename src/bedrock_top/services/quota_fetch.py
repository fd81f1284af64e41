"""Read Bedrock's quotas (Service Quotas) and the names they refer to (Bedrock control plane),
keep them in a per-account, per-region disk cache, and never let a failure stop the monitor.

Quotas change rarely and Service Quotas throttles hard, so a catalog is read at start-up at
most every 12 hours (``QuotaCache``) and on an explicit refresh. ``QuotaSource`` is what the
app and ``--once`` use: it always answers with a ``QuotaState`` and, when AWS says no, keeps
the last good catalog (stale quotas beat none) beside a one-line reason.

I/O only: no Textual or rich here.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import platformdirs
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from bedrock_top.errors import describe_error, is_access_denied, needs_new_credentials
from bedrock_top.figures.quotas import (
    SERVICE_CODE,
    FoundationModel,
    InferenceProfile,
    QuotaCatalog,
    QuotaState,
    ServiceQuota,
)

__all__ = [
    "CACHE_FORMAT",
    "DEFAULT_MAX_AGE_S",
    "MAX_PAGES",
    "PROFILE_TYPES",
    "BedrockClient",
    "PaginationError",
    "QuotaCache",
    "QuotaSource",
    "QuotasClient",
    "StsClient",
    "caller_account",
    "default_cache_dir",
    "describe_quota_error",
    "fetch_catalog",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE_S: Final = 12 * 3600.0
# A service that keeps answering with a NextToken (a token loop) must not hang the fetch:
# Bedrock has a few hundred quotas, i.e. a handful of 100-quota pages.
MAX_PAGES = 200  # not Final: tests lower it
# ListInferenceProfiles is asked for each type: what it returns without ``typeEquals`` is not
# documented, and application profiles are the ones a user made.
PROFILE_TYPES: Final = ("SYSTEM_DEFINED", "APPLICATION")
CACHE_FORMAT: Final = 1
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class QuotasClient(Protocol):
    """The two read-only Service Quotas operations bedrock-top uses."""

    def list_service_quotas(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def list_aws_default_service_quotas(self, **kwargs: Any) -> Mapping[str, Any]: ...


class BedrockClient(Protocol):
    """The two read-only Bedrock control-plane operations bedrock-top uses."""

    def list_foundation_models(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def list_inference_profiles(self, **kwargs: Any) -> Mapping[str, Any]: ...


class StsClient(Protocol):
    def get_caller_identity(self, **kwargs: Any) -> Mapping[str, Any]: ...


ClientFactory = Callable[[], tuple[QuotasClient, BedrockClient, StsClient]]


class PaginationError(Exception):
    """A list operation still answered with a next token after ``MAX_PAGES`` pages."""


# --- fetching -------------------------------------------------------------------------------


def caller_account(sts_client: StsClient) -> str:
    """The account of the credentials (sts:GetCallerIdentity needs no IAM permission): the
    cache is per account, so it must be known before deciding whether to call the APIs."""
    account = sts_client.get_caller_identity().get("Account")
    if not isinstance(account, str) or not account:
        raise ValueError("STS GetCallerIdentity returned no account")
    return account


def _pages(
    call: Callable[..., Mapping[str, Any]],
    items_key: str,
    token_key: str,
    what: str,
    **params: Any,
) -> Iterator[Mapping[str, Any]]:
    """Every item of a paginated list. A short or empty page says nothing about the end: only
    a missing token does."""
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = call(**params, **({token_key: token} if token else {}))
        items = page.get(items_key)
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, Mapping))
        next_token = page.get(token_key)
        if not isinstance(next_token, str) or not next_token:
            return
        token = next_token
    raise PaginationError(f"{what} still returned a {token_key} after {MAX_PAGES} pages")


def _service_quota(raw: Mapping[str, Any], applied: bool) -> ServiceQuota | None:
    code, name, value = raw.get("QuotaCode"), raw.get("QuotaName"), raw.get("Value")
    if not isinstance(code, str) or not code or not isinstance(name, str) or not name:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    unit = raw.get("Unit")
    return ServiceQuota(
        code=code,
        name=name,
        value=float(value),
        unit=unit if isinstance(unit, str) and unit else "None",
        adjustable=raw.get("Adjustable") is True,
        global_quota=raw.get("GlobalQuota") is True,
        applied=applied,
    )


def _fetch_quotas(client: QuotasClient) -> tuple[ServiceQuota, ...]:
    """Defaults merged with the account's applied values (which omit quotas never changed)."""
    merged: dict[str, ServiceQuota] = {}
    sources = (
        (client.list_aws_default_service_quotas, False, "ListAWSDefaultServiceQuotas"),
        (client.list_service_quotas, True, "ListServiceQuotas"),
    )
    for call, applied, op in sources:
        raws = _pages(call, "Quotas", "NextToken", op, ServiceCode=SERVICE_CODE, MaxResults=100)
        for raw in raws:
            quota = _service_quota(raw, applied)
            if quota is not None:
                merged[quota.code] = quota  # applied ones come second: they win
    return tuple(sorted(merged.values(), key=lambda q: (q.name, q.code)))


def _fetch_models(client: BedrockClient) -> tuple[FoundationModel, ...]:
    models: dict[str, FoundationModel] = {}
    summaries = client.list_foundation_models().get("modelSummaries")
    for raw in summaries if isinstance(summaries, list) else ():
        model_id = raw.get("modelId") if isinstance(raw, Mapping) else None
        if not isinstance(model_id, str) or not model_id:
            continue
        name, provider = raw.get("modelName"), raw.get("providerName")
        models[model_id] = FoundationModel(
            model_id=model_id,
            model_name=name if isinstance(name, str) else "",
            provider_name=provider if isinstance(provider, str) else "",
        )
    return tuple(models.values())


def _fetch_profiles(client: BedrockClient) -> tuple[InferenceProfile, ...]:
    profiles: dict[str, InferenceProfile] = {}
    for kind in PROFILE_TYPES:
        raws = _pages(
            client.list_inference_profiles,
            "inferenceProfileSummaries",
            "nextToken",
            "ListInferenceProfiles",
            maxResults=1000,
            typeEquals=kind,
        )
        for raw in raws:
            profile_id, arn = raw.get("inferenceProfileId"), raw.get("inferenceProfileArn")
            if not isinstance(profile_id, str) or not profile_id:
                continue
            models = raw.get("models")
            arns = tuple(
                m["modelArn"]
                for m in (models if isinstance(models, list) else ())
                if isinstance(m, Mapping) and isinstance(m.get("modelArn"), str)
            )
            kind_seen = raw.get("type")
            profile = InferenceProfile(
                profile_id=profile_id,
                profile_arn=arn if isinstance(arn, str) else "",
                kind=kind_seen if isinstance(kind_seen, str) and kind_seen else kind,
                model_arns=arns,
            )
            profiles[profile.profile_arn or profile_id] = profile
    return tuple(profiles.values())


def fetch_catalog(
    quotas_client: QuotasClient,
    bedrock_client: BedrockClient,
    region: str,
    account: str | None,
    now: float,
) -> QuotaCatalog:
    """Everything read for one region (raises botocore's errors as they are), with one
    exception: an identity refused bedrock:ListInferenceProfiles still gets every quota of
    its base models and geographic profiles (their ids say what they are); the catalogue
    then says why its profiles are missing, and is not cached as if it were whole."""
    quotas = _fetch_quotas(quotas_client)
    models = _fetch_models(bedrock_client)
    profiles: tuple[InferenceProfile, ...] = ()
    profiles_error = ""
    try:
        profiles = _fetch_profiles(bedrock_client)
    except ClientError as exc:
        if not is_access_denied(exc):
            raise
        profiles_error = describe_quota_error(exc)
    return QuotaCatalog(
        region=region,
        account=account,
        fetched_at=now,
        quotas=quotas,
        models=models,
        profiles=profiles,
        profiles_error=profiles_error,
    )


def _where(exc: BotoCoreError) -> str:
    """The endpoint of a failed request, without its path and query."""
    url = str(exc.kwargs.get("endpoint_url") or "")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "the endpoint"


def describe_quota_error(exc: BaseException, profile: str | None = None) -> str:
    """``errors.describe_error``, but network failures name the endpoint rather than
    CloudWatch (whose wording describe_error uses for them)."""
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return f"network: cannot reach {_where(exc)}"
    if isinstance(exc, ReadTimeoutError):
        return f"network: {_where(exc)} did not answer in time"
    if isinstance(exc, ConnectionClosedError):
        return f"network: the connection to {_where(exc)} closed before it answered"
    if isinstance(exc, PaginationError):
        return str(exc)
    return describe_error(exc, profile)


# --- the disk cache -------------------------------------------------------------------------


def default_cache_dir() -> Path:
    return platformdirs.user_cache_path("bedrock-top") / "quotas"


def _encode(catalog: QuotaCatalog) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT,
        "account": catalog.account,
        "region": catalog.region,
        "fetched_at": catalog.fetched_at,
        "quotas": [
            [q.code, q.name, q.value, q.unit, q.adjustable, q.global_quota, q.applied]
            for q in catalog.quotas
        ],
        "models": [[m.model_id, m.model_name, m.provider_name] for m in catalog.models],
        "profiles": [
            [p.profile_id, p.profile_arn, p.kind, list(p.model_arns)] for p in catalog.profiles
        ],
    }


def _check(row: Any, *types: type) -> list[Any]:
    """``row`` as a list of exactly these types (bool is not a number here), or ValueError."""
    ok = isinstance(row, list) and len(row) == len(types)
    for value, kind in zip(row if ok else (), types, strict=False):
        if kind is float:
            ok = ok and isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = ok and isinstance(value, kind)
    if not ok:
        raise ValueError(f"bad cache entry: {row!r:.80}")
    return list(row)


def _decode(doc: Any, account: str, region: str) -> QuotaCatalog:
    if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
        raise ValueError("not a quota cache of this version")
    if doc.get("account") != account or doc.get("region") != region:
        raise ValueError("cache file of another account or region")
    fetched_at = doc.get("fetched_at")
    if isinstance(fetched_at, bool) or not isinstance(fetched_at, int | float):
        raise ValueError("no fetched_at")
    quotas = []
    for row in doc.get("quotas", []):
        code, name, value, unit, adjustable, global_quota, applied = _check(
            row, str, str, float, str, bool, bool, bool
        )
        quotas.append(
            ServiceQuota(code, name, float(value), unit, adjustable, global_quota, applied)
        )
    models = [FoundationModel(*_check(row, str, str, str)) for row in doc.get("models", [])]
    profiles = []
    for row in doc.get("profiles", []):
        profile_id, arn, kind, arns = _check(row, str, str, str, list)
        if not all(isinstance(a, str) for a in arns):
            raise ValueError("bad profile model ARNs")
        profiles.append(InferenceProfile(profile_id, arn, kind, tuple(arns)))
    return QuotaCatalog(
        region=region,
        account=account,
        fetched_at=float(fetched_at),
        quotas=tuple(quotas),
        models=tuple(models),
        profiles=tuple(profiles),
    )


class QuotaCache:
    """One JSON file per account and region under ``directory``; format-versioned, written
    atomically, and never an error source: a bad file is a miss, a failed write a warning."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, account: str, region: str) -> Path | None:
        """The file for this account and region; None when either is not a safe file name."""
        if not _SAFE_NAME.fullmatch(account) or not _SAFE_NAME.fullmatch(region):
            return None
        return self.directory / f"{account}-{region}.json"

    def load(
        self,
        account: str,
        region: str,
        now: float,
        max_age_s: float = DEFAULT_MAX_AGE_S,
    ) -> QuotaCatalog | None:
        """The cached catalog if younger than ``max_age_s`` (``math.inf``: any age)."""
        path = self.path(account, region)
        if path is None:
            return None
        try:
            catalog = _decode(json.loads(path.read_text(encoding="utf-8")), account, region)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, RecursionError) as exc:
            log.warning("ignoring the quota cache %s: %s", path, exc)
            return None
        age = now - catalog.fetched_at
        # A file from the future (the clock went back) is not trusted as fresh.
        if age >= max_age_s or (age < -300 and not math.isinf(max_age_s)):
            return None
        return catalog

    def store(self, catalog: QuotaCatalog) -> bool:
        """Write the catalog; False (and a logged warning) when it could not be written."""
        if catalog.account is None:
            return False
        path = self.path(catalog.account, catalog.region)
        if path is None:
            log.warning("not caching quotas of %r/%r", catalog.account, catalog.region)
            return False
        tmp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(_encode(catalog), out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except (OSError, ValueError) as exc:
            log.warning("cannot write the quota cache %s: %s", path, exc)
            if tmp is not None:
                with suppress(OSError):
                    os.unlink(tmp)
            return False
        return True


# --- the source the app uses ----------------------------------------------------------------


PARTIAL_MAX_AGE_S: Final = 1800.0


def _state_of(catalog: QuotaCatalog) -> QuotaState:
    """A catalogue read: whole, or without its profiles (then said in one line)."""
    if catalog.profiles_error:
        why = f"quotas: {catalog.profiles_error}; application profiles are not matched"
        return QuotaState(catalog=catalog, error=why)
    return QuotaState(catalog=catalog)


class QuotaSource:
    """Quotas of one region for the app and ``--once``: ``load`` always answers, never raises,
    and can run on a worker thread (calls are serialised).

    The account is read once per set of clients (their credentials are resolved once or
    refreshed for the same identity); clients are rebuilt when credentials expire.
    """

    def __init__(
        self,
        region: str,
        make_clients: ClientFactory,
        cache: QuotaCache | None,
        clock: Callable[[], float] = time.time,
        *,
        profile: str | None = None,
        max_age_s: float = DEFAULT_MAX_AGE_S,
    ) -> None:
        self.region = region
        self._make_clients = make_clients
        self._cache = cache
        self._clock = clock
        self._profile = profile
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._clients: tuple[QuotasClient, BedrockClient, StsClient] | None = None
        self._account: str | None = None
        self._catalog: QuotaCatalog | None = None
        self._state = QuotaState()

    @property
    def state(self) -> QuotaState:
        """The answer of the latest ``load`` (an empty state before the first one)."""
        return self._state

    def load(self, refresh: bool = False) -> QuotaState:
        """A fresh catalog from memory or the cache, else (or with ``refresh``) from AWS."""
        with self._lock:
            self._state = self._load(refresh)
            return self._state

    def _load(self, refresh: bool) -> QuotaState:
        now = self._clock()
        try:
            if self._clients is None:
                self._clients = self._make_clients()
                self._account = None
            quotas_client, bedrock_client, sts_client = self._clients
            if self._account is None:
                self._account = caller_account(sts_client)
            if not refresh:
                fresh = self._fresh(self._account, now)
                if fresh is not None:
                    self._catalog = fresh
                    return _state_of(fresh)
            catalog = fetch_catalog(quotas_client, bedrock_client, self.region, self._account, now)
        except Exception as exc:  # the monitor runs on without quotas, whatever went wrong
            if needs_new_credentials(exc):
                self._clients = None
                self._account = None
            if not isinstance(exc, BotoCoreError | ClientError | PaginationError):
                log.exception("reading quotas for %s", self.region)  # a bug: keep its trace
            error = f"quotas: {describe_quota_error(exc, self._profile)}"
            return QuotaState(catalog=self._fallback(now), error=error)
        self._catalog = catalog
        if self._cache is not None and not catalog.profiles_error:  # only whole ones
            self._cache.store(catalog)
        return _state_of(catalog)

    def _fresh(self, account: str, now: float) -> QuotaCatalog | None:
        held = self._catalog
        if held is not None and held.account == account and held.region == self.region:
            age = now - held.fetched_at
            # A catalogue without its profiles is read again sooner: the permission may come.
            limit = PARTIAL_MAX_AGE_S if held.profiles_error else self._max_age_s
            if 0 <= age < limit:
                return held
        if self._cache is None:
            return None
        return self._cache.load(account, self.region, now, self._max_age_s)

    def _fallback(self, now: float) -> QuotaCatalog | None:
        """The last good catalog of this account, however old (stale quotas beat none)."""
        held = self._catalog
        if held is not None and (self._account is None or held.account == self._account):
            return held
        if self._account is None or self._cache is None:
            return None
        return self._cache.load(self._account, self.region, now, math.inf)
