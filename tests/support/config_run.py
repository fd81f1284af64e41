"""Running the command line in-process against config files of the test's own: the default
config path moved into the test's folder, and nothing from the caller's BEDROCK_TOP_*."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock_top import settings_file
from bedrock_top.cli import main


def isolate_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own default config path and no BEDROCK_TOP_* from the caller."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for key in settings_file.SCALAR_KEYS:
        monkeypatch.delenv(settings_file.ENV_PREFIX + key.upper(), raising=False)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """main()'s exit code (argparse's too) and output."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err
