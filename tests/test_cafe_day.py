"""A café day, accelerated: eight hours of injected clock through the real ``PlaybackSession``.

30 generated songs (2½ to 5 minutes each) on the mood plane with their stations; a scene reader whose mood
moves every ~20 minutes (a little noise on top); a simulated audio engine (``DayEngine``) that plays each
song for its length, gives the session the engine's notices ("song ending" ``NOTICE_S`` before the end,
"song started" when the next one begins) and logs what sounded when. Checked: the memory stays flat after
the first hour (growth under 5 MB per simulated hour), nothing added to threads or open files, never a gap
with nothing playing, and the variety figures of the matcher's rule 3: distinct songs per hour, the
shortest and longest repeat gap, no A-B-A-B (nor A-B-A); and the songs still follow the mood.

The day plan is on (``DAY_PLAN``: open 08:00–15:00, a calm morning at 40 %, a lively lunch; the day starts at
``DAY_STARTS_AT_MINUTE``, so its last hour is after closing). ``build_session`` hands it to the session with a
wall clock on the day's clock, ``is_open`` answers from it, and the checks read "sound only inside opening
hours" (a song starts only while open and the music stops within a step of closing) and "no gap while open".
``DAY_PLAN = None`` runs the same day open all day.

The day runs in a process of its own (``python -m tests.test_cafe_day REPORT``), so that its memory and
open files are the day's alone. The same day in real time belongs in a benchmark, not here.
"""

from __future__ import annotations

import datetime
import gc
import itertools
import json
import math
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moodsic_desktop.core.day_plan import DayPlan
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.stations import fit_station_model
from moodsic_desktop.core.types import Estimate
from moodsic_desktop.session.playback import PlaybackSession
from tests.day_process import open_files, resident_bytes, run_day_in_own_process

HOURS = 8
STEP_S = 1.0  # one picture a simulated second
MOOD_EVERY_S = 20 * 60.0  # the room's mood moves about this often
NOTICE_S = 5.0  # the engine asks for the next song this long before the end
FRAME = np.zeros((8, 8, 3), dtype=np.uint8)
DAY_PLAN: DayPlan | None = DayPlan.from_json(
    {
        "opening_hours": {"opens": "08:00", "closes": "15:00"},
        "blocks": [
            {"name": "Morning", "start": "08:00", "end": "10:00", "volume": 0.4, "mood": "calm"},
            {"name": "Lunch", "start": "12:00", "end": "13:30", "volume": None, "mood": "lively"},
        ],
    }
)
DAY_STARTS_AT_MINUTE = 8 * 60  # the simulated day starts at 08:00 (minutes since midnight)


def is_open(t: float) -> bool:
    """Whether the café is open at ``t`` (seconds since the day began): from ``DAY_PLAN`` once it is on."""
    if DAY_PLAN is None:
        return True
    return bool(DAY_PLAN.is_open((DAY_STARTS_AT_MINUTE + t / 60.0) % (24 * 60)))


def open_all_hour(hour: int) -> bool:
    return all(is_open(hour * 3600.0 + minute * 60.0) for minute in range(60))


def day_library() -> MusicLibrary:
    """30 generated songs over the plane, 150 to 300 s long, with their stations."""
    rng = np.random.default_rng(19)
    songs = [
        Song(f"day-{i:02d}", SongMood(float(v), float(a)), title=f"Day song {i}", duration_s=float(d))
        for i, (v, a, d) in enumerate(
            zip(rng.uniform(-0.9, 0.9, 30), rng.uniform(-0.9, 0.9, 30), rng.uniform(150, 300, 30), strict=True)
        )
    ]
    return MusicLibrary(songs=songs, origin="a café's folder", stations=fit_station_model(songs))


class RoomMood:
    """A scene reader for the day: the room's mood (reference V-A) moves every ``MOOD_EVERY_S`` ± 5 minutes
    to a new place, with a little noise on each reading."""

    name = "the day's room"
    is_fallback = False
    device = "CPU"

    def __init__(self, hours: float, seed: int = 5) -> None:
        rng = np.random.default_rng(seed)
        self._rng = rng
        changes, t = [], 0.0
        while t < hours * 3600:
            changes.append((t, (float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.8, 0.8)))))
            t += MOOD_EVERY_S + float(rng.uniform(-300, 300))
        self.changes = changes

    def mood_at(self, t: float) -> tuple[float, float]:
        return next(mood for start, mood in reversed(self.changes) if start <= t)

    def estimate(self, frame: np.ndarray, now: float) -> Estimate:
        v, a = self.mood_at(now)
        noise = self._rng.normal(0.0, 0.04, 2)
        return Estimate(v + float(noise[0]), a + float(noise[1]), 0.01, 0.01, self.name)

    def reset(self) -> None:
        pass


@dataclass
class DayEngine:
    """An ``AudioPort`` that plays songs for their length on the day's clock, without sound: a crossfade
    starts the song at once, a queued song starts when the one playing ends. ``tick(now)`` moves it on and
    returns the notices for the session, as the real engine's listener would give them; ``heard`` logs
    (start, end, song id) of everything that sounded, ``silences`` the gaps between songs (start, end)."""

    notice_s: float = NOTICE_S
    volume: float = 1.0
    now: float = 0.0
    playing: Song | None = None
    started: float = 0.0
    noticed: bool = False
    queued: Song | None = None
    heard: list[tuple[float, float, str]] = field(default_factory=list)
    silences: list[tuple[float, float]] = field(default_factory=list)
    silent_since: float | None = 0.0
    notices: list[tuple[str, Song]] = field(default_factory=list)

    @property
    def remaining_s(self) -> float | None:
        if self.playing is None or not self.playing.duration_s:
            return None
        return self.started + self.playing.duration_s - self.now

    def crossfade_to(self, song: Song) -> None:
        self._stop()
        self._start(song)

    def queue_next(self, song: Song) -> None:
        self.queued = song

    def stop(self, fade_s: float | None = None) -> None:
        """Everything out (the day plan's closing time) and the queued song forgotten."""
        self._stop()
        self.queued = None

    def tick(self, now: float) -> list[tuple[str, Song]]:
        self.now = now
        remaining = self.remaining_s
        if self.playing is not None and remaining is not None:
            if remaining <= 0.0:
                end = self.started + (self.playing.duration_s or 0.0)
                self._stop(at=end)
                if self.queued is not None:
                    song, self.queued = self.queued, None
                    self._start(song, at=end)
            elif remaining <= self.notice_s and not self.noticed:
                self.noticed = True
                self.notices.append(("ending", self.playing))
        notices, self.notices = self.notices, []
        return notices

    def _start(self, song: Song, at: float | None = None) -> None:
        start = self.now if at is None else at
        if self.silent_since is not None and self.heard and start > self.silent_since:  # a gap after a song
            self.silences.append((self.silent_since, start))
        self.silent_since = None
        self.playing, self.started, self.noticed = song, start, False
        self.notices.append(("started", song))

    def _stop(self, at: float | None = None) -> None:
        if self.playing is not None:
            end = self.now if at is None else at
            self.heard.append((self.started, end, self.playing.song_id))
            self.silent_since = end
        self.playing = None


def build_session(library: MusicLibrary, engine: DayEngine, clock: list[float]) -> PlaybackSession:
    """The real session over the day's library, the engine, a report and the injected clock (``clock[0]``).
    With ``DAY_PLAN`` and a wall clock on the day's clock (``DAY_STARTS_AT_MINUTE`` + ``clock[0]`` s)."""
    day_begins = datetime.datetime(2026, 12, 7) + datetime.timedelta(minutes=DAY_STARTS_AT_MINUTE)
    pipeline = Pipeline(
        None,
        None,
        RoomMood(HOURS),
        Stabilizer(),
        Matcher(library.songs, library.stations),
        PipelineSettings(scene_interval_s=0.0),
    )
    report = SessionReport({"library": library.origin}, max_timeline=2_000, max_switches=10_000)
    return PlaybackSession(
        pipeline,
        library,
        audio=engine,
        report=report,
        clock=lambda: clock[0],
        day_plan=DAY_PLAN,
        wall_clock=lambda: day_begins + datetime.timedelta(seconds=clock[0]),
    )


def cafe_day(report_path: Path) -> dict[str, Any]:
    """Run the day; write the session report to ``report_path``; return what the test checks."""
    library = day_library()
    engine, clock = DayEngine(), [0.0]
    session = build_session(library, engine, clock)
    threads, files = threading.active_count(), open_files()
    memory: dict[int, int] = {}
    for i in range(int(HOURS * 3600 / STEP_S) + 1):
        t = clock[0] = i * STEP_S
        for kind, song in engine.tick(t):
            if kind == "ending":
                session.song_ending(song)
            else:
                session.song_played(song)
        session.step(FRAME, t)
        if i % int(3600 / STEP_S) == 0:
            gc.collect()
            memory[int(t // 3600)] = resident_bytes()
    engine.crossfade_to(library.songs[0])  # close the log: the last song heard ends here
    session.export_report(report_path)
    session.close()
    gc.collect()
    mood = session.pipeline.scene_expert
    assert isinstance(mood, RoomMood)
    return {
        "memory_by_hour": memory,
        "threads_added": threading.active_count() - threads,
        "files_added": open_files() - files,
        "heard": engine.heard,
        "silences": engine.silences,
        "moods": mood.changes,
        "songs": {s.song_id: (s.valence, s.arousal) for s in library.songs},
    }


def near_enough_share(day: dict[str, Any]) -> float:
    """The share of songs heard that were among the 8 songs nearest the room's mood when they started."""
    songs = day["songs"]
    changes = day["moods"]
    hits = 0
    for start, _, song_id in day["heard"]:
        mood = next(m for begin, m in reversed(changes) if begin <= start)
        nearest = sorted(songs, key=lambda s: math.dist(songs[s], mood))[:8]
        hits += song_id in nearest
    return hits / len(day["heard"])


@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="reads memory and open files from Linux /proc")
def test_a_cafe_day_with_the_real_session(tmp_path):
    report_path = tmp_path / "day.json"
    day = run_day_in_own_process("tests.test_cafe_day", report_path)
    memory = {int(hour): size for hour, size in day["memory_by_hour"].items()}
    growth_per_hour = (memory[HOURS] - memory[1]) / (HOURS - 1)
    assert growth_per_hour < 5_000_000, f"memory grew {growth_per_hour / 1e6:.2f} MB per simulated hour"
    assert day["threads_added"] == 0 and day["files_added"] == 0

    heard = day["heard"]
    assert heard[0][0] < 10.0  # the music starts with the first reading
    for (_, end, _), (start, _, _) in itertools.pairwise(heard):
        assert start == pytest.approx(end) or not is_open(end), "a gap with nothing playing"
    assert day["silences"] == [] or DAY_PLAN is not None
    assert all(is_open(start) and is_open(end - STEP_S - 1e-6) for start, end, _ in heard)  # only while open

    sequence = [song_id for _, _, song_id in heard]
    assert all(a != c for a, c in zip(sequence, sequence[2:], strict=False)), "A-B-A: the song before came back"
    distinct = [len({s for start, _, s in heard if int(start // 3600) == hour}) for hour in range(HOURS)]
    assert min(d for hour, d in enumerate(distinct) if open_all_hour(hour)) >= 8, distinct

    report = json.loads(report_path.read_text())
    variety = report["metrics"]["variety"]
    assert variety["plays"] >= len(heard) and variety["ping_pongs"] == 0
    per_hour = variety["distinct_songs_per_hour"]
    open_hours = sum(open_all_hour(hour) for hour in range(HOURS))
    assert per_hour["hours"] == open_hours - 1 and per_hour["min"] >= 8  # whole hours between first and last play
    gaps = variety["repeat_gap_s"]
    assert gaps["min"] >= 20 * 60  # no song back within 20 minutes in a library of 30
    assert near_enough_share(day) >= 0.8  # and the music still follows the room
    print(
        f"café day: {len(heard)} songs heard, distinct per hour {distinct}, repeat gaps {gaps['min'] / 60:.1f}–"
        f"{gaps['max'] / 60:.1f} min (mean {gaps['mean'] / 60:.1f}), memory growth {growth_per_hour / 1e6:.2f} MB/h, "
        f"songs among the 8 nearest the mood {near_enough_share(day):.0%}"
    )


if __name__ == "__main__":
    print(json.dumps(cafe_day(Path(sys.argv[1]))))
