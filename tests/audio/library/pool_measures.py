"""What the pool tests' workers do with a file instead of analysing it (module-level, so a spawned worker can
import them): fake features at once, or the death of the worker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from moodsic_desktop.audio.library.mood_features import MoodFeatures


def fake_features(path: str) -> MoodFeatures:
    """Features whose tempo is the length of the file's name: which file gave which result is checkable."""
    return MoodFeatures(len(Path(path).name), 1.0, -20.0, 10.0, 2.0, 1500.0, 3000.0, 0.2, 0.1, 0.5, "C major", 1.0)


def crash_on_crash_files(path: str) -> MoodFeatures | str:
    """A file named ``crash…`` kills its process (SIGKILL, as a segfault or the OOM killer would end it) every
    time; ``once…`` only the first time (a marker beside it remembers); the others get ``fake_features``."""
    name = Path(path).name
    marker = Path(path + ".crashed")
    if name.startswith("crash") or (name.startswith("once") and not marker.exists()):
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return fake_features(path)
