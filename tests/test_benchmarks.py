"""Smoke test: the benchmarks run end to end at a tiny size and report every figure.

The benchmarks measure time; this only proves they work, so the README figures can be
reproduced. It asserts structure and the deterministic floors, never a timing."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bedrock_top.figures.surfaces import VIEW_NAMES

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_at_a_tiny_size() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    core = json.loads((ROOT / "benchmarks" / "results" / "core-quick.json").read_text())
    tui = json.loads((ROOT / "benchmarks" / "results" / "tui-quick.json").read_text())
    for row in core["api_calls"]:
        for poll in ("first", "steady"):
            assert row[f"{poll}_calls"] == math.ceil(row[f"{poll}_metrics"] / 500)
    assert core["monitoring_cost"]["ratio"] <= 0.30
    assert core["monitoring_cost_with_views"]["ratio"] <= 0.30
    assert core["monitoring_cost_with_views"]["view_rows"] > 0
    visible = core["views_processing"]["visible"]
    assert {r["visible"] for r in visible} == set(VIEW_NAMES)
    for row in visible:
        assert row["first_at_floor"]
        assert row["steady_at_floor"]
        assert row["steady_ms"] > 0
    assert core["memory"]["rss_end_mb"] > 0
    assert {r["models"] for r in core["processing"]} == {r["models"] for r in core["api_calls"]}
    assert tui["screen_update"][0]["ours_ms"] > 0
    assert tui["startup"]["first_rows_s"] > tui["startup"]["import_floor_s"] > 0
    assert "idle CPU" in proc.stdout
    watch = json.loads((ROOT / "benchmarks" / "results" / "watch-quick.json").read_text())
    assert watch["idle_cpu"]["tui_headless_pct"] > 0
    assert watch["memory"]["polls"] == 30
    assert watch["memory"]["events"] > 0  # the rules judged something
    assert all(s["history"] <= 500 for s in watch["memory"]["samples"])
