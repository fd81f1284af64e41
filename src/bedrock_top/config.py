"""Settings and the validation of every user-supplied value, before any network call.

Errors are ``ConfigError`` with a one-line message that names the option; the CLI turns them
into exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

WINDOW_CHOICES: Final = ("15m", "1h", "3h", "12h", "1d", "3d", "7d")
FORMATS: Final = ("table", "json", "csv")
MIN_WINDOW_S: Final = 5 * 60
MAX_WINDOW_S: Final = 7 * 86_400
MIN_INTERVAL_S: Final = 5
MAX_INTERVAL_S: Final = 600
DEFAULT_INTERVAL_S: Final = 60
MAX_PERIODS_PER_WINDOW: Final = 1440
# Periods offered automatically: each keeps a window at <= 240 points (readable sparklines,
# and 500 series x 240 points stays inside GetMetricData's 100,800-datapoint limit).
AUTO_PERIODS: Final = (60, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_S: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


class ConfigError(ValueError):
    """A bad option value; the message is one line and names the option."""


def parse_duration(text: str, option: str, default_unit: str = "s") -> int:
    """'90', '15m', '1h', '7d' -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"{option}: cannot parse {text!r} as a duration (e.g. 15m, 1h, 7d)")
    number, unit = int(match.group(1)), match.group(2) or default_unit
    return number * _UNIT_S[unit]


def parse_window(text: str) -> int:
    seconds = parse_duration(text, "--window", default_unit="m")
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise ConfigError(f"--window: {text!r} is out of range (5m to 7d)")
    if seconds % 60:
        raise ConfigError(f"--window: {text!r} must be a whole number of minutes")
    return seconds


def auto_period(window_s: int) -> int:
    """The smallest period that keeps the window at <= 240 points and divides it evenly."""
    for period in AUTO_PERIODS:
        if window_s % period == 0 and window_s // period <= 240:
            return period
    return 60 * max(1, window_s // (240 * 60))


def check_period(period_s: int, window_s: int) -> int:
    if period_s <= 0 or period_s % 60:
        raise ConfigError(f"--period: {period_s} must be a positive multiple of 60 seconds")
    if window_s % period_s:
        raise ConfigError(f"--period: {period_s}s does not divide the window ({window_s}s) evenly")
    if window_s // period_s > MAX_PERIODS_PER_WINDOW:
        raise ConfigError(
            f"--period: {period_s}s gives {window_s // period_s} points per window "
            f"(at most {MAX_PERIODS_PER_WINDOW}); use a larger period"
        )
    return period_s


def check_interval(seconds: int) -> int:
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ConfigError(
            f"--interval: {seconds}s is out of range ({MIN_INTERVAL_S} to {MAX_INTERVAL_S} s)"
        )
    return seconds


def compile_filter(pattern: str | None, option: str = "--filter") -> re.Pattern[str] | None:
    """A case-insensitive regex; a leading '!' is kept for the caller to negate."""
    if not pattern:
        return None
    try:
        return re.compile(pattern.removeprefix("!"), re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{option}: invalid regular expression {pattern!r}: {exc}") from None


def parse_regions(text: str | None, known: list[str]) -> list[str]:
    """'us-east-1,eu-west-1' or 'all' (every region botocore knows for Bedrock runtime)."""
    if text is None:
        return []
    if text.strip() == "all":
        return list(known)
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise ConfigError("--region: no region given")
    for region in regions:
        if not _REGION.match(region):
            raise ConfigError(f"--region: {region!r} is not a valid AWS region name")
    return list(dict.fromkeys(regions))


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective settings after defaults and command line."""

    demo: bool = False
    profile: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    window_s: int = 3600
    period_s: int = 60
    interval_s: int = DEFAULT_INTERVAL_S
    filter: str | None = None
    sort: str | None = None  # None: window invocations for --once, Inv/min in the TUI
    reverse: bool = False
    all_models: bool = False
    once: bool = False
    format: str = "table"
    seed: int = 0
    extra: dict[str, str] = field(default_factory=dict)
