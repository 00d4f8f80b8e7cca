"""A source that fails and comes back: the capture worker tries again after 1 s, 2 s, 4 s … (at most 30 s),
the reading resumes by itself, and the music never stops meanwhile. One thread, an injected clock: the
worker's waits are the time that passes without a picture."""

from __future__ import annotations

import itertools

import numpy as np

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.song import Song
from moodsic_desktop.perception.sources import Frame, SourceError
from moodsic_desktop.session.playback import START_GRACE_S, PlaybackSession
from moodsic_desktop.ui.workers import CaptureWorker, LatestSlot, TimedFrame
from tests.session.test_playback import Clock, FakeAudio, SceneReader, make_session, make_songs

FRAME_S = 0.1  # a frame every 0.1 s of the room's clock
TICK_S = 0.05  # the pipeline worker's wait for a frame


class Room:
    """The room's clock, the session, and an engine that plays each song for its ``duration_s``: it asks
    for the next song ``notice_s`` before the end and starts it at the end, as ``AudioEngine`` does."""

    def __init__(self, session: PlaybackSession, audio: FakeAudio, songs: list[Song], clock: Clock) -> None:
        self.session, self.audio, self.clock = session, audio, clock
        self.songs = {song.song_id: song for song in songs}
        self.playing: Song | None = None
        self.started_at = 0.0
        self.asked = False
        self.silent_after_start_s = 0.0  # seconds of silence once the music had started
        self.played: list[str] = []
        self.frames_read = 0
        audio.crossfade_to = self._start  # type: ignore[method-assign]

    def _start(self, song: Song) -> None:
        self.audio.calls.append(("crossfade", song.song_id))
        self.playing, self.started_at, self.asked = song, self.clock.now, False
        self.played.append(song.song_id)
        self.session.song_played(song)

    def advance(self, seconds: float) -> None:
        """Time passes; the engine plays on."""
        self.clock.now += seconds
        if self.playing is None:
            if self.played:
                self.silent_after_start_s += seconds
            return
        remaining = self.playing.duration_s - (self.clock.now - self.started_at)
        if remaining <= self.audio.notice_s and not self.asked:
            self.asked = True
            self.session.song_ending(self.playing)
        if remaining <= 0.0:
            kind, song_id = self.audio.calls[-1]
            if kind == "queue":
                self._start(self.songs[song_id])
            else:
                self.playing = None

    def wait(self, seconds: float) -> bool:
        """The capture worker's wait between tries: no picture meanwhile, the pipeline worker ticks."""
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.advance(TICK_S)
            self.session.step_without_picture(self.clock.now)
        return False


class FrameSlot(LatestSlot[TimedFrame]):
    """The pipeline's slot: each frame put is stepped at once, on the room's clock."""

    def __init__(self, room: Room) -> None:
        super().__init__()
        self.room = room

    def put(self, item: TimedFrame) -> bool:
        self.room.advance(FRAME_S)
        self.room.session.step(item.image, self.room.clock.now)
        self.room.frames_read += 1
        return True


class FlakyCamera:
    """Delivers ``frames`` frames, then nothing (unplugged)."""

    description = "camera 0"
    fps = 10.0

    def __init__(self, frames: int) -> None:
        self.left = frames

    def read(self) -> Frame | None:
        if self.left <= 0:
            return None
        self.left -= 1
        return Frame(np.zeros((8, 8, 3), np.uint8), 0.0, 0)

    def close(self) -> None:
        pass


def test_a_camera_that_fails_and_comes_back_is_read_again_and_the_music_never_stops(qapp):
    songs = make_songs(None)
    audio, clock = FakeAudio(), Clock()
    session = make_session(MusicLibrary(songs=songs, origin="test", stations=None), audio, clock, scene=SceneReader())
    room = Room(session, audio, songs, clock)
    gone = SourceError("cannot open camera 0 (not connected, busy, or no permission)")
    script: list[object] = [gone] * 6 + [FlakyCamera(300)] + [gone] * 7 + [FlakyCamera(300)]
    delays: list[float] = []
    events: list[str] = []
    reading_after: list[int] = []

    def opener():
        if not script:
            raise gone
        item = script.pop(0)
        if isinstance(item, Exception):
            raise item
        reading_after.append(room.frames_read)
        return item

    def wait(seconds: float) -> bool:
        delays.append(seconds)
        room.wait(seconds)
        return not script  # the test ends when the script is spent: the worker is "stopped"

    worker = CaptureWorker(0, False, FrameSlot(room), LatestSlot(), opener=opener, wait=wait)
    worker.lost.connect(lambda text: events.append("lost: " + text))
    worker.recovered.connect(lambda: events.append("recovered"))
    worker.failed.connect(lambda text: events.append("failed: " + text))
    worker.run()  # on this thread: the script and the clock are the test's

    at_start, after_the_first_loss, after_the_second = (
        [1.0, 2.0, 4.0, 8.0, 16.0, 30.0],
        [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0],
        [1.0],
    )
    assert delays == [*at_start, *after_the_first_loss, *after_the_second]
    assert events == [
        "lost: No picture: cannot open camera 0 (not connected, busy, or no permission).",
        "recovered",
        "lost: The camera stopped sending pictures.",
        "recovered",
        "lost: The camera stopped sending pictures.",
    ]
    assert room.frames_read == 600 and reading_after == [0, 300]  # the reading resumed, each time by itself
    # the music started while the camera was missing, and never stopped for the losses
    assert room.played[0] and session.mood_without_picture() == (0.5, 0.5)  # the last mood read
    assert room.silent_after_start_s == 0.0
    assert len(room.played) >= 4 and all(a != b for a, b in itertools.pairwise(room.played))
    assert clock.now - 1000.0 > 200.0 > START_GRACE_S  # minutes of the room's time went by


def test_a_missing_video_file_is_waited_for_and_a_damaged_one_fails(qapp, tmp_path):
    events: list[str] = []
    missing = CaptureWorker(str(tmp_path / "gone.mp4"), False, LatestSlot(), LatestSlot(), wait=lambda s: True)
    missing.lost.connect(events.append)
    missing.failed.connect(lambda text: events.append("failed: " + text))
    missing.run()
    assert len(events) == 1 and events[0].startswith("No picture: video file not found") and "gone.mp4" in events[0]

    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(b"not a video at all" * 100)
    events.clear()
    worker = CaptureWorker(str(damaged), False, LatestSlot(), LatestSlot(), wait=lambda s: True)
    worker.lost.connect(events.append)
    worker.failed.connect(lambda text: events.append("failed: " + text))
    worker.run()
    assert len(events) == 1 and events[0].startswith("failed: cannot open video file") and "damaged.mp4" in events[0]
