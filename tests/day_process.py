"""What the long-day tests share: running a day in a process of its own (so that its memory and open files are
the day's alone) and reading that process's memory and open files from Linux /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_day_in_own_process(module: str, report_path: Path) -> dict[str, Any]:
    """Run ``python -m module report_path`` from the repository and return the JSON its last line prints;
    the test fails with the end of its stderr when it fails."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-m", module, str(report_path)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])


def open_files() -> int:
    """The process's open file descriptors."""
    return len(os.listdir("/proc/self/fd"))


def resident_bytes() -> int:
    """The process's resident memory (Linux /proc; tracemalloc would slow a day threefold)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
