"""The log file: details of failures (with tracebacks) go here, never to the screen.

Only bedrock-top's own logger writes to it. Nothing logged holds credentials: messages come
from describe_error and exception texts, which botocore never fills with secrets.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER = "bedrock_top"


def log_path() -> Path:
    from platformdirs import user_log_path

    return user_log_path("bedrock-top") / "bedrock-top.log"


def setup_file_logging(path: Path | None = None) -> Path:
    """Send bedrock-top's warnings to a small rotating file (3 x 1 MB) and return its path."""
    path = path or log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # never to the terminal the TUI is drawing on
    logger.handlers = [handler]
    return path
