"""The actions of an alert besides the notice: the terminal bell, a desktop notification, a
command and a webhook.

Polling never waits for them: the bell rings inline (a byte on a terminal), everything else
goes to small worker lanes, one per kind, so a webhook stuck on a dead receiver delays neither
a command nor a desktop notification. Each lane holds at most ``max_pending`` items; more
are dropped and reported. An action never raises into the caller: what went wrong becomes
one failure line (``on_failure``, the log at WARNING, ``failures``).

Webhook URLs are secrets (the token sits in the path or query): every line, log record and
exception text shows them through ``redact_url``.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException, HTTPMessage
from typing import IO, Final, Literal

from bedrock_top import __version__
from bedrock_top.figures.alert_rules import AlertEvent, redact_url

log = logging.getLogger("bedrock_top.alerts")

Kind = Literal["desktop", "command", "webhook"]
LANES: Final[Mapping[Kind, int]] = {"desktop": 1, "command": 2, "webhook": 2}  # workers
MAX_LINE: Final = 240  # a failure line is one line of at most this many characters
TAIL_BYTES: Final = 4096  # of a command's stdout and stderr kept
RETRY_AFTER_CAP_S: Final = 30.0
KEPT_FAILURES: Final = 50
APP: Final = "bedrock-top"
USER_AGENT: Final = f"bedrock-top/{__version__}"
BELL_EVENTS: Final = ("fired", "repeat")  # an ending is good news: no bell

# Slack incoming-webhook look: emoji and colour by severity; resolved is green.
EMOJI: Final[Mapping[str, str]] = {
    "critical": ":rotating_light:",
    "warning": ":warning:",
    "info": ":information_source:",
    "resolved": ":white_check_mark:",
}
COLOR: Final[Mapping[str, str]] = {
    "critical": "#e01e5a",
    "warning": "#ecb22e",
    "info": "#36c5f0",
    "resolved": "#2eb67d",
}
URGENCY: Final[Mapping[str, str]] = {"critical": "critical", "warning": "normal", "info": "low"}
# The record's keys that are not the row's keys (those vary by view: model_id, surface...).
RECORD_KEYS: Final = frozenset(
    ("at", "event", "rule", "severity", "view", "region", "figure", "value", "threshold",
     "message", "peak", "started")
)  # fmt: skip


class ActionFailed(Exception):
    """An action that did not happen; the text is the failure line's tail (already safe)."""


@dataclass(frozen=True, slots=True)
class _Work:
    kind: Kind
    event: AlertEvent = field(repr=False)  # its rule holds the webhook URL
    record: Mapping[str, object] = field(repr=False)


class _Lane:
    """A bounded FIFO with its workers, started on first use (idle lanes cost no thread)."""

    def __init__(self, kind: Kind, workers: int, limit: int, run: Callable[[_Work], None]):
        self.kind = kind
        self.workers = workers
        self.limit = limit
        self.run = run
        self.items: deque[_Work] = deque()
        self.cond = threading.Condition()
        self.closing = False
        self.stopped = False
        self.threads: list[threading.Thread] = []

    def put(self, work: _Work) -> bool:
        """Queue ``work``; False when the lane is full or closed."""
        with self.cond:
            if self.closing or len(self.items) >= self.limit:
                return False
            self.items.append(work)
            if len(self.threads) < self.workers:
                thread = threading.Thread(
                    target=self._loop, name=f"bedrock-top-{self.kind}", daemon=True
                )
                self.threads.append(thread)
                thread.start()
            self.cond.notify()
            return True

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self.items and not self.closing:
                    self.cond.wait()
                if self.stopped or not self.items:
                    return
                work = self.items.popleft()
            self.run(work)

    def close(self) -> None:
        """No new work; the workers finish what is queued, then end."""
        with self.cond:
            self.closing = True
            self.cond.notify_all()

    def stop(self) -> int:
        """Drop what is still queued; returns how many items that was."""
        with self.cond:
            self.stopped = True
            dropped = len(self.items)
            self.items.clear()
            self.cond.notify_all()
            return dropped


def _default_bell() -> None:
    """A BEL on stderr when it is a terminal (stdout may carry JSON lines)."""
    stream = sys.stderr
    if stream is not None and stream.isatty():
        stream.write("\a")
        stream.flush()


class ActionRunner:
    """Runs the bell, desktop, command and webhook actions of alert events without blocking.

    ``on_failure`` gets one line per failed action, from worker threads: the caller makes it
    thread-safe. ``close`` gives queued work ``timeout_s`` to finish, then drops the rest.
    """

    def __init__(
        self,
        *,
        bell: Callable[[], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        command_timeout_s: float = 10.0,
        webhook_timeout_s: float = 5.0,
        webhook_retries: int = 3,
        backoff_s: float = 1.0,
        max_pending: int = 100,
        which: Callable[[str], str | None] = shutil.which,
        platform: str = sys.platform,
    ) -> None:
        self._bell = bell or _default_bell
        self._on_failure = on_failure
        self.command_timeout_s = command_timeout_s
        self.webhook_timeout_s = webhook_timeout_s
        self.webhook_retries = max(0, webhook_retries)
        self.backoff_s = backoff_s
        self._which = which
        self._platform = platform
        self._stop = threading.Event()  # set by close once its time is up: no more waiting
        self._closed = False
        self._quiet = False  # after close: failures are logged, no longer handed back
        self._failures: deque[str] = deque(maxlen=KEPT_FAILURES)
        self._failures_lock = threading.Lock()
        runs: Mapping[Kind, Callable[[_Work], None]] = {
            "desktop": self._desktop,
            "command": self._command,
            "webhook": self._webhook,
        }
        self._lanes: dict[Kind, _Lane] = {
            kind: _Lane(kind, workers, max(1, max_pending), self._guarded(runs[kind]))
            for kind, workers in LANES.items()
        }
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:
        return f"ActionRunner(pending={sum(len(lane.items) for lane in self._lanes.values())})"

    @property
    def failures(self) -> tuple[str, ...]:
        """The most recent failure lines, oldest first (at most 50)."""
        with self._failures_lock:
            return tuple(self._failures)

    # --- the caller's side ------------------------------------------------------------

    def dispatch(self, event: AlertEvent, record: Mapping[str, object]) -> None:
        """Start the event's rule's actions (notice is the caller's); returns at once."""
        if self._closed:
            return
        actions = event.rule.actions
        if "bell" in actions and event.kind in BELL_EVENTS:
            try:
                self._bell()
            except Exception as error:  # a closed terminal must not stop polling
                self._fail(event, f"bell failed: {type(error).__name__}: {error}")
        for kind in LANES:
            if kind not in actions:
                continue
            if kind == "desktop" and self._desktop_argv(event) is None:
                continue  # no notifier or no display here: skipped silently
            if not self._lanes[kind].put(_Work(kind, event, record)):
                self._report(
                    f'alert actions: queue full, dropped {kind} for alert "{event.rule.name}"'
                )

    def close(self, timeout_s: float = 1.0) -> None:
        """Let queued work finish for up to ``timeout_s``, then drop the rest; never hangs.

        Work still running after that (a command, a request) is left to its daemon thread.
        """
        self._closed = True
        deadline = time.monotonic() + max(0.0, timeout_s)
        for lane in self._lanes.values():
            lane.close()
        for lane in self._lanes.values():
            for thread in lane.threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()
        dropped = sum(lane.stop() for lane in self._lanes.values())
        if dropped:
            self._report(f"alert actions: closing, dropped {dropped} pending")
        self._quiet = True

    # --- failures ---------------------------------------------------------------------

    def _fail(self, event: AlertEvent, what: str) -> None:
        self._report(f'alert "{event.rule.name}": {what}', event)

    def _report(self, line: str, event: AlertEvent | None = None) -> None:
        line = one_line(scrub(line, event.rule.webhook if event else None))
        log.warning("%s", line)
        with self._failures_lock:
            self._failures.append(line)
        if self._on_failure is not None and not self._quiet:
            try:
                self._on_failure(line)
            except Exception:
                log.warning("alert actions: on_failure raised", exc_info=True)

    def _guarded(self, run: Callable[[_Work], None]) -> Callable[[_Work], None]:
        """A lane's runner that turns any failure into a failure line (workers never die)."""

        def guarded(work: _Work) -> None:
            try:
                run(work)
            except ActionFailed as failed:
                self._fail(work.event, str(failed))
            except Exception as error:  # a bug: keep the traceback, without the secret
                url = work.event.rule.webhook
                text = "".join(traceback.format_exception(error))
                log.warning("alert actions: %s crashed\n%s", work.kind, scrub(text, url))
                self._fail(work.event, f"{work.kind} failed: {type(error).__name__}: {error}")

        return guarded

    # --- desktop ----------------------------------------------------------------------

    def _desktop_argv(self, event: AlertEvent) -> list[str] | None:
        """The notifier's argv for this platform, or None where there is none to use."""
        rule = event.rule
        resolved = event.kind == "resolved"
        title = f"{APP}: {rule.severity}" + (" resolved" if resolved else "")
        body = one_line(event.message, 400)
        if self._platform == "darwin":
            program = self._which("osascript")
            if program is None:
                return None
            script = (
                f"display notification {applescript_string(body)} "
                f"with title {applescript_string(title)}"
            )
            return [program, "-e", script]
        if self._platform.startswith("linux") or "bsd" in self._platform:
            if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
                return None
            program = self._which("notify-send")
            if program is None:
                return None
            urgency = "low" if resolved else URGENCY.get(rule.severity, "normal")
            return [program, f"--app-name={APP}", f"--urgency={urgency}", "--", title, body]
        return None

    def _desktop(self, work: _Work) -> None:
        argv = self._desktop_argv(work.event)
        if argv is None:
            return
        code, _, err = run_command(argv, b"", self.command_timeout_s)
        name = os.path.basename(argv[0])
        if code is None:
            raise ActionFailed(f"desktop notification: {name} timed out (killed)")
        if code != 0:
            raise ActionFailed(f"desktop notification: {name} {exit_text(code, err)}")

    # --- command ----------------------------------------------------------------------

    def _command(self, work: _Work) -> None:
        argv = list(work.event.rule.command)
        if not argv:
            raise ActionFailed("command action without a command")
        name = os.path.basename(argv[0]) or argv[0]
        data = (json.dumps(work.record, ensure_ascii=False, default=str) + "\n").encode()
        try:
            code, out, err = run_command(argv, data, self.command_timeout_s)
        except FileNotFoundError:
            raise ActionFailed(f"command {name} not found") from None
        except OSError as error:
            raise ActionFailed(f"command {name} could not start: {error.strerror}") from None
        if code is None:
            raise ActionFailed(f"command {name} timed out after {self.command_timeout_s:g}s")
        if code != 0:
            raise ActionFailed(f"command {name} {exit_text(code, err)}")
        if out or err:
            log.debug("alert command %s said: %s", name, last_line(err or out))

    # --- webhook ----------------------------------------------------------------------

    def _webhook(self, work: _Work) -> None:
        url = work.event.rule.webhook
        if not url:
            raise ActionFailed("webhook action without a webhook URL")
        body = json.dumps(slack_payload(work.record), ensure_ascii=False).encode()
        shown = redact_url(url)
        attempts = self.webhook_retries + 1
        why = ""
        for attempt in range(attempts):
            if self._stop.is_set():
                raise ActionFailed(f"webhook {shown} not sent: closing ({why or 'not tried'})")
            retry, why, after = self._post(url, body)
            if not retry:
                if why:
                    raise ActionFailed(f"webhook {shown} failed: {why}")
                return
            if attempt + 1 < attempts:
                delay = after if after is not None else self.backoff_s * 2**attempt
                log.info("alert webhook %s: %s; retry in %.2gs", shown, why, delay)
                if self._stop.wait(delay):
                    raise ActionFailed(f"webhook {shown} not sent: closing ({why})")
        raise ActionFailed(f"webhook {shown} failed after {attempts} attempts: {why}")

    def _post(self, url: str, body: bytes) -> tuple[bool, str, float | None]:
        """One POST: (worth a retry, what went wrong ("" when delivered), Retry-After)."""
        try:
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            )
            with self._opener.open(request, timeout=self.webhook_timeout_s) as response:
                response.read(65536)
            return False, "", None
        except urllib.error.HTTPError as error:
            status = error.code
            reason = scrub(str(error.reason), url)
            after = retry_after(error.headers.get("Retry-After") if error.headers else None)
            error.close()
            why = f"HTTP {status} {reason}".rstrip()
            if status == 429 or status >= 500:
                return True, why, after
            return False, why, None
        except (urllib.error.URLError, OSError, HTTPException) as error:
            cause = error.reason if isinstance(error, urllib.error.URLError) else error
            if isinstance(cause, TimeoutError) or "timed out" in str(cause):
                why = f"timed out after {self.webhook_timeout_s:g}s"
            else:
                why = f"{type(cause).__name__}: {cause}" if str(cause) else repr(cause)
            if isinstance(error, ValueError):  # a malformed URL: no retry will help
                return False, scrub(why, url), None
            return True, scrub(why, url), None
        except ValueError as error:  # "unknown url type": the text holds the URL
            return False, scrub(f"{type(error).__name__}: {error}", url), None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without its body: count a 3xx as a failure."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> None:
        return None


# --- pieces (pure) ----------------------------------------------------------------------


def slack_payload(record: Mapping[str, object]) -> dict[str, object]:
    """A Slack incoming-webhook message: a headline, and an attachment coloured by severity
    (green once resolved) whose fields are view, region, the row, figure, value, threshold."""
    severity = str(record.get("severity") or "warning")
    resolved = record.get("event") == "resolved"
    key = "resolved" if resolved else severity
    tag = "RESOLVED" if resolved else severity.upper()
    text = f"{EMOJI.get(key, ':bell:')} *[{tag}]* {record.get('message') or record.get('rule')}"
    fields = [_field("View", record.get("view")), _field("Region", record.get("region") or "all")]
    fields += [
        _field("Model" if name == "model_id" else name.replace("_", " ").capitalize(), value)
        for name, value in record.items()
        if name not in RECORD_KEYS and value is not None
    ]
    fields += [
        _field("Figure", record.get("figure")),
        _field("Value", record.get("value")),
        _field("Threshold", record.get("threshold")),
    ]
    return {
        "text": text,
        "attachments": [{"color": COLOR.get(key, "#888888"), "fallback": text, "fields": fields}],
    }


def _field(title: str, value: object) -> dict[str, object]:
    return {"title": title, "value": show(value), "short": True}


def show(value: object) -> str:
    """A record value as a person reads it: 12, 1,234, 0.25; "-" when unknown."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        if float(value).is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    return str(value)


def applescript_string(text: str) -> str:
    """``text`` as an AppleScript string literal: backslashes and quotes escaped, one line."""
    flat = one_line(text, 1000)
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), at most 30; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds):
        return None
    return min(RETRY_AFTER_CAP_S, max(0.0, seconds))


def scrub(text: str, url: str | None) -> str:
    """``text`` with the webhook URL and each of its secret parts (user info, path, query,
    fragment), raw or percent-decoded, replaced by the redacted URL."""
    if not url:
        return text
    shown = redact_url(url)
    secrets = {url, urllib.parse.unquote(url)}
    parts = urllib.parse.urlsplit(url) if "://" in url else None
    if parts is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        for part in (userinfo, parts.path, parts.query, parts.fragment):
            if len(part) > 1:  # "/" alone hides nothing
                secrets |= {part, urllib.parse.unquote(part)}
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, shown)
    return text


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def last_line(data: bytes) -> str:
    """The last non-empty line of a command's output, decoded leniently."""
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def exit_text(code: int, err: bytes) -> str:
    """The end of a failure line: "exited 3: <last stderr line>", "killed by signal 9"."""
    what = f"killed by signal {-code}" if code < 0 else f"exited {code}"
    tail = last_line(err)
    return f"{what}: {tail}" if tail else what


def run_command(argv: list[str], data: bytes, timeout_s: float) -> tuple[int | None, bytes, bytes]:
    """Run ``argv`` (no shell) with ``data`` on stdin: (exit code, or None when it timed out
    and was killed with its process group; the tails of stdout and stderr).

    The pipes are pumped by helper threads that keep only the last 4 KiB, so a chatty command
    neither blocks on a full pipe nor fills memory.
    """
    posix = os.name == "posix"
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=posix,  # its own process group: a timeout kills its children too
        close_fds=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    out, err = _Tail(process.stdout), _Tail(process.stderr)
    feeder = threading.Thread(target=_feed, args=(process.stdin, data), daemon=True)
    for thread in (feeder, out.thread, err.thread):
        thread.start()
    try:
        code: int | None = process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        code = None
        if posix:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            process.kill()
        process.wait()
    for thread in (feeder, out.thread, err.thread):
        thread.join(1.0)  # a grandchild still holding a pipe is not waited for
    return code, out.data(), err.data()


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
    except OSError:
        pass  # it exited without reading its stdin: its business
    finally:
        with contextlib.suppress(OSError):
            pipe.close()


class _Tail:
    """Reads a pipe to its end in a thread, keeping the last ``TAIL_BYTES``."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.pipe = pipe
        self.kept = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        try:
            while chunk := os.read(self.pipe.fileno(), 65536):
                with self.lock:
                    self.kept += chunk
                    del self.kept[:-TAIL_BYTES]
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self.pipe.close()

    def data(self) -> bytes:
        with self.lock:
            return bytes(self.kept)
