"""Faults while running: the live TUI and ``--once`` against CloudWatch behind a fault proxy.

CloudWatch is the moto server over HTTP; between it and the product's boto3 client sits
``support.faults.FaultProxy``, armed and cleared while a Pilot session of the real app runs.
botocore's own retries (``services.aws.CLIENT_CONFIG``) come first: a fault shorter than
them is never seen, a longer one marks the data stale until it goes away.

Credential failures the proxy cannot produce (an SSO login that expires, no credentials at
all) come from botocore's own credential machinery, or from a client wrapper that raises as
botocore does, against the same moto server.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
import botocore.session
import pytest
from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials, SSOProvider
from botocore.exceptions import NoCredentialsError, UnauthorizedSSOTokenError
from botocore.parsers import create_parser
from botocore.tokens import SSOTokenProvider
from textual.widgets import Static

from bedrock_top.cli import main
from bedrock_top.format import fmt_count, fmt_pct
from bedrock_top.services.aws import CLIENT_CONFIG, make_cloudwatch_client, make_cloudwatch_clients
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.header import HeaderBar
from support.bedrock_truth import (
    BASE_HAIKU,
    NON_STREAMING,
    US_SONNET,
    Request,
    expected,
    publish,
    scenario,
)
from support.faults import Fault, FaultProxy, error_reply
from support.tui import FailingClient, make_app, poll_now, settle

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

# Credentials of the app's client: distinctive, so a leak onto the screen would be caught.
ACCESS_KEY: Final = "AKIAFAULTTESTEXAMPLE"
SECRET_KEY: Final = "faultTestSecret/K7MDENG/bPxRfiCYdoNotLeak"
SESSION_TOKEN: Final = "FwoGZXIvYXdzFaultTestSessionTokenDoNotLeak"
SECRETS: Final = (SECRET_KEY, SESSION_TOKEN)
CONFIG: Final[Any] = CLIENT_CONFIG  # botocore's stubs do not declare Config's attributes
ATTEMPTS: Final[int] = CONFIG.retries["total_max_attempts"]
MODELS: Final = {BASE_HAIKU, US_SONNET, NON_STREAMING}  # a small scenario: 3 rows, 1 call
TRACEBACK_MARKS: Final = ("Traceback", 'File "', "botocore.", "Error(", ".py")
SIZE: Final = (220, 40)


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
def seeded(cloudwatch_client: CloudWatchClient) -> list[Request]:
    """Three models' hour of Bedrock traffic, published to moto directly (not via the proxy)."""
    requests = [r for r in scenario(datetime.now(UTC), seed=5) if r.model_id in MODELS]
    publish(cloudwatch_client, requests)
    return requests


@pytest.fixture
def aws_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The distinctive credentials in the environment (for ``--once``, which reads them)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)


def cloudwatch(url: str, session: boto3.session.Session | None = None) -> Any:
    """The product's client configuration (retries, timeouts) pointed at ``url``."""
    if session is not None:
        return session.client(
            "cloudwatch", region_name="us-east-1", endpoint_url=url, config=CLIENT_CONFIG
        )
    return boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        endpoint_url=url,
        config=CLIENT_CONFIG,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
    )


def live_app(client: Any, *, interval_s: int = 60, profile: str | None = None) -> BedrockTopApp:
    """The real app over ``client``, on the wall clock (the data is seeded at "now")."""
    return make_app(
        clients={"us-east-1": client}, clock=time.time, interval_s=interval_s, profile=profile
    )


def header(app: BedrockTopApp) -> str:
    return str(app.query_one(HeaderBar).render())


def status(app: BedrockTopApp) -> str:
    return str(app.query_one("#status", Static).render())


def screen_text(app: BedrockTopApp) -> str:
    """Everything drawn on the terminal (toasts included), from the SVG screenshot."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def cells(app: BedrockTopApp) -> dict[str, tuple[str, ...]]:
    columns = [c.key for c in app.table.shown_columns]
    return {
        key: tuple(app.table.get_cell(key, c).plain for c in columns) for key in app.table.row_keys
    }


def retry_in(app: BedrockTopApp) -> int:
    found = re.search(r"retrying in (\d+)s", status(app))
    assert found, status(app)
    return int(found.group(1))


def assert_stale(app: BedrockTopApp) -> None:
    assert re.search(r"STALE \d+(s|m)", header(app)), header(app)
    assert "LIVE" not in header(app)


def assert_plain(app: BedrockTopApp) -> None:
    """No traceback or exception repr anywhere on screen, and no secret."""
    shown = "\n".join((header(app), status(app), screen_text(app)))
    for mark in TRACEBACK_MARKS:
        assert mark not in shown, mark
    for secret in SECRETS:
        assert secret not in shown


def assert_truth(app: BedrockTopApp, requests: list[Request]) -> None:
    """Every row shows the seeded counters for the window of the newest snapshot."""
    snapshot = app.snapshot
    assert snapshot is not None
    start = datetime.fromtimestamp(snapshot.window_start, UTC)
    end = datetime.fromtimestamp(snapshot.window_end, UTC)
    truth = expected(requests, start, end, snapshot.period)
    assert app.table.row_count == len(truth) == len(MODELS)
    for row in snapshot.rows:
        figures = truth[row.model_id]
        shown = {
            c: app.table.cell_text(row.key, c)
            for c in ("invocations", "client_errors", "server_errors", "throttles", "error_rate")
        }
        assert shown["invocations"] == fmt_count(figures["invocations"])
        assert shown["client_errors"] == fmt_count(figures["client_errors"])
        assert shown["server_errors"] == fmt_count(figures["server_errors"])
        assert shown["throttles"] == fmt_count(figures["throttles"])
        assert shown["error_rate"] == fmt_pct(figures["error_rate"]).removesuffix("%")


def assert_live(app: BedrockTopApp, requests: list[Request]) -> None:
    assert "LIVE" in header(app), header(app)
    assert "STALE" not in header(app)
    assert status(app) == ""
    assert app.failures == 0
    assert app._next_delay() == app.header_state.interval_s
    assert_truth(app, requests)


# kind -> (arm the fault until cleared, words the status line must contain, retried?)
Arm = Callable[[FaultProxy], Fault]
PERSISTENT: Final[dict[str, tuple[Arm, tuple[str, ...], bool]]] = {
    "throttling": (lambda p: p.throttle(), ("CloudWatch is throttling GetMetricData",), True),
    "http-503": (lambda p: p.unavailable(), ("server error", "HTTP 503"), True),
    "http-503-bare": (lambda p: p.unavailable(bare=True), ("server error", "HTTP 503"), True),
    "access-denied": (
        lambda p: p.access_denied(),
        ("access denied", "cloudwatch:GetMetricData", "minimal IAM policy"),
        False,
    ),
    "expired-token": (
        lambda p: p.expired_token(),
        ("credentials expired", "`aws sso login --profile dev`"),
        False,
    ),
    "connection-dropped": (lambda p: p.drop(), ("network", "closed before"), True),
    "connection-refused": (lambda p: p.refuse(), ("network: cannot reach CloudWatch",), True),
}


# --- the proxy's error responses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "content_type"),
    [
        ("json", "application/x-amz-json-1.0"),
        ("smithy-rpc-v2-cbor", "application/cbor"),
        ("query", "application/x-www-form-urlencoded; charset=utf-8"),
    ],
)
@pytest.mark.parametrize(
    ("status", "code"), [(400, "Throttling"), (403, "AccessDenied"), (503, "ServiceUnavailable")]
)
def test_injected_errors_parse_as_aws_errors_in_every_cloudwatch_protocol(
    protocol: str, content_type: str, status: int, code: str
) -> None:
    """Whichever of CloudWatch's protocols botocore speaks, it reads the injected code."""
    service = botocore.session.Session().get_service_model("cloudwatch")
    assert protocol in service.metadata["protocols"]
    reply = error_reply(content_type, "GetMetricData", status, code, "injected")
    response = {
        "status_code": reply.status,
        "headers": {name.lower(): value for name, value in reply.headers},
        "body": reply.body,
    }
    output = service.operation_model("GetMetricData").output_shape
    assert output is not None
    parsed = create_parser(protocol).parse(response, output)
    assert reply.status == status
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == "injected"
    assert parsed["Error"].get("Type") == ("Receiver" if status >= 500 else "Sender")


# --- faults in the live TUI ---------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PERSISTENT))
async def test_fault_outlasting_retries_keeps_rows_marks_stale_and_recovers(
    kind: str, proxy: FaultProxy, seeded: list[Request]
) -> None:
    arm, words, retried = PERSISTENT[kind]
    app = live_app(cloudwatch(proxy.url), profile="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_live(app, seeded)
        before = cells(app)
        good = app.snapshot

        fault = arm(proxy)
        await poll_now(pilot)
        if kind != "connection-refused":  # a refused connection never reaches the proxy
            assert fault.hits == (ATTEMPTS if retried else 1)  # botocore retried first
        assert_stale(app)
        for word in words:
            assert word in status(app), status(app)
        assert "last good data kept" in status(app)
        assert cells(app) == before  # same rows, same figures
        assert app.snapshot is good
        assert 0 < retry_in(app) <= min(app.header_state.interval_s, 60)
        assert "STALE" in screen_text(app)  # what the terminal shows, not only the widgets
        assert_plain(app)

        proxy.clear()
        await poll_now(pilot)
        assert_live(app, seeded)
        assert_plain(app)


@pytest.mark.parametrize("kind", ["throttling", "http-503", "connection-dropped"])
async def test_fault_shorter_than_botocore_retries_is_never_seen(
    kind: str, proxy: FaultProxy, seeded: list[Request]
) -> None:
    app = live_app(cloudwatch(proxy.url))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_live(app, seeded)
        times = ATTEMPTS - 1  # every attempt but the last fails
        arms: dict[str, Callable[[], Fault]] = {
            "throttling": lambda: proxy.throttle(times),
            "http-503": lambda: proxy.unavailable(times),
            "connection-dropped": lambda: proxy.drop(times),
        }
        fault = arms[kind]()
        forwarded = proxy.forwarded
        await poll_now(pilot)
        assert fault.hits == times
        assert not fault.active
        assert proxy.forwarded == forwarded + 1  # the last attempt got through
        assert_live(app, seeded)


@pytest.mark.parametrize(("interval", "cap"), [(10, 10), (120, 60)])
async def test_backoff_doubles_up_to_the_interval_and_at_most_60s(
    interval: int, cap: int, proxy: FaultProxy, seeded: list[Request]
) -> None:
    app = live_app(cloudwatch(proxy.url), interval_s=interval)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        proxy.access_denied()  # not retried by botocore: each poll fails at once
        delays: list[int] = []
        for _ in range(7):
            await poll_now(pilot)
            delays.append(retry_in(app))
            assert app._next_delay() == delays[-1]
            assert_stale(app)
        assert app.failures == 7
        assert delays[-2:] == [cap, cap]
        for shorter, longer in itertools.pairwise(delays):
            assert longer == min(2 * shorter, cap), delays
        proxy.clear()
        await poll_now(pilot)
        assert_live(app, seeded)


# --- credentials that botocore resolves: SSO expiry, none at all --------------------------


class SsoLogin:
    """Role credentials botocore refreshes from an SSO login, which the test lets expire.

    botocore refreshes them (here: calls ``refresh``) when they near their expiry time, by
    the clock ``now`` which the test moves; an expired SSO session makes the refresh raise
    ``UnauthorizedSSOTokenError``, as botocore's SSO credential fetcher does.
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self.logged_in = True
        self.refreshes = 0

    def clock(self) -> datetime:
        return self.now

    def refresh(self) -> dict[str, str]:
        if not self.logged_in:
            raise UnauthorizedSSOTokenError()
        self.refreshes += 1
        return {
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "token": SESSION_TOKEN,
            "expiry_time": (self.now + timedelta(hours=1)).isoformat(),
        }

    def session(self) -> boto3.session.Session:
        """A boto3 session whose credential chain yields these credentials first."""
        credentials = DeferredRefreshableCredentials(self.refresh, "sso", self.clock)

        class Provider(CredentialProvider):
            METHOD = "sso-test"

            def load(self) -> DeferredRefreshableCredentials:
                return credentials

        core = botocore.session.Session()
        core.get_component("credential_provider").insert_before("env", Provider())
        return boto3.session.Session(botocore_session=core)


async def test_sso_session_expiry_names_the_login_command_and_login_is_picked_up(
    proxy: FaultProxy, seeded: list[Request]
) -> None:
    login = SsoLogin()
    app = live_app(cloudwatch(proxy.url, login.session()), profile="corp-dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_live(app, seeded)
        before = cells(app)

        login.logged_in = False  # the SSO session ends ...
        login.now += timedelta(hours=2)  # ... and the role credentials expire
        await poll_now(pilot)
        assert_stale(app)
        assert "AWS SSO session expired: run `aws sso login --profile corp-dev`" in status(app)
        assert cells(app) == before
        assert_plain(app)

        login.logged_in = True  # `aws sso login` in another terminal; no restart
        await poll_now(pilot)
        assert login.refreshes == 2
        assert_live(app, seeded)


def credentials_gone(inner: Any) -> FailingClient:
    """A client that fails as botocore does when no credential source answers."""
    return FailingClient(inner, NoCredentialsError)


async def test_missing_credentials_keep_the_data_and_recover(
    proxy: FaultProxy, seeded: list[Request]
) -> None:
    client = credentials_gone(cloudwatch(proxy.url))
    app = live_app(client)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = cells(app)
        client.down = True
        await poll_now(pilot)
        assert_stale(app)
        assert "no AWS credentials found" in status(app)
        assert cells(app) == before
        assert_plain(app)
        client.down = False
        await poll_now(pilot)
        assert_live(app, seeded)


def reconnect(proxy: FaultProxy) -> Callable[[str], Any]:
    """What the product passes the poller (cli.make_poller): a fresh client per region."""
    return lambda region: make_cloudwatch_client(None, region, proxy.url)


async def test_credentials_that_appear_after_start_are_picked_up(
    proxy: FaultProxy, seeded: list[Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    clients = make_cloudwatch_clients(None, ("us-east-1",), proxy.url)
    app = make_app(clients=clients, clock=time.time, reconnect=reconnect(proxy))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "no AWS credentials found" in status(app)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)  # `aws configure` meanwhile
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        await poll_now(pilot)
        assert_live(app, seeded)


async def test_refreshed_credentials_file_is_picked_up_after_expired_token(
    proxy: FaultProxy, seeded: list[Request], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    credentials = tmp_path / "credentials"
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))

    def write(key: str) -> None:
        credentials.write_text(
            f"[default]\naws_access_key_id = {key}\naws_secret_access_key = {SECRET_KEY}\n"
            f"aws_session_token = {SESSION_TOKEN}\n"
        )

    write("ASIAOLDTEMPORARYKEY1")
    clients = make_cloudwatch_clients(None, ("us-east-1",), proxy.url)
    app = make_app(clients=clients, clock=time.time, reconnect=reconnect(proxy))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_live(app, seeded)
        proxy.expired_token(signed_with="ASIAOLDTEMPORARYKEY1")
        await poll_now(pilot)
        assert "credentials expired" in status(app)
        write("ASIANEWTEMPORARYKEY2")  # e.g. saml2aws / a credential helper refreshed it
        await poll_now(pilot)
        assert_live(app, seeded)


# --- --once ---------------------------------------------------------------------------------

ONCE_FAULTS: Final[dict[str, tuple[Arm, tuple[str, ...]]]] = {
    "throttling": (lambda p: p.throttle(), ("CloudWatch is throttling ListMetrics",)),
    "http-503": (lambda p: p.unavailable(), ("server error", "ListMetrics", "HTTP 503")),
    "access-denied": (
        lambda p: p.access_denied("cloudwatch:ListMetrics"),
        ("lacks cloudwatch:ListMetrics",),
    ),
    "expired-token": (lambda p: p.expired_token(), ("credentials expired", "aws sso login")),
    "connection-dropped": (lambda p: p.drop(), ("network",)),
    "connection-refused": (lambda p: p.refuse(), ("network: cannot reach CloudWatch",)),
}


def run_once(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    rc = main(["--once", "--region", "us-east-1", "--endpoint-url", url, *extra])
    out, err = capsys.readouterr()
    assert out == ""
    return rc, err


def assert_one_plain_line(err: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith("bedrock-top: ")
    assert "Traceback" not in err
    for secret in SECRETS:
        assert secret not in err


@pytest.mark.usefixtures("aws_secrets")
@pytest.mark.parametrize("kind", list(ONCE_FAULTS))
def test_once_with_a_persistent_fault_is_one_plain_line_and_exit_1(
    kind: str, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    arm, words = ONCE_FAULTS[kind]
    arm(proxy)
    rc, err = run_once(proxy.url, capsys)
    assert rc == 1
    assert_one_plain_line(err)
    for word in words:
        assert word in err, err


@pytest.mark.usefixtures("aws_secrets")
def test_once_rides_through_a_fault_shorter_than_retries(
    proxy: FaultProxy, seeded: list[Request], capsys: pytest.CaptureFixture[str]
) -> None:
    fault = proxy.unavailable(ATTEMPTS - 1)
    rc = main(["--once", "--format", "json", "--region", "us-east-1", "--endpoint-url", proxy.url])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert err == ""
    assert fault.hits == ATTEMPTS - 1
    assert {m["model_id"] for m in json.loads(out)["models"]} == MODELS


@pytest.mark.usefixtures("aws_secrets")
def test_once_gives_up_on_an_unreachable_endpoint_well_within_a_minute(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.refuse()
    started = time.monotonic()
    rc, err = run_once(proxy.url, capsys)
    elapsed = time.monotonic() - started
    assert rc == 1
    assert_one_plain_line(err)
    assert "cannot reach CloudWatch" in err
    assert elapsed < 60


def test_client_config_bounds_a_dead_endpoint_within_a_minute() -> None:
    """What the refused-connection test cannot wait for: a black-holed endpoint (connect
    times out) and one that accepts but never answers (read times out). botocore's standard
    mode sleeps at most min(base * 2**(i-1), 20) s before retry i, base 1 s for throttling
    (0.05 s for other errors); this bound takes the larger."""
    retries = CONFIG.retries
    assert retries["mode"] in ("standard", "adaptive")
    attempts = retries["total_max_attempts"]
    assert 2 <= attempts <= 3
    backoff = sum(min(2 ** (i - 1), 20) for i in range(1, attempts))
    assert attempts * CONFIG.connect_timeout + backoff < 30  # unreachable
    assert attempts * CONFIG.read_timeout + backoff < 60  # silent


LOGIN: Final = "run `aws sso login --profile corp-dev`"


@pytest.mark.parametrize(
    ("style", "token", "says"),
    [
        ("legacy", "expired", f"AWS SSO session expired: {LOGIN}"),
        ("sso-session", "expired", f"AWS SSO session expired: {LOGIN}"),
        ("sso-session", "none", f"not logged in (no cached SSO token): {LOGIN}"),
    ],
)
def test_once_with_an_sso_profile_that_needs_a_login_names_the_command(
    style: str,
    token: str,
    says: str,
    cloudwatch_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real SSO profile through botocore's own SSO provider, which fails before any network
    call: the cached token has expired (no refresh token, no cached role credentials), or
    there is none. botocore fixes its token cache directory at import time, from HOME."""
    start_url = "https://example-corp.awsapps.com/start"
    sso = f"sso_start_url = {start_url}\nsso_region = us-east-1\n"
    profile = "sso_account_id = 123456789012\nsso_role_name = ReadMetrics\nregion = us-east-1\n"
    if style == "legacy":
        config = f"[profile corp-dev]\n{sso}{profile}"
        cache_key = start_url
    else:
        config = f"[profile corp-dev]\nsso_session = corp\n{profile}\n[sso-session corp]\n{sso}"
        cache_key = "corp"
    (tmp_path / "config").write_text(config)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    cache = tmp_path / "sso-cache"
    cache.mkdir()
    monkeypatch.setattr(SSOProvider, "_SSO_TOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", str(cache))
    if token == "expired":
        expired = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        cached = {"accessToken": SESSION_TOKEN, "expiresAt": expired, "startUrl": start_url}
        name = hashlib.sha1(cache_key.encode()).hexdigest()
        (cache / f"{name}.json").write_text(json.dumps(cached))
    rc, err = run_once(cloudwatch_endpoint, capsys, "--profile", "corp-dev")
    assert rc == 1
    assert_one_plain_line(err)
    assert says in err
