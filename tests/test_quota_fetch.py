"""The quota fetcher, its disk cache and ``QuotaSource``, through real boto3 clients over HTTP
to the local fake (tests/support/quota_fake.py) on 127.0.0.1: pagination, merging, caching,
and every failure turning into one line while the last good catalog stays."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from bedrock_top.figures.quotas import FoundationModel, InferenceProfile, QuotaCatalog, ServiceQuota
from bedrock_top.services import quota_fetch
from bedrock_top.services.aws import make_quota_clients
from bedrock_top.services.quota_fetch import (
    CACHE_FORMAT,
    PaginationError,
    QuotaCache,
    QuotaSource,
    caller_account,
    default_cache_dir,
    fetch_catalog,
)
from support.quota_fake import ACCOUNT, QuotaFake, model, profile, quota, raw_requests

REGION = "us-east-1"
HOUR = 3600.0
T0 = 1_750_000_000.0
QUOTA_OPS = {
    "ListServiceQuotas",
    "ListAWSDefaultServiceQuotas",
    "ListFoundationModels",
    "ListInferenceProfiles",
}
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"
# One attempt, short timeouts: a fault test must not wait for CLIENT_CONFIG's backoff (up to
# 1 + 2 s when throttled). Parameter validation stays on, so every request is checked against
# botocore's model.
FAST = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=5
)


_SESSION = boto3.session.Session()  # shared: it caches the service models (~70 ms a session)


def fast_clients(region: str = REGION) -> tuple[Any, Any, Any]:
    """Clients whose endpoints come from the AWS_ENDPOINT_URL_* variables, like the app's
    (read when a client is made: each test's fake has its own port)."""
    quotas, bedrock, sts = (
        _SESSION.client(name, region_name=region, config=FAST)
        for name in ("service-quotas", "bedrock", "sts")
    )
    return quotas, bedrock, sts


def populate(fake: QuotaFake) -> None:
    """A small account: three defaults, one raised, one applied-only, two models, profiles of
    both kinds."""
    fake.default_quotas = [
        quota("L-A", "On-demand InvokeModel tokens per minute for Claude 3 Haiku", 2e6),
        quota("L-B", "Cross-Region InvokeModel tokens per minute for Claude 3 Haiku", 4e6),
        quota("L-C", "Cross-Model Max Tokens Per Day", 1e9, adjustable=False),
    ]
    fake.applied_quotas = [
        quota("L-B", "Cross-Region InvokeModel tokens per minute for Claude 3 Haiku", 8e6),
        quota("L-D", "Model invocation max tokens per day for Claude 3 Haiku", 5e8),
    ]
    fake.models = [
        model(HAIKU, "Claude 3 Haiku", "Anthropic"),
        model("amazon.nova-lite-v1:0", "Nova Lite", "Amazon"),
    ]
    fake.profiles = [
        profile(f"us.{HAIKU}", "SYSTEM_DEFINED", [HAIKU_ARN]),
        profile("myapp01", "APPLICATION", [HAIKU_ARN]),
    ]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[QuotaFake]:
    """A populated fake, with the three services' endpoint variables pointing at it."""
    with QuotaFake() as server:
        populate(server)
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def source(
    tmp_path: Path, clock: Clock | None = None, region: str = REGION, **kwargs: Any
) -> QuotaSource:
    return QuotaSource(
        region,
        lambda: fast_clients(region),
        QuotaCache(tmp_path / "quotas"),
        clock or Clock(),
        **kwargs,
    )


def quota_ops(fake: QuotaFake) -> list[str]:
    return [op for op in fake.operations() if op in QUOTA_OPS]


# --- fetch_catalog --------------------------------------------------------------------------


def test_catalog_merges_applied_over_defaults(fake: QuotaFake) -> None:
    quotas, bedrock, _ = fast_clients()
    catalog = fetch_catalog(quotas, bedrock, REGION, ACCOUNT, T0)
    by_code = {q.code: q for q in catalog.quotas}
    assert set(by_code) == {"L-A", "L-B", "L-C", "L-D"}
    assert by_code["L-A"] == ServiceQuota(
        "L-A",
        "On-demand InvokeModel tokens per minute for Claude 3 Haiku",
        2e6,
        "None",
        adjustable=True,
        global_quota=False,
        applied=False,
    )
    assert (by_code["L-B"].value, by_code["L-B"].applied) == (8e6, True)  # raised: applied wins
    assert (by_code["L-C"].adjustable, by_code["L-C"].applied) == (False, False)
    assert (by_code["L-D"].value, by_code["L-D"].applied) == (5e8, True)  # no default known
    assert (catalog.region, catalog.account, catalog.fetched_at) == (REGION, ACCOUNT, T0)
    assert catalog.models == (
        FoundationModel(HAIKU, "Claude 3 Haiku", "Anthropic"),
        FoundationModel("amazon.nova-lite-v1:0", "Nova Lite", "Amazon"),
    )
    for op in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
        assert raw_requests(fake, op) == [{"ServiceCode": "bedrock", "MaxResults": 100}]


def test_every_page_is_read_short_and_empty_pages_included(fake: QuotaFake) -> None:
    fake.default_quotas = [quota(f"L-{i:03}", f"Quota {i:03}", i) for i in range(7)]
    fake.applied_quotas = [quota("L-005", "Quota 005", 50), quota("L-006", "Quota 006", 60)]
    # 2, then an empty page with a token, 1, 3, then the rest (1) at MaxResults per page.
    fake.page_sizes["ListAWSDefaultServiceQuotas"] = [2, 0, 1, 3]
    # The applied list ends with an empty page that still carried a token before it.
    fake.page_sizes["ListServiceQuotas"] = [1, 1, 0]
    quotas, bedrock, _ = fast_clients()
    catalog = fetch_catalog(quotas, bedrock, REGION, ACCOUNT, T0)
    assert [(q.code, q.value, q.applied) for q in catalog.quotas] == [
        *((f"L-{i:03}", float(i), False) for i in range(5)),
        ("L-005", 50.0, True),
        ("L-006", 60.0, True),
    ]
    defaults = raw_requests(fake, "ListAWSDefaultServiceQuotas")
    assert [r.get("NextToken") for r in defaults] == [
        None,
        "page-1-at-2",
        "page-2-at-2",
        "page-3-at-3",
        "page-4-at-6",
    ]
    assert len(raw_requests(fake, "ListServiceQuotas")) == 3


def test_quotas_for_unknown_models_are_kept_and_bad_entries_skipped(fake: QuotaFake) -> None:
    """Matching quotas to models is not the fetcher's job: a quota for a model the region
    does not list stays; entries without a code, a name or a numeric value go."""
    fake.default_quotas = [
        quota("L-X", "On-demand InvokeModel tokens per minute for Some Retired Model", 1e5),
        {"QuotaName": "no code", "Value": 1},
        {"QuotaCode": "L-N", "Value": 1},
        {"QuotaCode": "L-V", "QuotaName": "no value"},
        {"QuotaCode": "L-S", "QuotaName": "text value", "Value": "12"},
        {"QuotaCode": "L-M", "QuotaName": "minimal", "Value": 3},
    ]
    fake.applied_quotas = []
    quotas, bedrock, _ = fast_clients()
    catalog = fetch_catalog(quotas, bedrock, REGION, ACCOUNT, T0)
    assert [(q.code, q.unit, q.adjustable) for q in catalog.quotas] == [
        ("L-X", "None", True),
        ("L-M", "None", False),
    ]


def test_profiles_of_both_kinds_across_pages(fake: QuotaFake) -> None:
    fake.profiles = [
        profile(f"{geo}.{HAIKU}", "SYSTEM_DEFINED", [HAIKU_ARN]) for geo in ("us", "eu", "apac")
    ] + [profile(f"app{i}", "APPLICATION", [HAIKU_ARN]) for i in range(3)]
    fake.page_sizes["ListInferenceProfiles"] = [1, 0, 1]
    quotas, bedrock, _ = fast_clients()
    catalog = fetch_catalog(quotas, bedrock, REGION, ACCOUNT, T0)
    assert [(p.profile_id, p.kind) for p in catalog.profiles] == [
        (f"us.{HAIKU}", "SYSTEM_DEFINED"),
        (f"eu.{HAIKU}", "SYSTEM_DEFINED"),
        (f"apac.{HAIKU}", "SYSTEM_DEFINED"),
        ("app0", "APPLICATION"),
        ("app1", "APPLICATION"),
        ("app2", "APPLICATION"),
    ]
    assert catalog.profiles[3] == InferenceProfile(
        "app0",
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/app0",
        "APPLICATION",
        (HAIKU_ARN,),
    )
    asked = [(r["type"], r.get("nextToken")) for r in raw_requests(fake, "ListInferenceProfiles")]
    assert asked[0] == ("SYSTEM_DEFINED", None)
    assert ("APPLICATION", None) in asked
    assert {r["maxResults"] for r in raw_requests(fake, "ListInferenceProfiles")} == {"1000"}


def test_a_token_loop_ends_in_an_error(fake: QuotaFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quota_fetch, "MAX_PAGES", 5)
    fake.fail("ListServiceQuotas", "loop")
    quotas, bedrock, _ = fast_clients()
    with pytest.raises(PaginationError, match="ListServiceQuotas"):
        fetch_catalog(quotas, bedrock, REGION, ACCOUNT, T0)
    assert len(raw_requests(fake, "ListServiceQuotas")) == 5


def test_caller_account(fake: QuotaFake) -> None:
    fake.account = "210987654321"
    assert caller_account(fast_clients()[2]) == "210987654321"


# --- clients ----------------------------------------------------------------------------------


def test_quota_clients_take_their_endpoints_from_the_standard_variables(
    fake: QuotaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_ENDPOINT_URL_<SERVICE> reach each client with the installed botocore; CloudWatch's
    endpoint does not."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:9")
    clients = make_quota_clients(None, REGION)
    assert [c.meta.endpoint_url for c in clients] == [fake.endpoint_url] * 3
    assert [c.meta.service_model.service_name for c in clients] == [
        "service-quotas",
        "bedrock",
        "sts",
    ]
    assert all(
        c.meta.config.retries == {"mode": "standard", "total_max_attempts": 3} for c in clients
    )
    assert all(c.meta.config.read_timeout == 15 for c in clients)
    state = QuotaSource(REGION, lambda: make_quota_clients(None, REGION), None).load()
    assert state.error is None
    assert state.catalog is not None
    assert len(state.catalog.quotas) == 4


# --- the cache --------------------------------------------------------------------------------


def catalog_of(account: str = ACCOUNT, region: str = REGION, at: float = T0) -> QuotaCatalog:
    return QuotaCatalog(
        region=region,
        account=account,
        fetched_at=at,
        quotas=(ServiceQuota("L-1", "q", 1.5, "None", True, False, True),),
        models=(FoundationModel("m", "M", "P"),),
        profiles=(InferenceProfile("us.m", "arn:p", "SYSTEM_DEFINED", ("arn:a", "arn:b")),),
    )


def test_cache_round_trip_and_expiry(tmp_path: Path) -> None:
    cache = QuotaCache(tmp_path / "new" / "dir")
    assert cache.load(ACCOUNT, REGION, T0) is None
    assert cache.store(catalog_of())
    assert cache.load(ACCOUNT, REGION, T0 + 12 * HOUR - 1) == catalog_of()
    assert cache.load(ACCOUNT, REGION, T0 + 12 * HOUR) is None
    assert cache.load(ACCOUNT, REGION, T0 + 1000 * HOUR, max_age_s=float("inf")) == catalog_of()
    assert [p.name for p in (tmp_path / "new" / "dir").iterdir()] == [f"{ACCOUNT}-{REGION}.json"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        json.dumps({"format": CACHE_FORMAT + 1}),
        "RECORD",  # a valid file of another format version
        "BADQUOTA",
    ],
)
def test_a_bad_cache_file_is_a_miss(tmp_path: Path, content: str) -> None:
    cache = QuotaCache(tmp_path)
    cache.store(catalog_of())
    path = tmp_path / f"{ACCOUNT}-{REGION}.json"
    doc = json.loads(path.read_text())
    if content == "RECORD":
        content = json.dumps({**doc, "format": 0})
    elif content == "BADQUOTA":
        content = json.dumps({**doc, "quotas": [["L-1", "q", "1.5", "None", True, False, True]]})
    path.write_text(content)
    assert cache.load(ACCOUNT, REGION, T0) is None


def test_cache_files_are_per_account_and_region(tmp_path: Path) -> None:
    cache = QuotaCache(tmp_path)
    for account in (ACCOUNT, "999999999999"):
        for region in (REGION, "eu-west-1"):
            cache.store(catalog_of(account, region, T0 + len(account + region)))
    assert len(list(tmp_path.iterdir())) == 4
    got = cache.load("999999999999", "eu-west-1", T0)
    assert got == catalog_of("999999999999", "eu-west-1", T0 + len("999999999999eu-west-1"))
    assert cache.load("111111111111", REGION, T0) is None
    # A file renamed onto another account's name is not believed.
    (tmp_path / f"{ACCOUNT}-{REGION}.json").rename(tmp_path / f"111111111111-{REGION}.json")
    assert cache.load("111111111111", REGION, T0) is None


def test_a_failed_write_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert QuotaCache(blocker / "quotas").store(catalog_of()) is False
    assert QuotaCache(tmp_path).store(catalog_of(account="../etc")) is False
    assert QuotaCache(tmp_path).store(QuotaCatalog(REGION, None, T0)) is False
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_default_cache_dir_is_the_user_cache() -> None:
    assert default_cache_dir().parts[-2:] == ("bedrock-top", "quotas")


# --- QuotaSource ------------------------------------------------------------------------------


def test_first_load_fetches_and_caches_then_the_cache_answers(
    fake: QuotaFake, tmp_path: Path
) -> None:
    first = source(tmp_path)
    state = first.load()
    assert state.error is None
    assert state.catalog is not None
    assert first.state is state
    assert (tmp_path / "quotas" / f"{ACCOUNT}-{REGION}.json").is_file()
    assert quota_ops(fake) != []

    fake.clear_requests()
    assert first.load().catalog == state.catalog  # from memory: not even STS
    assert fake.operations() == []

    again = source(tmp_path, Clock(T0 + 11 * HOUR)).load()  # a new process, same account
    assert again.catalog == state.catalog
    assert again.error is None
    assert fake.operations() == ["GetCallerIdentity"]


def test_the_cache_expires_after_12_hours(fake: QuotaFake, tmp_path: Path) -> None:
    clock = Clock()
    quotas = source(tmp_path, clock)
    quotas.load()
    fake.clear_requests()
    clock.now = T0 + 12 * HOUR - 1
    assert quotas.load().catalog is not None
    assert quota_ops(fake) == []
    clock.now = T0 + 12 * HOUR
    fake.applied_quotas[0]["Value"] = 9e6
    state = quotas.load()
    assert set(quota_ops(fake)) == QUOTA_OPS
    assert state.catalog is not None
    assert state.catalog.fetched_at == T0 + 12 * HOUR
    assert {q.code: q.value for q in state.catalog.quotas}["L-B"] == 9e6
    assert QuotaCache(tmp_path / "quotas").load(ACCOUNT, REGION, clock.now) == state.catalog


def test_refresh_fetches_even_when_fresh(fake: QuotaFake, tmp_path: Path) -> None:
    quotas = source(tmp_path)
    quotas.load()
    fake.clear_requests()
    quotas.load(refresh=True)
    assert set(quota_ops(fake)) == QUOTA_OPS


def test_a_corrupt_cache_file_is_ignored_and_replaced(fake: QuotaFake, tmp_path: Path) -> None:
    path = tmp_path / "quotas" / f"{ACCOUNT}-{REGION}.json"
    path.parent.mkdir()
    path.write_text('{"format": 1, "account": "1')
    state = source(tmp_path).load()
    assert state.error is None
    assert set(quota_ops(fake)) == QUOTA_OPS
    assert QuotaCache(path.parent).load(ACCOUNT, REGION, T0) == state.catalog


def test_each_account_and_region_has_its_own_cache(fake: QuotaFake, tmp_path: Path) -> None:
    source(tmp_path).load()
    source(tmp_path, region="eu-west-1").load()
    fake.account = "999999999999"
    other = source(tmp_path).load()
    assert other.catalog is not None
    assert other.catalog.account == "999999999999"
    names = sorted(p.name for p in (tmp_path / "quotas").iterdir())
    assert names == [
        f"{ACCOUNT}-eu-west-1.json",
        f"{ACCOUNT}-{REGION}.json",
        f"999999999999-{REGION}.json",
    ]
    assert quota_ops(fake).count("ListServiceQuotas") == 3  # no hit across accounts/regions


ACTIONS = [
    ("ListAWSDefaultServiceQuotas", "servicequotas:ListAWSDefaultServiceQuotas"),
    ("ListServiceQuotas", "servicequotas:ListServiceQuotas"),
    ("ListFoundationModels", "bedrock:ListFoundationModels"),
    ("ListInferenceProfiles", "bedrock:ListInferenceProfiles"),
]


@pytest.mark.parametrize(("operation", "action"), ACTIONS[:3])
@pytest.mark.parametrize("aws_message", [True, False])
def test_access_denied_names_the_action_and_keeps_the_last_catalog(
    fake: QuotaFake, tmp_path: Path, operation: str, action: str, aws_message: bool
) -> None:
    """With AWS's message the action is read from it; with a bare one, from the operation."""
    quotas = source(tmp_path)
    good = quotas.load().catalog
    assert good is not None
    fake.fail(operation, "deny", message=None if aws_message else "Access denied")
    state = quotas.load(refresh=True)
    assert state.error == (
        f"quotas: access denied: the identity lacks {action} (see the minimal IAM policy)"
    )
    assert state.catalog == good
    assert quotas.state is state
    # A new process with only an expired cache: stale quotas beat none.
    later = source(tmp_path, Clock(T0 + 100 * HOUR)).load()
    assert later.catalog == good
    assert later.error == state.error


def test_without_list_inference_profiles_the_rest_still_matches(
    fake: QuotaFake, tmp_path: Path
) -> None:
    """An identity refused bedrock:ListInferenceProfiles still gets every quota (base models
    and geographic profiles need no profile list), says what is missing, caches nothing
    partial, and reads again after 30 minutes, when the permission may have come."""
    clock = Clock()
    quotas = source(tmp_path, clock)
    fake.fail("ListInferenceProfiles", "deny")
    state = quotas.load()
    assert state.catalog is not None
    assert state.catalog.quotas
    assert state.catalog.models
    assert state.catalog.profiles == ()
    assert state.error == (
        "quotas: access denied: the identity lacks bedrock:ListInferenceProfiles (see the "
        "minimal IAM policy); application profiles are not matched"
    )
    assert not (tmp_path / "quotas").exists()  # a partial catalogue is never cached
    fake.clear_requests()
    clock.now += 10 * 60
    assert quotas.load() == state  # held, no call: the retry cadence is not a storm
    assert quota_ops(fake) == []
    fake.clear_faults()
    clock.now += 25 * 60
    whole = quotas.load()
    assert whole.error is None
    assert whole.catalog is not None
    assert whole.catalog.profiles
    assert (tmp_path / "quotas").exists()


def test_denied_at_first_load_gives_no_catalog(fake: QuotaFake, tmp_path: Path) -> None:
    fake.fail("ListServiceQuotas", "deny")
    state = source(tmp_path).load()
    assert state.catalog is None
    assert state.error is not None
    assert "servicequotas:ListServiceQuotas" in state.error
    assert not (tmp_path / "quotas").exists()


def test_throttling_is_one_line(fake: QuotaFake, tmp_path: Path) -> None:
    quotas = source(tmp_path)
    good = quotas.load().catalog
    fake.fail("ListAWSDefaultServiceQuotas", "throttle")
    state = quotas.load(refresh=True)
    assert state.error == (
        "quotas: Service Quotas is throttling ListAWSDefaultServiceQuotas"
        " (TooManyRequestsException); backing off"
    )
    assert state.catalog == good
    fake.clear_faults()
    fake.fail("ListInferenceProfiles", "throttle")
    assert quotas.load(refresh=True).error == (
        "quotas: the Bedrock API is throttling ListInferenceProfiles (ThrottlingException);"
        " backing off"
    )
    fake.clear_faults()
    assert quotas.load(refresh=True).error is None


def test_server_errors_and_dropped_connections_with_the_app_config(
    fake: QuotaFake, tmp_path: Path
) -> None:
    """CLIENT_CONFIG retries these three times, quickly (non-throttling backoff)."""
    quotas = QuotaSource(
        REGION, lambda: make_quota_clients(None, REGION), QuotaCache(tmp_path), Clock()
    )
    good = quotas.load().catalog
    fake.fail("ListFoundationModels", "http500")
    state = quotas.load(refresh=True)
    assert state.error == (
        "quotas: the Bedrock API server error: ListFoundationModels got HTTP 500"
        " Internal Server Error"
    )
    assert state.catalog == good
    assert raw_requests(fake, "ListFoundationModels") == [{}] * 4  # 1 good + 3 attempts
    fake.clear_faults()
    fake.fail("ListServiceQuotas", "close")
    state = quotas.load(refresh=True)
    assert state.error == (
        f"quotas: network: the connection to {fake.endpoint_url} closed before it answered"
    )
    assert state.catalog == good


def test_an_unreachable_endpoint_is_one_line_and_quick(
    fake: QuotaFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quotas = QuotaSource(
        REGION, lambda: make_quota_clients(None, REGION), QuotaCache(tmp_path), Clock()
    )
    good = quotas.load().catalog
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", closed)
    # New clients (as after expired credentials) so that the new endpoint is used.
    unreachable = QuotaSource(
        REGION, lambda: make_quota_clients(None, REGION), QuotaCache(tmp_path), Clock()
    )
    started = time.monotonic()
    state = unreachable.load(refresh=True)
    assert time.monotonic() - started < 3
    assert state.error == f"quotas: network: cannot reach {closed}"
    assert state.catalog == good  # from the cache


def test_sts_failure_keeps_the_catalog_in_memory(fake: QuotaFake, tmp_path: Path) -> None:
    quotas = source(tmp_path)
    good = quotas.load().catalog
    fake.fail("GetCallerIdentity", "throttle")
    # The account is known for these clients, so STS is not asked again...
    assert quotas.load(refresh=True).error is None
    # ...but a new process cannot tell which account's cache to use.
    state = source(tmp_path).load()
    assert state.catalog is None
    assert state.error == "quotas: STS is throttling GetCallerIdentity (Throttling); backing off"
    assert good is not None


def test_expired_credentials_rebuild_the_clients(fake: QuotaFake, tmp_path: Path) -> None:
    built: list[int] = []

    def make() -> tuple[Any, Any, Any]:
        built.append(1)
        return fast_clients()

    quotas = QuotaSource(REGION, make, QuotaCache(tmp_path), Clock())
    good = quotas.load().catalog
    fake.fail("ListServiceQuotas", "expired", times=1)
    state = quotas.load(refresh=True)
    assert state.error is not None
    assert state.error.startswith("quotas: AWS credentials expired (ExpiredTokenException)")
    assert state.catalog == good
    fake.clear_requests()
    assert quotas.load(refresh=True).error is None
    assert len(built) == 2
    assert fake.operations()[0] == "GetCallerIdentity"  # a new identity is read again


def test_a_failing_client_factory_is_an_error_line(tmp_path: Path) -> None:
    def make() -> tuple[Any, Any, Any]:
        return make_quota_clients("no-such-profile", REGION)

    state = QuotaSource(REGION, make, QuotaCache(tmp_path), profile="no-such-profile").load()
    assert state.catalog is None
    assert state.error == "quotas: AWS profile not found: no-such-profile"


def test_concurrent_loads_fetch_once(fake: QuotaFake, tmp_path: Path) -> None:
    quotas = source(tmp_path)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(quotas.load())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert all(r.error is None and r.catalog == results[0].catalog for r in results)
    assert quota_ops(fake).count("ListServiceQuotas") == 1
