"""Fixtures for the audio tests: generated test files, the real PortAudio sinks, and signal checks.

Real playback goes through the tests' own sinks (``sound_sink.py``): ``tap`` gives PortAudio an ALSA device that
writes every sample to ``DIR/out.raw`` (s16le, 48 kHz, stereo) as fast as the callback produces them (it is
not paced: about a thousand times real time here); ``realtime`` gives a PulseAudio null sink paced like a
sound card, recorded by ``parec``. PortAudio reads ``$HOME/.asoundrc`` when it initialises, so the playing
part runs in a subprocess (``play_scenario.py``) with the environment the sink gives.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from tests.audio import sound_sink

REPO = Path(__file__).resolve().parents[2]
SCENARIO_SCRIPT = Path(__file__).with_name("play_scenario.py")
SINK_RATE = 48000


class Sink(SimpleNamespace):
    """A sink set up by ``sound_sink.start``: ``dir``, ``env`` (to run the program with), ``raw`` (out.raw)."""

    def stop(self) -> None:
        """Stop PulseAudio and parec (realtime), so that out.raw holds everything recorded."""
        if self.mode != "realtime":
            return
        pid_file = self.dir / "parec.pid"
        pid = int(pid_file.read_text()) if pid_file.is_file() else None
        sound_sink.stop(self.dir)
        for _ in range(500):  # parec flushes and exits when PulseAudio goes away
            if pid is None or not Path(f"/proc/{pid}").exists() or _zombie(pid):
                break
            time.sleep(0.01)

    def read(self) -> np.ndarray:
        """What was played, float32 (frames, 2) in [-1, 1)."""
        data = np.fromfile(self.raw, dtype="<i2")
        data = data[: len(data) // 2 * 2]
        return data.reshape(-1, 2).astype(np.float32) / 32768.0


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


def _setup_sink(mode: str, directory: Path) -> Sink:
    problem = sound_sink.problem(mode)
    if problem:
        pytest.skip(f"no audio sink: {problem}")
    try:
        env = sound_sink.start(mode, directory)
    except RuntimeError as error:
        pytest.skip(f"the {mode} audio sink could not be set up: {error}")
    return Sink(dir=directory.resolve(), env=env, raw=directory.resolve() / "out.raw", mode=mode)


@pytest.fixture
def portaudio() -> None:
    """Skips the test when libportaudio2 is missing."""
    if ctypes.util.find_library("portaudio") is None:
        pytest.skip("libportaudio2 is not installed (apt-get install libportaudio2)")


@pytest.fixture
def tap_sink(tmp_path: Path) -> Sink:
    """An ALSA default device writing to out.raw, not paced (skips when it cannot be set up)."""
    return _setup_sink("tap", tmp_path / "sink")


@pytest.fixture
def realtime_sink() -> Iterator[Sink]:
    """A PulseAudio null sink paced like a card, recorded to out.raw (skips when it cannot be set up)."""
    # a short directory: PulseAudio's socket path (XDG_RUNTIME_DIR/pulse/native) must fit in 108 bytes
    directory = Path(tempfile.mkdtemp(prefix="mds-rt-"))
    try:
        sink = _setup_sink("realtime", directory)
        yield sink
    finally:
        sound_sink.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


def run_scenario(env: dict[str, str], scenario: dict, workdir: Path) -> dict:
    """Run play_scenario.py with ``env`` on top of ours; return its report (fails the test on a crash)."""
    report = workdir / "report.json"
    scenario = {**scenario, "report": str(report)}
    path = workdir / "scenario.json"
    path.write_text(json.dumps(scenario))
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(SCENARIO_SCRIPT), str(path)], env=full_env, cwd=REPO, capture_output=True, text=True
    )
    if result.returncode != 0 or not report.is_file():
        pytest.fail(f"play_scenario.py failed (rc {result.returncode}):\n{result.stderr[-3000:]}")
    data = json.loads(report.read_text())
    data["stderr"] = result.stderr
    return data


@pytest.fixture
def scenario_runner(tmp_path: Path) -> Callable[[dict[str, str], dict], dict]:
    return lambda env, scenario: run_scenario(env, scenario, tmp_path)


def write_tone(
    path: Path,
    freq: float,
    seconds: float,
    samplerate: int = SINK_RATE,
    channels: int = 2,
    amplitude: float = 0.5,
    phase: float = np.pi / 4,
) -> Path:
    """A sine of ``freq`` Hz, ``seconds`` long, at ``samplerate`` Hz; the format follows the suffix. The
    phase makes the first sample non-zero, so the start of a song is visible in the output."""
    t = np.arange(round(seconds * samplerate)) / samplerate
    mono = amplitude * np.sin(2 * np.pi * freq * t + phase)
    data = mono if channels == 1 else np.repeat(mono[:, None], channels, axis=1)
    subtype = "PCM_24" if path.suffix in (".wav", ".flac") else None
    sf.write(str(path), data.astype(np.float32), samplerate, subtype=subtype)
    return path


@pytest.fixture
def make_tone(tmp_path: Path) -> Callable[..., Path]:
    """``make_tone(name, freq, seconds, samplerate=48000, channels=2, amplitude=0.5)`` → a file in tmp_path."""

    def make(name: str, freq: float, seconds: float, **kwargs: object) -> Path:
        return write_tone(tmp_path / name, freq, seconds, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_corrupt(tmp_path: Path, make_tone: Callable[..., Path]) -> Callable[[str], Path]:
    """``make_corrupt(kind)`` with kind "garbage" (random bytes named .wav), "truncated-flac" (the first
    half of a FLAC file), "truncated-wav" (the first half of a WAV), "empty"."""

    def make(kind: str) -> Path:
        rng = np.random.default_rng(7)
        if kind == "garbage":
            path = tmp_path / "garbage.wav"
            path.write_bytes(rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
        elif kind in ("truncated-flac", "truncated-wav"):
            suffix = ".flac" if kind == "truncated-flac" else ".wav"
            whole = make_tone(f"whole{suffix}", 700.0, 3.0)
            path = tmp_path / f"truncated{suffix}"
            data = whole.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        elif kind == "empty":
            path = tmp_path / "empty.ogg"
            path.write_bytes(b"")
        else:
            raise ValueError(kind)
        return path

    return make


# ---- signal checks -----------------------------------------------------------------------------------


def tone_amplitudes(x: np.ndarray, freqs: list[float], samplerate: int, window: int) -> np.ndarray:
    """Amplitude of each sine in ``freqs`` (Hz) in consecutive windows of ``window`` samples of the mono
    signal ``x``: shape (windows, len(freqs)). Exact for steady tones with whole cycles in a window."""
    n = len(x) // window
    frames = x[: n * window].reshape(n, window).astype(np.float64)
    t = np.arange(window) / samplerate
    out = np.empty((n, len(freqs)))
    for k, f in enumerate(freqs):
        basis = np.exp(-2j * np.pi * f * t)
        out[:, k] = 2.0 / window * np.abs(frames @ basis)
    return out


def window_rms(x: np.ndarray, window: int) -> np.ndarray:
    """RMS over both channels in consecutive windows of ``window`` frames."""
    n = len(x) // window
    return np.sqrt((x[: n * window].astype(np.float64) ** 2).mean(axis=1).reshape(n, window).mean(axis=1))


def first_sound(x: np.ndarray, threshold: float = 1e-3) -> int:
    """Index of the first frame louder than ``threshold`` (either channel); -1 when all is silent."""
    loud = np.flatnonzero(np.abs(x).max(axis=1) > threshold)
    return int(loud[0]) if len(loud) else -1


def last_sound(x: np.ndarray, threshold: float = 1e-3) -> int:
    loud = np.flatnonzero(np.abs(x).max(axis=1) > threshold)
    return int(loud[-1]) if len(loud) else -1


def peak_frequency(x: np.ndarray, samplerate: int) -> float:
    """Frequency (Hz) of the strongest FFT bin of ``x`` (Hann window, zero-padded 8×, parabolic fit)."""
    n = len(x)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(n), 8 * n))
    k = int(np.argmax(spectrum[1:])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * samplerate / (8 * n)


@pytest.fixture
def sig() -> SimpleNamespace:
    """The signal checks above, for tests."""
    return SimpleNamespace(
        tone_amplitudes=tone_amplitudes,
        window_rms=window_rms,
        first_sound=first_sound,
        last_sound=last_sound,
        peak_frequency=peak_frequency,
    )
