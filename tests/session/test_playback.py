"""PlaybackSession without Qt: settings, skips, failures, bans and plays in the index, the fallback to the
built-in station and the hand-back, the experts' fallback, and the snapshots it publishes."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import FAILURES_BEFORE_FALLBACK, Pipeline
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.stations import fit_station_model
from moodsic_desktop.core.types import Estimate
from moodsic_desktop.session.audio_port import AudioPort, SilentAudioPort
from moodsic_desktop.session.playback import PlaybackSession
from moodsic_desktop.session.snapshot import LibraryView, SessionSnapshot
from tests.conftest import write_deam_folder

FRAME = np.zeros((48, 64, 3), dtype=np.uint8)
SONG_IDS = [str(i) for i in range(1, 10)]


class FakeAudio:
    """An AudioPort that records what the session asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.remaining_s: float | None = None
        self.notice_s = 5.0
        self.volume = 1.0

    def stop(self, fade_s: float | None = None) -> None:
        self.calls.append(("stop", f"{fade_s}"))

    def crossfade_to(self, song: Song) -> None:
        self.calls.append(("crossfade", song.song_id))

    def queue_next(self, song: Song) -> None:
        self.calls.append(("queue", song.song_id))


class SceneReader:
    """A scene expert with a settable mood; ``fail`` makes it raise."""

    name = "test-scene"
    is_fallback = False
    device = "CPU"

    def __init__(self, valence: float = 0.5, arousal: float = 0.5) -> None:
        self.mood = (valence, arousal)
        self.fail = False

    def estimate(self, frame, now):
        if self.fail:
            raise RuntimeError("broken model")
        return Estimate(*self.mood, 0.01, 0.01, self.name)

    def reset(self) -> None:
        pass


class BuiltInScene(SceneReader):
    name = "built-in-scene"
    is_fallback = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_songs(folder: Path | None, ids=SONG_IDS) -> list[Song]:
    songs = []
    for n, song_id in enumerate(ids):
        path = None
        if folder is not None:
            path = folder / f"{song_id}.mp3"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\0")
        v = -0.8 + 1.6 * n / (len(ids) - 1)
        songs.append(Song(song_id, SongMood(v, v), title=f"Title {song_id}", path=path, duration_s=60.0))
    return songs


BUILT_IN = MusicLibrary(
    songs=[Song(f"builtin-0{i}", SongMood(0.2 * i - 0.4, 0.0), duration_s=60.0) for i in range(5)],
    origin="built-in station",
    stations=None,
)


@pytest.fixture
def indexed(tmp_path) -> tuple[MusicLibrary, Path]:
    """A library of 9 songs on a "drive", listed in a library index."""
    rows = [f"{i}, {1 + i * 0.8}, 1, {1 + i * 0.8}, 1" for i in range(1, 10)]
    deam = write_deam_folder(tmp_path / "deam", rows, audio_ids=SONG_IDS)
    index_path = tmp_path / "library.sqlite"
    with LibraryIndex(index_path) as index:
        RatedImporter(index).import_deam(deam)
    songs = make_songs(tmp_path / "drive" / "music")
    return MusicLibrary(songs=songs, origin="library index", stations=None, index_path=index_path), index_path


def make_session(library: MusicLibrary, audio=None, clock=None, scene=None, **kwargs) -> PlaybackSession:
    pipeline = Pipeline(
        None,
        None,
        scene or SceneReader(),
        Stabilizer(alpha=1.0, tau=1.0),
        Matcher(library.songs, min_dwell_s=0.0),
        **kwargs,
    )
    report = SessionReport({"library": library.origin})
    return PlaybackSession(
        pipeline,
        library,
        audio=audio,
        report=report,
        fallback=lambda: BUILT_IN,
        check_every_s=1.0,
        clock=clock or Clock(),
    )


def run(session: PlaybackSession, seconds: float, start: float = 0.0, fps: float = 10.0) -> list[SessionSnapshot]:
    return [session.step(FRAME, start + i / fps) for i in range(round(seconds * fps))]


def test_a_step_plays_the_first_song_and_publishes_a_frozen_snapshot(indexed):
    library, _ = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    snapshot = session.step(FRAME, 0.0)
    assert isinstance(audio, AudioPort)
    assert snapshot.step is not None and snapshot.step.decision is not None
    assert audio.calls == [("crossfade", snapshot.step.decision.song.song_id)]
    assert [d.song.song_id for d in snapshot.decisions] == [snapshot.step.decision.song.song_id]
    assert snapshot.library == LibraryView.of(library) and not snapshot.library_lost
    assert snapshot.library.origin == library.origin and snapshot.library.songs == tuple(library.songs)
    assert session.snapshot().library is snapshot.library  # one view per library, not one per snapshot
    assert snapshot.scene_expert.name == "test-scene" and snapshot.face_expert is None
    assert snapshot.faces_read == 0 and snapshot.metrics["steps"] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.min_dwell_s = 3.0
    with pytest.raises(TypeError):
        snapshot.metrics["steps"] = 2
    later = session.step(FRAME, 0.1)
    assert later.decisions == () and snapshot.decisions  # events are told once; the old snapshot unchanged


def test_settings_commands_reach_the_pipeline_and_the_snapshot(indexed):
    library, _ = indexed
    session = make_session(library)
    session.apply({"alpha": 0.25})
    session.apply({"tau": 0.1})
    session.apply({"min_dwell_s": 42.0})
    session.apply({"mode": "calm"})
    session.apply({"fusion": "scene"})
    pipeline = session.pipeline
    assert (pipeline.stabilizer.alpha, pipeline.stabilizer.tau) == (0.25, 0.1)
    matcher = pipeline.matcher
    assert (matcher.min_dwell_s, matcher.mode, pipeline.settings.fusion_mode) == (42.0, "calm", "scene")
    assert session.snapshot().min_dwell_s == 42.0


def test_skip_plays_another_song(indexed):
    library, _ = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    first = session.step(FRAME, 0.0).decisions[0].song.song_id
    session.skip()
    snapshot = session.snapshot()
    assert len(snapshot.decisions) == 1 and snapshot.decisions[0].song.song_id != first
    assert audio.calls[-1] == ("crossfade", snapshot.decisions[0].song.song_id)


def test_a_ban_is_written_to_the_index_and_the_song_never_chosen_again(indexed):
    library, index_path = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    banned = session.step(FRAME, 0.0).decisions[0].song.song_id
    session.ban_current()
    assert session.snapshot().decisions[0].song.song_id != banned
    for _ in range(5):
        session.skip()
    chosen = {song_id for kind, song_id in audio.calls[1:]}
    snapshots = run(session, 3.0, start=1.0)
    chosen |= {d.song.song_id for s in snapshots for d in s.decisions}
    assert banned not in chosen
    session.close()
    with LibraryIndex(index_path, create=False) as index:
        assert index.banned_ids() == {banned}


def test_the_song_heard_is_banned_not_the_next_one_and_undo_lets_it_play_again(indexed):
    library, index_path = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    current = session.step(FRAME, 0.0).decisions[0].song.song_id
    heard = next(song.song_id for song in library.songs if song.song_id != current)  # e.g. ending, the next chosen
    calls = len(audio.calls)
    session.ban(heard)
    matcher = session.pipeline.matcher
    assert matcher.is_banned(heard) and matcher.current.song_id == current and len(audio.calls) == calls
    session.unban(heard)
    assert not matcher.is_banned(heard)
    session.ban(current)  # the session's own song: it moves on at once
    assert matcher.is_banned(current) and audio.calls[-1][1] != current
    session.unban(current)
    session.close()
    with LibraryIndex(index_path, create=False) as index:
        assert index.banned_ids() == set()


def test_plays_of_library_songs_are_written_to_the_history(indexed):
    library, index_path = indexed
    clock = Clock()
    session = make_session(library, clock=clock)
    song = session.step(FRAME, 0.0).decisions[0].song
    clock.now = 2000.0
    session.song_played(song)
    assert session.pipeline.matcher.current_started_at == 2000.0  # the dwell counts from the real start
    session.song_played(BUILT_IN.songs[0])  # not the library's: not in its history
    session.close()
    with LibraryIndex(index_path, create=False) as index:
        assert [play.song_id for play in index.recent_plays(10)] == [song.song_id]


def test_a_failed_index_write_is_a_problem_and_the_music_goes_on(indexed, tmp_path):
    library, _ = indexed
    session = make_session(dataclasses.replace(library, index_path=tmp_path / "missing.sqlite"))
    song = session.step(FRAME, 0.0).decisions[0].song
    session.song_played(song)
    problems = session.snapshot().problems
    assert len(problems) == 1 and "Could not record the play" in problems[0]


def test_a_song_that_fails_is_skipped_and_replaced(indexed):
    library, _ = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    failed = session.step(FRAME, 0.0).decisions[0].song
    session.song_failed(failed, "not audio")
    snapshot = session.snapshot()
    assert snapshot.skipped == (f"Skipped “{failed.title}”: not audio",)
    assert snapshot.decisions[0].song.song_id != failed.song_id
    assert audio.calls[-1] == ("crossfade", snapshot.decisions[0].song.song_id)
    assert session.pipeline.matcher.is_banned(failed.song_id) and not snapshot.library_lost


def test_a_failed_song_near_the_end_of_the_one_playing_is_queued(indexed):
    library, _ = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    failed = session.step(FRAME, 0.0).decisions[0].song
    audio.remaining_s = 3.0  # the song playing ends within the engine's notice
    session.song_failed(failed, "not audio")
    assert audio.calls[-1] == ("queue", session.snapshot().decisions[0].song.song_id)


def test_song_ending_queues_the_next_song_only_for_the_matchers_song(indexed):
    library, _ = indexed
    audio = FakeAudio()
    session = make_session(library, audio)
    playing = session.step(FRAME, 0.0).decisions[0].song
    session.song_ending(BUILT_IN.songs[0])  # not the matcher's song: nothing to do
    assert audio.calls == [("crossfade", playing.song_id)]
    session.song_ending(playing)
    queued = session.snapshot().decisions
    assert len(queued) == 1 and audio.calls[-1] == ("queue", queued[0].song.song_id)


def test_a_vanished_library_hands_over_to_the_built_in_station_and_back(indexed, tmp_path):
    library, index_path = indexed
    audio = FakeAudio()
    clock = Clock()
    session = make_session(library, audio, clock)
    session.apply({"min_dwell_s": 60.0})
    first = session.step(FRAME, 0.0).decisions[0].song
    drive = tmp_path / "drive"
    shutil.move(drive, tmp_path / "unplugged")
    session.song_failed(first, "file not found")
    snapshot = session.snapshot()
    change = snapshot.library_change
    assert change is not None and change.lost and change.library.origin == BUILT_IN.origin
    assert "is gone" in change.message and "built-in station" in change.message
    assert snapshot.library_lost and snapshot.library == LibraryView.of(BUILT_IN) and snapshot.skipped == ()
    assert snapshot.decisions[0].song.song_id.startswith("builtin-")
    assert snapshot.decisions[0].reason.startswith("the library is lost: the built-in station")
    session.song_played(snapshot.decisions[0].song)  # a built-in song: not in the history
    session.apply({"min_dwell_s": 30.0})  # a slider moves meanwhile

    clock.now += 5.0
    session.idle()
    assert session.snapshot().library_change is None  # still gone
    shutil.move(tmp_path / "unplugged", drive)
    clock.now += 5.0
    snapshot = session.step(FRAME, 1.0)
    change = snapshot.library_change
    assert change is not None and not change.lost and change.library == LibraryView.of(library)
    assert "back" in change.message and not snapshot.library_lost
    back = snapshot.decisions[0]
    assert back.reason.startswith("the library is back: nearest song") and back.song.song_id in SONG_IDS
    assert session.pipeline.matcher.min_dwell_s == 30.0  # the parked matcher took the slider's setting
    assert not session.pipeline.matcher.is_banned(first.song_id)  # only its file was missing: handed back
    session.close()
    with LibraryIndex(index_path, create=False) as index:
        assert index.recent_plays(10) == []


def test_songs_failing_in_a_row_hand_over_to_the_built_in_station(indexed):
    library, _ = indexed
    session = make_session(library, FakeAudio())
    session.step(FRAME, 0.0)
    changes = []
    for _ in range(5):
        song = session.pipeline.matcher.current
        session.song_failed(song, "not audio")
        changes.append(session.snapshot().library_change)
    assert changes[:4] == [None] * 4 and changes[4] is not None
    assert "5 songs in a row could not be played" in changes[4].message


def test_an_expert_that_keeps_failing_is_replaced_and_the_snapshot_says_so(indexed):
    library, _ = indexed
    scene = SceneReader()
    session = make_session(library, scene=scene, fallbacks={"scene": BuiltInScene})
    assert session.snapshot().scene_expert.is_fallback is False
    scene.fail = True
    snapshots = [session.step(FRAME, i) for i in range(FAILURES_BEFORE_FALLBACK)]
    last = snapshots[-1]
    assert last.scene_expert.name == "built-in-scene" and last.scene_expert.is_fallback
    assert any("reads instead" in notice for notice in last.step.notices)


def test_a_failing_step_is_contained_or_raised(indexed):
    library, _ = indexed
    session = make_session(library)

    def crash(frame, now):
        raise RuntimeError("simulated model crash")

    real = session.pipeline.process
    session.pipeline.process = crash
    snapshot = session.step(FRAME, 0.0)
    assert snapshot.step is None and snapshot.failures == 1 and "simulated model crash" in snapshot.problems[0]
    session.contain_failures = False
    with pytest.raises(RuntimeError):
        session.step(FRAME, 0.1)
    session.pipeline.process = real
    assert session.step(FRAME, 0.2).step is not None


def test_export_writes_the_report_with_the_settings_in_force(indexed, tmp_path):
    library, _ = indexed
    session = make_session(library)
    session.new_source("camera 0")
    run(session, 1.0)
    session.apply({"min_dwell_s": 12.0})
    assert session.export_report(tmp_path / "report.json")
    assert session.snapshot().exported == (str(tmp_path / "report.json"),)
    text = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert '"camera 0"' in text and "12.0" in text
    assert not session.export_report(tmp_path / "no-such-folder" / "report.json")
    assert "Could not export" in session.snapshot().problems[0]


def test_without_a_port_the_session_is_silent():
    library = MusicLibrary(songs=make_songs(None), origin="test", stations=None)
    session = make_session(library)
    assert isinstance(session.audio, SilentAudioPort) and session.audio.remaining_s is None
    assert run(session, 1.0)[0].decisions


def test_the_snapshots_metrics_are_refreshed_about_once_a_second_or_once(indexed):
    library, _ = indexed
    session = make_session(library)
    snapshots = run(session, 2.5)
    assert [s.metrics["steps"] for s in snapshots[::5]] == [1, 1, 11, 11, 21]
    session.summary_period_s = math.inf  # a run nobody watches: the summary's cost grows with the session
    assert run(session, 2.0, start=3.0)[-1].metrics["steps"] == 21


def test_a_library_crosses_to_the_window_as_a_frozen_view_with_its_stations():
    songs = builtin_songs()
    stations = fit_station_model(songs)
    library = MusicLibrary(songs=songs, origin="built-in station", stations=stations)
    view = LibraryView.of(library)
    expected = stations.predict([s.valence for s in songs], [s.arousal for s in songs])
    assert view.station_of == tuple(int(i) for i in expected) and view.station_names == tuple(stations.names)
    assert len(set(view.station_of)) > 1  # the pieces sit in several stations
    songs.pop()  # the session's library changes: the view made before does not
    assert len(view.songs) == len(songs) + 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.origin = "elsewhere"
    assert LibraryView.of(MusicLibrary(songs=[], origin="empty", stations=None)).station_of is None
