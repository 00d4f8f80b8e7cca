"""Plays one scenario through the real AudioEngine and writes a JSON report (run as a subprocess by tests).

PortAudio reads ``$HOME/.asoundrc`` when it initialises, so tests run this script with the environment that
``sound_sink.start`` returns. Usage: ``python play_scenario.py SCENARIO.json``.

Scenario keys: ``engine`` (keyword arguments for ``AudioEngine``, plus ``latency`` for the PortAudio back
end), ``play`` / ``queue`` (a file to ``play`` / ``queue_next``), ``listener_songs`` (files the listener's
``next_song`` hands out in order), ``prepare`` (decode everything before the output opens: the ``tap`` sink
is not paced, it takes samples as fast as the callback makes them), ``busy_thread`` (a Python thread that
keeps a core busy while playing), ``lead_s``/``linger_s`` (seconds of silence
to stream before the first song and after the last: PulseAudio drops the first moments of a new stream,
and its recorder misses the last ones),
``report`` (where to write the JSON report), ``guard_s`` (give up after
this long, so a broken engine cannot hang the test run).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.audio.output import SoundDeviceBackend, list_output_devices
from moodsic_desktop.core.song import Song, SongMood


def _song(path: str) -> Song:
    return Song(song_id=Path(path).name, mood=SongMood(0.0, 0.0), title=Path(path).stem, path=Path(path))


class _Recorder(EngineListener):
    def __init__(self, songs: list[str]) -> None:
        self.songs = [_song(p) for p in songs]
        self.events: list[list[object]] = []
        self.threads: set[str] = set()
        self.stopped = threading.Event()

    def _log(self, *event: object) -> None:
        self.threads.add(threading.current_thread().name)
        self.events.append([round(time.monotonic(), 4), *event])

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        song = self.songs.pop(0) if self.songs else None
        self._log("next_song", after.song_id if after else None, remaining_s, song.song_id if song else None)
        return song

    def song_started(self, song: Song) -> None:
        self._log("song_started", song.song_id)

    def song_failed(self, song: Song, reason: str) -> None:
        self._log("song_failed", song.song_id, reason)

    def playback_stopped(self) -> None:
        self._log("playback_stopped")
        self.stopped.set()

    def status_changed(self, status: str) -> None:
        self._log("status_changed", status)


def _busy(stop: threading.Event, counter: list[int]) -> None:
    """Pure Python work: keeps a core busy and competes for the GIL like the perception pipeline."""
    n = 0
    while not stop.is_set():
        for i in range(10_000):
            n += i * i % 7
        counter[0] += 1


def main() -> int:
    scenario = json.loads(Path(sys.argv[1]).read_text())
    options = dict(scenario.get("engine", {}))
    latency = options.pop("latency", 0.2)
    recorder = _Recorder(scenario.get("listener_songs", []))
    engine = AudioEngine(backend=SoundDeviceBackend(latency=latency), listener=recorder, **options)
    stop_busy = threading.Event()
    busy_count = [0]
    busy = None
    if scenario.get("busy_thread"):
        busy = threading.Thread(target=_busy, args=(stop_busy, busy_count), name="busy", daemon=True)
        busy.start()
    prepare = bool(scenario.get("prepare"))
    engine.start(open_output=not prepare)
    if not prepare and scenario.get("lead_s"):
        # stream silence first (PulseAudio stalls a new stream for a while and drops its first moments)
        lead = scenario["lead_s"] * engine.samplerate
        while engine.frames_rendered < lead:
            time.sleep(0.01)
    if scenario.get("play"):
        engine.play(_song(scenario["play"]))
    if scenario.get("queue"):
        engine.queue_next(_song(scenario["queue"]))
    if prepare:
        engine.wait_idle()
        engine.open_output()
    finished = recorder.stopped.wait(scenario.get("guard_s", 120.0))
    if scenario.get("linger_s"):
        time.sleep(scenario["linger_s"])  # keep the stream going so the recorder gets the last samples too
    report = {
        "finished": finished,
        "underflow_count": engine.underflow_count,
        "starved_blocks": engine.starved_blocks,
        "frames_rendered": engine.frames_rendered,
        "status": engine.status,
        "sound_ok": engine.sound_ok,
        "devices": [device.name for device in list_output_devices()],
        "busy_iterations": busy_count[0],
    }
    engine.close()
    stop_busy.set()
    if busy is not None:
        busy.join()
    report["events"] = recorder.events
    report["listener_threads"] = sorted(recorder.threads)
    Path(scenario["report"]).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
