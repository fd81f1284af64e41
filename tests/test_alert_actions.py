"""The alert actions end to end: webhooks against HTTP receivers on 127.0.0.1 (healthy, down,
slow, failing, hung), commands and desktop notifiers as real scripts, and the bell.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, Subject, redact_url
from bedrock_top.output.alert_json import event_record
from bedrock_top.services.alert_actions import (
    ActionRunner,
    applescript_string,
    retry_after,
    scrub,
    slack_payload,
)

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
SECRET_PATH = "/services/T0SECRET/B0SECRET/XyZsecretTOKEN123"
SECRET_QUERY = "sig=QuErYsEcReT987"
FAST = {"backoff_s": 0.01, "webhook_timeout_s": 1.0, "command_timeout_s": 5.0}


# --- helpers -------------------------------------------------------------------------------


# caplog sees what bedrock-top logs (see conftest.logger_propagates).
pytestmark = pytest.mark.usefixtures("logger_propagates")


def make_event(
    *,
    name: str = "throttled",
    kind: str = "fired",
    severity: str = "warning",
    actions: tuple[str, ...] = ("webhook",),
    webhook: str | None = None,
    command: tuple[str, ...] = (),
    message: str = "Throttled: claude-3-haiku (us-east-1) throttles 12/min > 0 for 3m",
) -> AlertEvent:
    rule = AlertRule(
        name=name,
        figure="throttles",
        op=">",
        threshold=0,
        severity=severity,  # type: ignore[arg-type]
        actions=actions,
        webhook=webhook,
        command=command,
    )
    subject = Subject("models", "us-east-1", MODEL, f"us-east-1|{MODEL}", {"model_id": MODEL})
    return AlertEvent(
        kind,  # type: ignore[arg-type]
        1_760_000_000.0,
        rule,
        subject,
        value=12.0,
        peak=40.0,
        started=1_759_999_820.0,
        message=message,
    )


def send(runner: ActionRunner, event: AlertEvent) -> float:
    """Dispatch ``event`` with its ``watch`` record; returns how long dispatch took."""
    record = event_record(event)
    start = time.perf_counter()
    runner.dispatch(event, record)
    return time.perf_counter() - start


def wait_until(check: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.005)
    return check()


@dataclass
class Reply:
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # answer only when the test ends


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server on 127.0.0.1 that answers POSTs by a plan (then 200) and keeps them."""

    def __init__(self, plan: list[Reply] | None = None) -> None:
        self.plan = list(plan or [])
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.seen.append(Seen(self.path, dict(self.headers.items()), body))
                    reply = receiver.plan.pop(0) if receiver.plan else Reply()
                if reply.hang:
                    receiver.release.wait(30)
                elif reply.delay_s:
                    receiver.release.wait(reply.delay_s)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up on a slow answer: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}{SECRET_PATH}?{SECRET_QUERY}"

    def count(self) -> int:
        with self.lock:
            return len(self.seen)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def start(*plan: Reply) -> Receiver:
        made.append(Receiver(list(plan)))
        return made[-1]

    yield start
    for one in made:
        one.close()


@pytest.fixture
def runner() -> Iterator[Callable[..., ActionRunner]]:
    """ActionRunners whose failure lines are kept in ``runner.lines``; closed at the end."""
    made: list[ActionRunner] = []

    def make(**options: object) -> ActionRunner:
        lines: list[str] = []
        settings = {**FAST, **options}
        made.append(ActionRunner(on_failure=lines.append, **settings))  # type: ignore[arg-type]
        made[-1].lines = lines  # type: ignore[attr-defined]
        return made[-1]

    yield make
    for one in made:
        one.close(0)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def script(folder: Path, name: str, body: str) -> Path:
    """An executable Python script run by this interpreter."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def assert_no_secret(text: str) -> None:
    for secret in ("T0SECRET", "B0SECRET", "XyZsecretTOKEN123", "QuErYsEcReT987"):
        assert secret not in text


# --- webhook ---------------------------------------------------------------------------------


def test_webhook_posts_a_slack_message(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver()
    actions = runner()
    event = make_event(webhook=there.url, severity="critical")
    send(actions, event)
    assert wait_until(lambda: there.count() == 1)
    seen = there.seen[0]
    assert seen.path == f"{SECRET_PATH}?{SECRET_QUERY}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"].startswith("bedrock-top/")
    payload = json.loads(seen.body)
    assert payload["text"] == f":rotating_light: *[CRITICAL]* {event.message}"
    (attachment,) = payload["attachments"]
    assert attachment["color"] == "#e01e5a"
    assert [(f["title"], f["value"], f["short"]) for f in attachment["fields"]] == [
        ("View", "models", True),
        ("Region", "us-east-1", True),
        ("Model", MODEL, True),
        ("Figure", "throttles", True),
        ("Value", "12", True),
        ("Threshold", "0", True),
    ]
    actions.close(1.0)
    assert actions.failures == ()
    assert actions.lines == []  # type: ignore[attr-defined]


def test_a_resolved_event_is_green() -> None:
    record = event_record(make_event(kind="resolved", message="Resolved: Throttled: x"))
    payload = slack_payload(record)
    assert payload["text"] == ":white_check_mark: *[RESOLVED]* Resolved: Throttled: x"
    assert payload["attachments"][0]["color"] == "#2eb67d"  # type: ignore[index]
    warning = slack_payload(event_record(make_event()))
    assert str(warning["text"]).startswith(":warning: *[WARNING]* ")
    assert warning["attachments"][0]["color"] == "#ecb22e"  # type: ignore[index]


def test_other_views_show_their_row_keys_and_totals_show_all_regions() -> None:
    record: dict[str, object] = {
        "at": "2025-01-01T00:00:00Z", "event": "fired", "rule": "r", "severity": "info",
        "view": "agents", "region": None, "agent_id": "A1", "account": None,
        "figure": "errors_pct", "value": 12.3456789, "threshold": 1234567, "message": "m",
        "peak": None, "started": "2025-01-01T00:00:00Z",
    }  # fmt: skip
    payload = slack_payload(record)
    fields = payload["attachments"][0]["fields"]  # type: ignore[index]
    assert [(f["title"], f["value"]) for f in fields] == [
        ("View", "agents"),
        ("Region", "all"),
        ("Agent id", "A1"),
        ("Figure", "errors_pct"),
        ("Value", "12.345679"),
        ("Threshold", "1,234,567"),
    ]
    assert str(payload["text"]).startswith(":information_source: *[INFO]* m")


def test_dispatch_returns_at_once_even_when_the_receiver_is_slow(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver(*[Reply(delay_s=2.0)] * 4)
    actions = runner(webhook_timeout_s=0.2, webhook_retries=0)
    took = [send(actions, make_event(webhook=there.url)) for _ in range(3)]
    assert max(took) < 0.05, took
    assert wait_until(lambda: len(actions.failures) == 3, 3.0)
    assert all("timed out after 0.2s" in line for line in actions.failures)


def test_a_receiver_that_is_down_is_retried_then_reported_without_the_secret(
    runner: Callable[..., ActionRunner],
    caplog: pytest.LogCaptureFixture,
    product_log: list[str],
) -> None:
    url = f"http://127.0.0.1:{closed_port()}{SECRET_PATH}?{SECRET_QUERY}"
    actions = runner(webhook_retries=2, backoff_s=0.05)
    with caplog.at_level(logging.DEBUG, logger="bedrock_top"):
        start = time.monotonic()
        send(actions, make_event(webhook=url))
        assert wait_until(lambda: len(actions.failures) == 1)
        took = time.monotonic() - start
    (line,) = actions.lines  # type: ignore[attr-defined]
    assert line.startswith('alert "throttled": webhook http://127.0.0.1:')
    assert "/… failed after 3 attempts: ConnectionRefusedError" in line
    assert redact_url(url) in line
    assert_no_secret(line)
    assert_no_secret(caplog.text)
    assert_no_secret("\n".join(product_log))
    mine = [r.getMessage() for r in caplog.records if redact_url(url) in r.getMessage()]
    retries = [message for message in mine if "retry in" in message]
    assert len(retries) == 2
    assert took >= 0.05 + 0.1  # the backoff doubles
    assert any(r.levelno == logging.WARNING and r.getMessage() == line for r in caplog.records)
    assert repr(actions).startswith("ActionRunner(")


def test_server_errors_are_retried_until_delivered(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver(Reply(500), Reply(503), Reply(200))
    actions = runner(webhook_retries=3)
    send(actions, make_event(webhook=there.url))
    assert wait_until(lambda: there.count() == 3)
    actions.close(2.0)
    assert there.count() == 3  # delivered by the third: no fourth
    assert actions.failures == ()


def test_a_client_error_fails_at_once(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver(Reply(404))
    actions = runner(webhook_retries=3)
    send(actions, make_event(webhook=there.url))
    assert wait_until(lambda: len(actions.failures) == 1)
    actions.close(1.0)
    assert there.count() == 1
    (line,) = actions.failures
    assert line == f'alert "throttled": webhook {there.base}/… failed: HTTP 404 Not Found'


def test_a_redirect_is_not_followed(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver(Reply(302, headers={"Location": "/elsewhere"}))
    actions = runner()
    send(actions, make_event(webhook=there.url))
    assert wait_until(lambda: len(actions.failures) == 1)
    assert "HTTP 302" in actions.failures[0]
    assert there.count() == 1


def test_too_many_requests_honours_retry_after(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver(Reply(429, headers={"Retry-After": "0"}), Reply(200))
    actions = runner(backoff_s=20.0)  # without Retry-After the retry would wait 20 s
    start = time.monotonic()
    send(actions, make_event(webhook=there.url))
    assert wait_until(lambda: there.count() == 2, 3.0)
    assert time.monotonic() - start < 2.0
    actions.close(1.0)
    assert actions.failures == ()


def test_a_slow_webhook_delays_neither_a_command_nor_another_webhook(
    tmp_path: Path, receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    slow = receiver(*[Reply(delay_s=3.0)] * 3)
    fast = receiver()
    out = tmp_path / "out.json"
    writer = script(
        tmp_path,
        "keep.py",
        f"import sys\nopen({str(out)!r}, 'wb').write(sys.stdin.buffer.read())\n",
    )
    actions = runner(webhook_timeout_s=0.4, webhook_retries=2)
    start = time.monotonic()
    send(actions, make_event(webhook=slow.url))
    send(actions, make_event(name="cmd", actions=("command",), command=(str(writer),)))
    send(actions, make_event(name="other", webhook=fast.url))
    assert wait_until(lambda: fast.count() == 1, 1.0)
    assert wait_until(out.exists, 2.0)
    prompt = time.monotonic() - start
    assert not actions.failures  # the slow one is still trying
    assert wait_until(lambda: len(actions.failures) == 1, 5.0)
    (line,) = actions.failures
    assert "failed after 3 attempts: timed out after 0.4s" in line
    assert slow.count() == 3
    assert prompt < 1.2  # the webhook alone takes 3 x 0.4 s


def test_close_returns_in_time_with_a_hung_receiver_and_drops_the_rest(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver(*[Reply(hang=True)] * 5)
    actions = runner(webhook_timeout_s=10.0)
    for _ in range(3):
        send(actions, make_event(webhook=there.url))
    assert wait_until(lambda: there.count() == 2)  # two workers, both stuck
    start = time.perf_counter()
    actions.close(0.3)
    took = time.perf_counter() - start
    assert 0.25 <= took < 0.6, took
    assert actions.failures[-1] == "alert actions: closing, dropped 1 pending"
    send(actions, make_event(webhook=there.url))  # closed: ignored
    time.sleep(0.05)
    assert there.count() == 2


def test_close_lets_queued_work_finish(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver()
    actions = runner()
    for _ in range(5):
        send(actions, make_event(webhook=there.url))
    actions.close(3.0)
    assert there.count() == 5
    assert actions.failures == ()


def test_a_full_queue_drops_new_work_and_says_so(
    receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    there = receiver(*[Reply(hang=True)] * 10)
    actions = runner(max_pending=1, webhook_timeout_s=10.0)
    for _ in range(10):
        send(actions, make_event(webhook=there.url))
    dropped = [line for line in actions.failures if "queue full" in line]
    # at most two in the workers' hands and one waiting were taken
    assert 7 <= len(dropped) <= 9
    assert dropped[0] == 'alert actions: queue full, dropped webhook for alert "throttled"'


def test_a_webhook_url_without_a_scheme_fails_without_showing_it(
    runner: Callable[..., ActionRunner], caplog: pytest.LogCaptureFixture
) -> None:
    actions = runner(webhook_retries=3)
    with caplog.at_level(logging.DEBUG, logger="bedrock_top"):
        send(actions, make_event(webhook=f"hooks.example.com{SECRET_PATH}"))
        assert wait_until(lambda: len(actions.failures) == 1)
    (line,) = actions.failures
    assert line.startswith('alert "throttled": webhook … failed: ValueError')
    assert_no_secret(line)
    assert_no_secret(caplog.text)
    assert "alert webhook …:" not in caplog.text  # no retry (other tests' threads may log)


# --- command ---------------------------------------------------------------------------------


def test_a_command_gets_the_record_as_json_on_stdin(
    tmp_path: Path, runner: Callable[..., ActionRunner]
) -> None:
    out = tmp_path / "got.json"
    keep = script(
        tmp_path,
        "notify.py",
        f"import sys\nopen({str(out)!r}, 'wb').write(sys.stdin.buffer.read())\n"
        "print('said something')\n",
    )
    actions = runner()
    event = make_event(
        actions=("command",), command=(str(keep),), message="Throttled: ünïcode “quotes”"
    )
    send(actions, event)
    actions.close(5.0)
    assert json.loads(out.read_text(encoding="utf-8")) == event_record(event)
    assert actions.failures == ()


def test_a_failing_command_is_reported_with_its_last_stderr_line(
    tmp_path: Path, runner: Callable[..., ActionRunner]
) -> None:
    fail = script(
        tmp_path,
        "notify.sh",
        "import sys\nsys.stdin.read()\nsys.stderr.write('first\\nboom: bad thing\\n\\n')\n"
        "sys.exit(3)\n",
    )
    actions = runner()
    send(actions, make_event(actions=("command",), command=(str(fail), "--flag")))
    assert wait_until(lambda: len(actions.failures) == 1)
    assert actions.lines == [  # type: ignore[attr-defined]
        'alert "throttled": command notify.sh exited 3: boom: bad thing'
    ]


def test_a_long_stderr_line_is_cut(tmp_path: Path, runner: Callable[..., ActionRunner]) -> None:
    noisy = script(
        tmp_path, "noisy.py", "import sys\nsys.stderr.write('x' * 100000)\nsys.exit(1)\n"
    )
    actions = runner()
    send(actions, make_event(actions=("command",), command=(str(noisy),)))
    assert wait_until(lambda: len(actions.failures) == 1)
    (line,) = actions.failures
    assert line.startswith('alert "throttled": command noisy.py exited 1: xxx')
    assert len(line) <= 240
    assert line.endswith("…")


def _gone(pid: int) -> bool:
    """Not running: no such process, or a zombie waiting for its reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_command_that_hangs_is_killed_with_its_children(
    tmp_path: Path, runner: Callable[..., ActionRunner]
) -> None:
    pids = tmp_path / "pids"
    hang = script(
        tmp_path,
        "hang.py",
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(60)\n",
    )
    actions = runner(command_timeout_s=0.5)
    start = time.monotonic()
    send(actions, make_event(actions=("command",), command=(str(hang),)))
    assert wait_until(lambda: len(actions.failures) == 1, 5.0)
    took = time.monotonic() - start
    assert actions.failures == ('alert "throttled": command hang.py timed out after 0.5s',)
    assert 0.5 <= took < 1.5, took
    parent, child = (int(pid) for pid in pids.read_text().split())
    assert wait_until(lambda: _gone(parent) and _gone(child), 2.0)


def test_a_missing_command_is_reported(tmp_path: Path, runner: Callable[..., ActionRunner]) -> None:
    actions = runner()
    send(actions, make_event(actions=("command",), command=(str(tmp_path / "nope.sh"),)))
    send(actions, make_event(name="empty", actions=("command",), command=()))
    assert wait_until(lambda: len(actions.failures) == 2)
    assert sorted(actions.failures) == [
        'alert "empty": command action without a command',
        'alert "throttled": command nope.sh not found',
    ]


def test_a_command_that_ignores_stdin_is_fine(
    tmp_path: Path, runner: Callable[..., ActionRunner]
) -> None:
    quick = script(tmp_path, "quick.py", "pass\n")
    actions = runner()
    big = "x" * 200_000  # more than a pipe holds: writing must not block the worker
    send(actions, make_event(actions=("command",), command=(str(quick),), message=big))
    actions.close(5.0)
    assert actions.failures == ()


def test_a_failing_on_failure_does_not_stop_the_worker(tmp_path: Path) -> None:
    def explode(line: str) -> None:
        raise RuntimeError(line)

    actions = ActionRunner(on_failure=explode)
    try:
        for name in ("one", "two"):
            send(actions, make_event(name=name, actions=("command",), command=()))
        assert wait_until(lambda: len(actions.failures) == 2)
    finally:
        actions.close(0)


# --- desktop ---------------------------------------------------------------------------------


@pytest.fixture
def notifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake notify-send and osascript first on PATH; they write their argv as JSON."""
    folder = tmp_path / "bin"
    folder.mkdir()
    argv_file = tmp_path / "argv.json"
    body = f"import json, sys\nopen({str(argv_file)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    script(folder, "notify-send", body)
    script(folder, "osascript", body)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return argv_file


def test_a_desktop_notification_on_linux(
    notifier: Path, monkeypatch: pytest.MonkeyPatch, runner: Callable[..., ActionRunner]
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    actions = runner(platform="linux")
    event = make_event(actions=("desktop",), severity="critical")
    send(actions, event)
    actions.close(5.0)
    assert json.loads(notifier.read_text()) == [
        "--app-name=bedrock-top",
        "--urgency=critical",
        "--",
        "bedrock-top: critical",
        event.message,
    ]
    notifier.unlink()
    actions = runner(platform="linux")
    send(actions, make_event(actions=("desktop",), severity="critical", kind="resolved"))
    actions.close(5.0)
    assert json.loads(notifier.read_text())[1:4] == [
        "--urgency=low",
        "--",
        "bedrock-top: critical resolved",
    ]
    assert actions.failures == ()


def test_a_desktop_notification_on_macos_escapes_the_text(
    notifier: Path, runner: Callable[..., ActionRunner]
) -> None:
    actions = runner(platform="darwin")
    send(actions, make_event(actions=("desktop",), message='say "hi" \\ bye'))
    actions.close(5.0)
    assert json.loads(notifier.read_text()) == [
        "-e",
        'display notification "say \\"hi\\" \\\\ bye" with title "bedrock-top: warning"',
    ]


def test_no_notifier_or_no_display_is_skipped_silently(
    notifier: Path, monkeypatch: pytest.MonkeyPatch, runner: Callable[..., ActionRunner]
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    absent = runner(platform="linux", which=lambda name: None)
    send(absent, make_event(actions=("desktop",)))
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    headless = runner(platform="linux")
    send(headless, make_event(actions=("desktop",)))
    elsewhere = runner(platform="win32")
    send(elsewhere, make_event(actions=("desktop",)))
    for actions in (absent, headless, elsewhere):
        actions.close(2.0)
        assert actions.failures == ()
    assert not notifier.exists()


def test_a_failing_notifier_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: Callable[..., ActionRunner]
) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DISPLAY", raising=False)
    broken = script(tmp_path, "notify-send", "import sys\nsys.exit('no dbus')\n")
    actions = runner(platform="linux", which=lambda name: str(broken))
    send(actions, make_event(actions=("desktop",)))
    assert wait_until(lambda: len(actions.failures) == 1)
    assert actions.failures == (
        'alert "throttled": desktop notification: notify-send exited 1: no dbus',
    )


# --- bell --------------------------------------------------------------------------------------


def test_the_bell_rings_inline_for_fired_and_repeat_only() -> None:
    rung: list[int] = []
    actions = ActionRunner(bell=lambda: rung.append(threading.get_ident()))
    try:
        for kind in ("fired", "repeat", "resolved"):
            send(actions, make_event(actions=("notice", "bell"), kind=kind))
            assert len(rung) == (2 if kind == "resolved" else ("fired", "repeat").index(kind) + 1)
        send(actions, make_event(actions=("notice",)))
        assert rung == [threading.get_ident()] * 2
    finally:
        actions.close(0)


def test_a_broken_bell_is_a_failure_line_not_an_exception() -> None:
    def broken() -> None:
        raise OSError("terminal gone")

    actions = ActionRunner(bell=broken)
    send(actions, make_event(actions=("bell",)))
    actions.close(0)
    assert actions.failures == ('alert "throttled": bell failed: OSError: terminal gone',)


# --- pieces ------------------------------------------------------------------------------------


def test_retry_after() -> None:
    assert retry_after("0") == 0
    assert retry_after(" 2.5 ") == 2.5
    assert retry_after("120") == 30  # capped
    assert retry_after("-5") == 0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("nan") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 10))
    assert 8 <= (retry_after(soon) or 0) <= 10


def test_applescript_string() -> None:
    assert applescript_string('a "b" \\c\nd') == '"a \\"b\\" \\\\c d"'


TOKEN = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=8)


@given(token=TOKEN, password=TOKEN, sig=TOKEN)
def test_scrub_removes_every_secret_part(token: str, password: str, sig: str) -> None:
    url = f"https://bot:{password}@hooks.example.com/services/{token}?sig={sig}#{sig}"
    text = f"<urlopen error for {url}> path /services/{token} query sig={sig} user bot:{password}"
    cleaned = scrub(text, url)
    assert "https://hooks.example.com/…" in cleaned
    assert f"/services/{token}" not in cleaned
    assert f"sig={sig}" not in cleaned
    assert f"bot:{password}" not in cleaned
    assert scrub("nothing secret", url) == "nothing secret"
    assert scrub(text, None) == text


# --- a command that forwards the alert to a receiver (as a pager script would) -------------

FORWARD = """\
import sys, urllib.request
body = sys.stdin.buffer.read()
request = urllib.request.Request(sys.argv[1], data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=float(sys.argv[2])) as answer:
    answer.read()
"""


def test_a_command_forwards_the_alert_to_a_receiver_that_is_up_down_or_slow(
    tmp_path: Path, receiver: Callable[..., Receiver], runner: Callable[..., ActionRunner]
) -> None:
    """End to end: the command gets the JSON on stdin and POSTs it to 127.0.0.1. A receiver
    that is down makes it fail (reported, never raised); a slow one makes it outlast its
    timeout (killed, reported); the monitor's dispatch never waits for either."""
    forward = script(tmp_path, "forward.py", FORWARD)
    up = receiver()
    slow = receiver(Reply(hang=True))
    down = f"http://127.0.0.1:{closed_port()}/hook"
    actions = runner(command_timeout_s=1.0)
    events = [
        make_event(name="up", actions=("command",), command=(str(forward), up.base, "5")),
        make_event(name="down", actions=("command",), command=(str(forward), down, "5")),
        make_event(name="slow", actions=("command",), command=(str(forward), slow.base, "30")),
    ]
    took = [send(actions, event) for event in events]
    assert max(took) < 0.05  # polling never waits for a command
    lines: list[str] = actions.lines  # type: ignore[attr-defined]
    assert wait_until(lambda: up.count() == 1 and len(lines) >= 2, timeout_s=10)
    assert json.loads(up.seen[0].body) == event_record(events[0])
    lines = sorted(lines)
    assert len(lines) == 2
    assert 'alert "down": command forward.py exited 1' in lines[0]
    assert "Connection refused" in lines[0] or "URLError" in lines[0]
    assert 'alert "slow": command forward.py timed out after 1s' in lines[1]
    assert slow.count() == 1  # it did reach the slow receiver before it was killed
