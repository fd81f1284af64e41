"""Run every benchmark: ``.venv/bin/python benchmarks/run.py [--quick]``.

Writes benchmarks/results/core.json, tui.json and callers.json (core-quick, tui-quick and
callers-quick with --quick) and prints each table. Not a test: CI runs only the smoke test
(tests/test_benchmarks.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    extra = sys.argv[1:]
    for script in ("bench_core.py", "bench_tui.py", "bench_callers.py", "bench_watch.py"):
        print(f"== {script}", flush=True)
        code = subprocess.run([sys.executable, str(HERE / script), *extra], check=False)
        if code.returncode:
            return code.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
