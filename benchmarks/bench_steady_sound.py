"""Steady sound under stress (not a test): the real window and the real engine play through a real-time sound
sink while the machine is made busy, and the recorded sound is searched for silences.

For each stress in turn (``--stress``, default all of them), a fresh real-time sound sink
(``tests/audio/sound_sink.py``: PulseAudio with a null sink paced by the clock, recorded by ``parec``) and a fresh
window process (no picture: the built-in station plays) run for ``--minutes`` (default 3):

* ``baseline``: nothing else;
* ``cpu``: one busy process per core;
* ``disk``: a process writing 8 MB files with ``fsync`` without pause;
* ``memory``: a process that holds and keeps touching ``--memory-fraction`` of the available memory;
* ``window``: the window's own heavy actions, one every few seconds: Mood readers with an Install that finds
  no network (a proxy that refuses), Add music folder (six generated songs, imported with their moods
  measured), Export session, Diagnostics on and off.

Printed per stress: the underflows PortAudio reported, the longest silence in the recording inside songs
(RMS in 10 ms windows below -80 dBFS, i.e. digital silence; one second either side of each song start the
engine logged is left out, and so are the first three seconds), how many such silences exceeded 50 ms, and
the longest time a probe thread in the window's process waited beyond its 2 ms sleep (the longest time
something held the GIL), with the action during which it happened. Goal: no silence over 50 ms.

    python benchmarks/bench_steady_sound.py                       # all stresses, 3 minutes each
    python benchmarks/bench_steady_sound.py --minutes 0.3 --stress baseline,window

Needs pulseaudio, pulseaudio-utils and libasound2-plugins (Debian packages). The sink's PulseAudio server is
made real-time, as a desktop's sound server is (needs root or ``RLIMIT_RTPRIO``; each stress says what it got),
and the window's process says what its sound threads got (``audio/thread_priority.py``).
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.audio import sound_sink  # noqa: E402 - the tests' own real-time sound sink

STRESSES = ("baseline", "cpu", "disk", "memory", "window")
RATE = 48000
WINDOW_FRAMES = RATE // 100  # 10 ms
SILENT_RMS = 10 ** (-80 / 20)  # -80 dBFS: an underflow writes exact zeros
GAP_GOAL_MS = 50.0
ACTION_EVERY_S = 6.0
SERVER_RT_PRIORITY = 20


# ---------------------------------------------------------------------------------------- the stresses
def busy_loop() -> None:
    while True:
        pass


def disk_writer(folder: str) -> None:
    block = os.urandom(1 << 20)
    i = 0
    while True:
        path = Path(folder) / f"stress{i % 4}.bin"
        with open(path, "wb") as file:
            for _ in range(8):
                file.write(block)
                file.flush()
                os.fsync(file.fileno())
        i += 1


def memory_hog(fraction: float) -> None:
    available = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    size = int(available * fraction)
    hog = np.ones(size // 8, dtype=np.float64)
    page = 4096 // 8
    while True:  # keep every page in use, so the kernel must reclaim or swap elsewhere
        hog[::page] += 1.0


def sound_server_real_time(folder: Path) -> str:
    """Make the sink's PulseAudio server threads real-time, as a desktop's sound server is (PulseAudio and
    PipeWire ask rtkit for it). Left ordinary, a server starved by busy cores wakes late and then takes
    more sound at once than any client has buffered: an underflow that no program could avoid. Needs root
    or ``RLIMIT_RTPRIO``; returns what happened, in words."""
    try:
        pid = int((folder / "xdg" / "pulse" / "pid").read_text().split()[0])
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.sched_setscheduler(int(task.name), os.SCHED_FIFO, os.sched_param(SERVER_RT_PRIORITY))
    except (OSError, ValueError, IndexError) as error:
        return f"ordinary ({error})"
    return f"real-time (SCHED_FIFO {SERVER_RT_PRIORITY})"


def start_stress(name: str, folder: Path, fraction: float) -> list[subprocess.Popen]:
    """The helper processes of one stress (none for baseline and window)."""
    code = "import sys; sys.path.insert(0, {!r}); import bench_steady_sound as b; b.{}"
    here = str(Path(__file__).parent)
    calls = {
        "cpu": ["busy_loop()"] * (os.cpu_count() or 1),
        "disk": [f"disk_writer({str(folder)!r})"],
        "memory": [f"memory_hog({fraction})"],
    }.get(name, [])
    return [subprocess.Popen([sys.executable, "-c", code.format(here, call)]) for call in calls]


# ---------------------------------------------------------------------------------------- the window
class GilProbe:
    """A thread that sleeps 2 ms again and again and records how late it wakes (ms): the longest time
    something else held the GIL (or the process could not run). ``label`` names what is going on."""

    def __init__(self) -> None:
        self.label = "warm-up"
        self.worst: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gil-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            before = time.perf_counter()
            time.sleep(0.002)
            late = (time.perf_counter() - before - 0.002) * 1000.0
            label = self.label
            if late > self.worst.get(label, 0.0):
                self.worst[label] = late


def write_songs(folder: Path, count: int = 6, seconds: float = 20.0) -> None:
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * 22050)) / 22050
    for i in range(count):
        mono = 0.2 * np.sin(2 * np.pi * (220 + 40 * i) * t) * (1 + 0.5 * np.sin(2 * np.pi * (0.5 + i) * t))
        sf.write(str(folder / f"song{i}.wav"), np.stack([mono, mono], axis=1).astype(np.float32), 22050)


def window_actions(window, folder: Path):
    """The window's heavy actions, each a function of no argument (GUI thread), with its name."""
    state = {"export": 0}

    def install_offline() -> None:
        window.open_models_dialog()
        dialog = window.models_dialog
        key = next((k for k, s in dialog.catalogue.items() if s.must_accept), next(iter(dialog.catalogue)))
        dialog.install(key)
        if dialog.licence_dialog is not None and dialog.licence_dialog.isVisible():
            dialog.licence_dialog.agree.setChecked(True)
            dialog.licence_dialog.accept()

    def add_folder() -> None:
        if not window.library_tools.importing:
            window.library_tools.start_import(folder / "music")

    def export() -> None:
        state["export"] += 1
        window.export_session(folder / f"export{state['export']}.json")

    def diagnostics() -> None:
        window.menus.diagnostics_action.toggle()

    return [
        ("mood readers install offline", install_offline),
        ("add music folder", add_folder),
        ("export session", export),
        ("diagnostics on", diagnostics),
        ("diagnostics off", diagnostics),
    ]


def play_for(app, window, probe: GilProbe, actions: list, seconds: float) -> tuple[list[float], list[str], int]:
    """Run the window's event loop for ``seconds``, doing one of ``actions`` every ``ACTION_EVERY_S`` (the
    probe's label names the latest until the next); return the wall-clock times of the song starts (the
    one playing now first), the songs' names in that order, and how many actions were done."""
    engine = window.engine
    playing = engine.current_song
    starts = [time.time()]
    names = [playing.display_name if playing is not None else "?"]
    probe.label = "playing"
    next_action, done_actions = time.monotonic() + 3.0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if engine.current_song is not playing:
            playing = engine.current_song
            if playing is not None:
                starts.append(time.time())
                names.append(playing.display_name)
        if actions and time.monotonic() >= next_action:
            name, act = actions[done_actions % len(actions)]
            probe.label = name
            act()
            done_actions += 1
            next_action = time.monotonic() + ACTION_EVERY_S
        time.sleep(0.001)
    return starts, names, done_actions


def child(args: argparse.Namespace) -> int:
    """The window's process: play for ``args.seconds`` and write what happened to ``args.result``."""
    faulthandler.dump_traceback_later(args.seconds + 240.0, exit=True)  # a hung window says where it hangs
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from moodsic_desktop.audio.output import SoundDeviceBackend
    from moodsic_desktop.ui.app import create_window

    folder = Path(args.result).parent
    app = QApplication.instance() or QApplication([])
    probe = GilProbe()
    probe.start()
    backend = SoundDeviceBackend(latency=args.latency) if args.latency else None  # None: the program's own
    window = create_window(None, None, backend=backend, close_fade_s=0.2)
    window.show()
    engine = window.engine
    waited = time.monotonic() + 120.0
    while engine.current_song is None and time.monotonic() < waited:
        app.processEvents()
        time.sleep(0.005)
    if engine.current_song is None:
        print("no song started within two minutes", file=sys.stderr)
        return 1
    underflows = engine.underflow_count
    music_start = time.time()
    actions = window_actions(window, folder) if args.stress == "window" else []
    starts, names, done_actions = play_for(app, window, probe, actions, args.seconds)
    result = {
        "underflows": engine.underflow_count - underflows,
        "starved": engine.starved_blocks,
        "priorities": engine.thread_priorities,
        "status": engine.status,
        "latency_s": getattr(engine.backend, "latency", None),
        "music_start": music_start,
        "song_starts": starts,
        "songs": names,
        "music_end": time.time(),
        "gil_worst_ms": probe.worst,
        "actions": done_actions,
    }
    probe.stop()
    Path(args.result).write_text(json.dumps(result))
    window.close()
    waited = time.monotonic() + 10.0
    while not window.closed_down and time.monotonic() < waited:
        app.processEvents()
        time.sleep(0.01)
    return 0


# ---------------------------------------------------------------------------------------- the recording
def silences_ms(raw: np.ndarray, keep: np.ndarray) -> list[float]:
    """Lengths (ms) of the runs of silent 10 ms windows of ``raw`` (int16, interleaved stereo) where
    ``keep`` (one bool per window) is true."""
    frames = len(raw) // 2 // WINDOW_FRAMES
    block = raw[: frames * WINDOW_FRAMES * 2].astype(np.float32).reshape(frames, -1) / 32768.0
    silent = np.sqrt(np.mean(block**2, axis=1)) < SILENT_RMS
    silent &= keep[:frames]
    edges = np.diff(np.concatenate([[0], silent.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [float(e - s) * 10.0 for s, e in zip(starts, ends, strict=True)]


def analyse(raw: np.ndarray, recording_start: float, result: dict) -> list[float]:
    """Silences (ms) inside songs: from 3 s after the music began to its end, without 1 s either side of
    each song start. Wall-clock times become windows by the first sound in the recording, which is the
    first song's fade-in."""
    frames = len(raw) // 2 // WINDOW_FRAMES
    loud = np.flatnonzero(np.abs(raw[: frames * WINDOW_FRAMES * 2].reshape(frames, -1)).max(axis=1) > 0)
    if not len(loud):
        return [float(frames) * 10.0]
    offset = loud[0] - (result["song_starts"][0] - recording_start) * 100.0  # windows
    keep = np.zeros(frames, dtype=bool)

    def window_of(t: float) -> int:
        return round((t - recording_start) * 100.0 + offset)

    keep[max(window_of(result["music_start"] + 3.0), 0) : max(window_of(result["music_end"]), 0)] = True
    for start in result["song_starts"]:
        keep[max(window_of(start - 1.0), 0) : max(window_of(start + 1.0), 0)] = False
    return silences_ms(raw, keep)


def run_one(stress: str, seconds: float, fraction: float, cache: Path, latency: float) -> dict | None:
    with tempfile.TemporaryDirectory(prefix=f"steady-{stress}-") as scratch:
        folder = Path(scratch)
        try:
            sink_env = sound_sink.start("realtime", folder)
        except RuntimeError as error:
            print(f"{stress}: the realtime sound sink could not be set up: {error}")
            return None
        server = sound_server_real_time(folder)
        recording_start = time.time()
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MOODSIC_CACHE_DIR=str(cache), **sink_env)
        env["MOODSIC_CONFIG_DIR"] = str(folder / "config")
        env["MOODSIC_HOME"] = str(folder / "moodsic")
        if stress == "window":
            write_songs(folder / "music")
            for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
                env[name] = "http://127.0.0.1:9"  # nothing listens there: the Install finds no network
        helpers = start_stress(stress, folder, fraction)
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--stress",
                    stress,
                    "--seconds",
                    str(seconds),
                    "--result",
                    str(folder / "result.json"),
                    "--latency",
                    str(latency),
                ],
                check=False,
                env=env,
                capture_output=True,
                text=True,
                timeout=seconds + 300.0,
            )
        except subprocess.TimeoutExpired as error:
            print(f"{stress}: the window's process hung:\n{str(error.stderr or '')[-3000:]}")
            return None
        finally:
            for helper in helpers:
                helper.send_signal(signal.SIGKILL)
                helper.wait()
            sound_sink.stop(folder)
        result_path = folder / "result.json"
        if proc.returncode != 0 or not result_path.exists():
            print(f"{stress}: the window's process failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
            return None
        result = json.loads(result_path.read_text())
        raw = np.fromfile(folder / "out.raw", dtype=np.int16)
        gaps = analyse(raw, recording_start, result)
        result["gaps"] = gaps
        result["server"] = server
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="minutes per stress (default 3)")
    parser.add_argument("--stress", default=",".join(STRESSES), help=f"comma-separated, of {', '.join(STRESSES)}")
    parser.add_argument("--memory-fraction", type=float, default=0.8, help="of the available memory (default 0.8)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="output buffer in seconds (default: the program's, OUTPUT_LATENCY_S)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--result", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    problem = sound_sink.problem("realtime")
    if problem:
        print(f"skipped: {problem}")
        return 0
    stresses = [s.strip() for s in args.stress.split(",") if s.strip()]
    unknown = set(stresses) - set(STRESSES)
    if unknown:
        parser.error(f"unknown stress {', '.join(sorted(unknown))}; choose from {', '.join(STRESSES)}")
    cache = Path(tempfile.mkdtemp(prefix="steady-cache-"))  # the built-in pieces, rendered once for all runs
    print(f"{args.minutes:g} min per stress; silence: 10 ms windows under -80 dBFS; goal: none over {GAP_GOAL_MS:g} ms")
    print(
        f"{'stress':<10}{'underflows':>11}{'longest gap ms':>16}{'gaps>50ms':>11}{'songs':>7}{'buffer s':>10}"
        "  longest GIL wait"
    )
    try:
        for stress in stresses:
            result = run_one(stress, args.minutes * 60.0, args.memory_fraction, cache, args.latency)
            if result is None:
                continue
            gaps = result["gaps"]
            worst_label, worst = max(result["gil_worst_ms"].items(), key=lambda item: item[1], default=("", 0.0))
            print(
                f"{stress:<10}{result['underflows']:>11}{max(gaps, default=0.0):>16.0f}"
                f"{sum(g > GAP_GOAL_MS for g in gaps):>11}{len(result['song_starts']):>7}{result['latency_s']!s:>10}"
                f"  {worst:.0f} ms ({worst_label})",
                flush=True,
            )
            print(f"           sound server: {result['server']}; decoding behind the sound: {result['starved']} blocks")
            print(f"           {result['priorities']}")
            played = collections.Counter(result["songs"])
            print(
                f"           songs played ({len(played)} different): "
                + ", ".join(f"{n} ×{c}" for n, c in played.most_common())
            )
            if stress == "window":
                waits = ", ".join(f"{k} {v:.0f} ms" for k, v in sorted(result["gil_worst_ms"].items()))
                print(f"           GIL waits by action: {waits}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
