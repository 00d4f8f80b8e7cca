"""Issue 21 (2): the session's report lists every song change (the mood's, song ends, skips, bans), its
dwell metrics count every song, and its times count from the session's start, not the machine's boot."""

from __future__ import annotations

import pytest

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.session.playback import PlaybackSession
from tests.session.test_playback import FRAME, Clock, FakeAudio, SceneReader, make_songs

BOOT = 1702.0  # seconds the machine had run when the session started (the monotonic clock's value)


def steps(session: PlaybackSession, start: float, stop: float, fps: float = 10.0) -> None:
    for i in range(round((stop - start) * fps)):
        session.step(FRAME, BOOT + start + i / fps)


def test_every_song_change_is_a_switch_with_its_time_from_the_session_start():
    songs = make_songs(None)
    library = MusicLibrary(songs=songs, origin="test", stations=None)
    audio, clock = FakeAudio(), Clock()
    clock.now = BOOT
    pipeline = Pipeline(None, None, SceneReader(), Stabilizer(alpha=1.0, tau=1.0), Matcher(songs, min_dwell_s=600.0))
    report = SessionReport({}, origin_s=BOOT)
    session = PlaybackSession(pipeline, library, audio=audio, report=report, clock=clock)
    steps(session, 0.0, 10.0)  # the first pick at 0 s; the long dwell keeps it
    session.skip()  # the owner skips at 9.9 s
    steps(session, 10.0, 30.0)
    audio.remaining_s = 5.0
    session.song_ending(pipeline.matcher.current)  # the engine: the song ends in 5 s; the next one is queued
    steps(session, 30.0, 60.0)
    session.ban_current()  # "Never play this song" at 59.9 s
    steps(session, 60.0, 61.0)
    out = report.to_dict()
    switches = out["switches"]
    assert [s["time"] for s in switches] == pytest.approx([0.0, 9.9, 34.9, 59.9])
    assert [s["reason"].split(":")[0] for s in switches] == [
        "first pick",
        "skipped by the user",
        "song ended",
        "banned by the user",
    ]
    assert [s["song_id"] for s in switches] == [call[1] for call in audio.calls]  # what the audio was told
    assert switches[1]["why"] == "You skipped the last song; this one fits the mood best"
    assert switches[3]["why"] == "You said never to play the last song; this one fits the mood best"
    metrics = out["metrics"]
    assert metrics["switches"] == 3
    assert metrics["mean_dwell_s"] == pytest.approx((9.9 + 25.0 + 25.0) / 3)
    assert out["timeline"][0]["time"] == 0.0 and out["timeline"][-1]["time"] == pytest.approx(60.9)
