"""Checks of values every part of the config shares (durations, row filters), apart from
``config`` so the alert rules' parser can use them too."""

from __future__ import annotations

import re
from typing import Final

from bedrock_top.errors import ConfigError
from bedrock_top.views.rows import row_filter

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_S: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(text: str, option: str, default_unit: str = "s") -> int:
    """'90', '15m', '1h', '7d' -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"{option}: cannot parse {text!r} as a duration (e.g. 15m, 1h, 7d)")
    number, unit = int(match.group(1)), match.group(2) or default_unit
    return number * _UNIT_S[unit]


def compile_filter(pattern: str | None, option: str = "--filter") -> None:
    """Check a filter the way every output applies it (``rows.row_filter``)."""
    try:
        row_filter(pattern)
    except re.error as exc:
        raise ConfigError(f"{option}: invalid regular expression {pattern!r}: {exc}") from None
