"""The audio engine tests' shared rig: an engine on a manual null output, a recording listener, the
expected gains of an equal-power crossfade, and runners for subprocesses and the PortAudio sinks. Imported by
test_engine.py, test_output.py, test_mixer.py and test_commands.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.audio.output import AudioBackend, NullBackend
from moodsic_desktop.core.song import Song, SongMood

RATE = 48000  # the engine's output rate in these tests, and the rate of the sinks' out.raw
REPO = Path(__file__).resolve().parents[2]


def song(path: Path | None, song_id: str | None = None) -> Song:
    return Song(
        song_id=song_id or (path.name if path else "none"),
        mood=SongMood(0.0, 0.0),
        title=path.stem if path else "",
        path=path,
    )


class Recorder(EngineListener):
    """Records every notice and the thread it came on; ``next_song`` hands out ``songs`` in order."""

    def __init__(self, songs: list[Song] | None = None) -> None:
        self.songs = list(songs or [])
        self.events: list[tuple] = []
        self.threads: set[str] = set()

    def _log(self, *event: object) -> None:
        self.threads.add(threading.current_thread().name)
        self.events.append(event)

    def next_song(self, after, remaining_s):
        chosen = self.songs.pop(0) if self.songs else None
        self._log("next_song", after.song_id if after else None, remaining_s, chosen.song_id if chosen else None)
        return chosen

    def song_started(self, song):
        self._log("song_started", song.song_id)

    def song_failed(self, song, reason):
        self._log("song_failed", song.song_id, reason)

    def playback_stopped(self):
        self._log("playback_stopped")

    def status_changed(self, status):
        self._log("status_changed", status)

    def named(self, name: str) -> list[tuple]:
        return [e for e in self.events if e[0] == name]


class Rig:
    """An engine on a manual null output: ``pull(seconds)`` plays that much audio, letting the worker
    react every ``step_s``."""

    def __init__(self, listener: Recorder | None = None, backend: AudioBackend | None = None, **options) -> None:
        self.listener = listener or Recorder()
        self.backend = backend or NullBackend("manual")
        options.setdefault("start_fade_s", 0.0)
        self.engine = AudioEngine(backend=self.backend, listener=self.listener, **options)
        self.engine.start()
        assert self.engine.wait_idle(30)

    def ready(self) -> None:
        assert self.engine.wait_idle(30), "the audio worker did not settle"

    def pull(self, seconds: float, step_s: float | None = None) -> np.ndarray:
        frames = round(seconds * RATE)
        step = frames if step_s is None else round(step_s * RATE)
        out = np.zeros((frames, 2), dtype=np.float32)
        done = 0
        while done < frames:
            n = min(step, frames - done)
            self.backend.pull(n, out[done : done + n])
            done += n
            self.ready()
        return out


def make_rigs() -> Iterator[Callable[..., Rig]]:
    """For a fixture: yields a function that makes rigs, and closes their engines afterwards."""
    rigs: list[Rig] = []

    def make(**options) -> Rig:
        rigs.append(Rig(**options))
        return rigs[-1]

    yield make
    for made in rigs:
        made.engine.close()


def crossfade_gains(out: np.ndarray, sig, f_out: float, f_in: float, amplitude: float = 0.5) -> np.ndarray:
    """Gains of the two tones in 10 ms windows (both have whole cycles in 480 samples)."""
    return sig.tone_amplitudes(out[:, 0], [f_out, f_in], RATE, 480) / amplitude


def expected_gains(start: int, length: int, windows: int, window: int = 480) -> np.ndarray:
    centres = (np.arange(windows) + 0.5) * window - 0.5
    phase = np.clip((centres - start) / length, 0.0, 1.0) * (np.pi / 2)
    return np.stack([np.cos(phase), np.sin(phase)], axis=1)


def wait_for(condition, guard_s: float = 30.0) -> bool:
    end = time.monotonic() + guard_s  # a guard against hanging, not a timing requirement
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def run_python(code: str, env: dict[str, str] | None = None, extra_path: list[Path] = ()) -> dict:
    path = os.pathsep.join([*(str(p) for p in extra_path), str(REPO)])
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=full_env, cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def tap_scenario(scenario_runner, tap_sink, **scenario) -> tuple[dict, np.ndarray]:
    engine = {"samplerate": RATE, "blocksize": 1024, "start_fade_s": 0.0, **scenario.pop("engine", {})}
    report = scenario_runner(tap_sink.env, {"prepare": True, "engine": engine, **scenario})
    assert report["finished"], report
    played = tap_sink.read()
    start = int(np.flatnonzero(np.abs(played).max(axis=1) > 1e-3)[0])
    return report, played[start:]
