"""How long the audio callback takes per block, as a share of the block period (not a test).

The engine's render function is what PortAudio calls for every block; it must finish well within the block
period (``blocksize / samplerate``), with room for the rest of the process holding the GIL. This plays two
songs with a crossfade and a volume glide through the real engine, times every render call with
``time.perf_counter_ns``, and prints mean / median / 99th percentile / worst time per block, each also as a
share of the block period measured in the same run.

    python benchmarks/bench_audio_callback.py                   # null output: blocks pulled back to back
    python benchmarks/bench_audio_callback.py --busy            # … while a Python thread competes for the GIL
    python benchmarks/bench_audio_callback.py --sounddevice     # inside the real PortAudio callback (real time)

With ``--sounddevice`` the songs play in real time on the default output (under ``audio-sink.sh`` too), and
the underflow count is printed as well. The times are spent inside the render function; waiting for the
GIL before the callback can run is not in them, and shows up as underflows instead (``--sounddevice``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.audio.output import AudioBackend, AudioSink, Device, NullBackend, RenderFn, SoundDeviceBackend
from moodsic_desktop.core.song import Song, SongMood


class TimedBackend(AudioBackend):
    """Wraps a back end and records how long each render call takes (ns) and what the engine was doing."""

    def __init__(self, inner: AudioBackend, capacity: int = 1 << 20) -> None:
        self.inner = inner
        self.times = np.zeros(capacity, dtype=np.int64)
        self.phase = np.zeros(capacity, dtype=np.int8)
        self.count = 0
        self.phase_now = 0

    def unavailable_reason(self) -> str | None:
        return self.inner.unavailable_reason()

    def open(self, device: Device, samplerate: int, blocksize: int, render: RenderFn) -> AudioSink:
        clock = time.perf_counter_ns

        def timed(out: np.ndarray, underflow: bool) -> None:
            start = clock()
            render(out, underflow)
            i = self.count
            if i < len(self.times):
                self.times[i] = clock() - start
                self.phase[i] = self.phase_now
                self.count = i + 1

        return self.inner.open(device, samplerate, blocksize, timed)


PHASES = ["fade-in", "one deck", "crossfade", "volume glide"]


def music_like(path: Path, seconds: float, samplerate: int, root_hz: float, seed: int) -> Path:
    """A chord with a little noise, so the mixer works on realistic, non-trivial samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * samplerate)) / samplerate
    mono = sum(0.15 * np.sin(2 * np.pi * root_hz * ratio * t) for ratio in (1.0, 1.25, 1.5, 2.0))
    stereo = np.stack([mono, np.roll(mono, 7)], axis=1) + 0.01 * rng.standard_normal((len(t), 2))
    sf.write(str(path), stereo.astype(np.float32), samplerate, subtype="PCM_16")
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocksize", type=int, default=1024, help="frames per callback (default 1024)")
    parser.add_argument("--samplerate", type=int, default=48000, help="output rate in Hz (default 48000)")
    parser.add_argument("--song-s", type=float, default=12.0, help="length of each song in seconds")
    parser.add_argument("--crossfade-s", type=float, default=6.0, help="crossfade length in seconds")
    parser.add_argument("--busy", action="store_true", help="a Python thread competes for the GIL meanwhile")
    parser.add_argument("--sounddevice", action="store_true", help="time inside the real PortAudio callback")
    return parser.parse_args()


def play(args: argparse.Namespace, backend: TimedBackend, folder: Path) -> tuple[int, str]:
    """Play two songs (fade-in, one deck, crossfade, then volume glides); return (underflows, status)."""
    done = threading.Event()

    class Listener(EngineListener):
        def playback_stopped(self) -> None:
            done.set()

    a = music_like(folder / "a.wav", args.song_s, 44100, 220.0, 1)
    b = music_like(folder / "b.wav", args.song_s, 44100, 330.0, 2)
    engine = AudioEngine(
        backend=backend,
        listener=Listener(),
        samplerate=args.samplerate,
        blocksize=args.blocksize,
        crossfade_s=args.crossfade_s,
        start_fade_s=1.0,
    )
    engine.start(open_output=False)
    engine.play(Song("a", SongMood(0.0, 0.0), path=a))
    engine.queue_next(Song("b", SongMood(0.0, 0.0), path=b))
    engine.wait_idle()
    engine.open_output()
    engine.wait_idle()
    out = np.zeros((args.blocksize, 2), dtype=np.float32)
    xfade_start = args.song_s - args.crossfade_s
    while not done.is_set():
        song, position = engine.current_song, engine.position_s
        if song is not None and song.song_id == "a":
            backend.phase_now = 0 if position < 1.0 else (1 if position < xfade_start else 2)
        elif song is not None and position < args.crossfade_s:
            backend.phase_now = 2
        elif song is not None:
            backend.phase_now = 3
            engine.volume = 0.2 if int(position * 4) % 2 else 1.0  # keep the volume gliding
        if isinstance(backend.inner, NullBackend):
            backend.inner.pull(args.blocksize, out)
            if backend.count % 64 == 0:
                engine.wait_idle()  # let the worker post its events now and then
        else:
            time.sleep(0.005)
    underflows, status = engine.underflow_count, engine.status
    engine.close()
    return underflows, status


def main() -> int:
    args = parse_args()
    backend = TimedBackend(SoundDeviceBackend() if args.sounddevice else NullBackend("manual"))
    stop_busy = threading.Event()
    if args.busy:

        def spin() -> None:
            n = 0
            while not stop_busy.is_set():
                n = (n + 1) % 1_000_003

        threading.Thread(target=spin, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        underflows, status = play(args, backend, Path(tmp))
    stop_busy.set()

    period_ns = args.blocksize / args.samplerate * 1e9
    times = backend.times[: backend.count]
    phases = backend.phase[: backend.count]
    print(f"output: {status}")
    busy = "; a busy thread competes for the GIL" if args.busy else ""
    print(
        f"block {args.blocksize} frames at {args.samplerate} Hz: period {period_ns / 1e6:.3f} ms; "
        f"{len(times)} blocks timed{busy}"
    )
    print(
        f"{'phase':<14}{'blocks':>8}{'mean µs':>10}{'p50 µs':>10}{'p99 µs':>10}{'max µs':>10}"
        f"{'mean/period':>13}{'p99/period':>12}{'max/period':>12}"
    )
    for index, name in [(-1, "all"), *enumerate(PHASES)]:
        chosen = times if index < 0 else times[phases == index]
        if not len(chosen):
            continue
        mean, p50, p99, worst = (float(v) for v in (chosen.mean(), *np.percentile(chosen, [50, 99]), chosen.max()))
        print(
            f"{name:<14}{len(chosen):>8}{mean / 1e3:>10.1f}{p50 / 1e3:>10.1f}{p99 / 1e3:>10.1f}{worst / 1e3:>10.1f}"
            f"{mean / period_ns:>13.4f}{p99 / period_ns:>12.4f}{worst / period_ns:>12.4f}"
        )
    if args.sounddevice:
        print(f"underflows reported by PortAudio: {underflows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
