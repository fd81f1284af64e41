"""The package's layers, read from the source's own imports (every one, lazy ones included):

    entry       cli, prices_cli, quotas_cli, __main__
    tui         the Textual app (the only place Textual and rich are imported)
    wiring      config, settings_file, arguments, assemble
    output      --once output, the CSV export
    views       columns, rows, cells, sparklines, charts (what is shown, as data)
    services    boto3 clients, Service Quotas, Price List; the demo account
    cloudwatch  the poller
    figures     snapshots, totals, quotas, money, spikes
    base        errors, logs, format

A module imports only its own layer or lower ones, and nothing imports itself in a loop.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Final

SRC: Final = Path(__file__).resolve().parents[1] / "src" / "bedrock_top"
LAYERS: Final = (
    ("base", ("errors", "logs", "format", "__init__")),
    ("figures", ("figures",)),
    ("cloudwatch", ("cloudwatch",)),
    ("services", ("services", "demo")),
    ("views", ("views",)),
    ("output", ("output",)),
    (
        "wiring",
        (
            "config",
            "settings_file",
            "arguments",
            "assemble",
            "alert_config",
            "alerting",
            "value_checks",
        ),
    ),
    ("tui", ("tui",)),
    ("entry", ("cli", "prices_cli", "quotas_cli", "watch_cli", "__main__")),
)
UI_LIBRARIES: Final = ("textual", "rich")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of ``bedrock_top.X...`` by its first part below the package."""
    first = module.split(".")[1] if "." in module else "__init__"
    for rank, (_, members) in enumerate(LAYERS):
        if first in members:
            return rank
    raise AssertionError(f"{module} is on no layer: add it to LAYERS")


def imports(path: Path, text: str | None = None) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import statement of the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base == "bedrock_top":  # from bedrock_top import X: X is the module
                for alias in node.names:
                    yield f"bedrock_top.{alias.name}", node.lineno
            else:
                yield base, node.lineno


def upward(path: Path, text: str | None = None) -> list[str]:
    """The imports of a file that reach a higher layer than its own."""
    here = module_name(path)
    return [
        f"{here}:{line} imports {target}"
        for target, line in sorted(imports(path, text), key=lambda found: found[1])
        if target.startswith("bedrock_top.")
        and target != "bedrock_top.__version__"
        and layer_of(target) > layer_of(here)
    ]


def sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_module_is_on_a_layer() -> None:
    assert len(sources()) > 40
    for path in sources():
        layer_of(module_name(path))


def test_no_module_imports_a_higher_layer() -> None:
    wrong = [line for path in sources() for line in upward(path)]
    assert not wrong, "\n".join(wrong)


def test_only_the_tui_imports_textual_or_rich() -> None:
    wrong = []
    for path in sources():
        here = module_name(path)
        if here.startswith("bedrock_top.tui"):
            continue
        for target, line in imports(path):
            if target.split(".")[0] in UI_LIBRARIES:
                wrong.append(f"{here}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_violation() -> None:
    """The contract can fail: imports upward, lazy or relative, are found where they are."""
    snapshot = SRC / "figures" / "snapshot.py"
    text = (
        "from bedrock_top.figures.series import Ring\n"
        "def f():\n"
        "    from bedrock_top.tui.app import run_app\n"
        "from ..views import columns\n"
        "from bedrock_top import cli\n"
    )
    assert upward(snapshot, text) == [
        "bedrock_top.figures.snapshot:3 imports bedrock_top.tui.app",
        "bedrock_top.figures.snapshot:4 imports bedrock_top.views",
        "bedrock_top.figures.snapshot:5 imports bedrock_top.cli",
    ]
