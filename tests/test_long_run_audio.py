"""A long session through the real audio engine, accelerated: the matcher chooses, the engine plays.

The test thread plays two parts. It is the audio device: it pulls the engine's output second by second
from a manual ``NullBackend`` (no sound card), so the audio clock is the session clock. And it is the
pipeline worker (``ui/workers.py`` ``PipelineWorker``): once per second of audio it asks a real
``Matcher`` for the song that fits a drifting, sometimes jumping target and crossfades to it when the
matcher switches; the engine's "song ending" notice reaches it through a listener that, like
``session/engine_notices.py`` ``EngineNotices``, only queues it, and it answers with ``matcher.song_ended`` and
``engine.queue_next``. The songs are real files written here: 36 tones of 20–60 s, one frequency each, as
WAV, FLAC, Ogg Vorbis and MP3, most at a rate the engine resamples.

Two hours of audio at 8 kHz, one matcher step and one engine round trip (``wait_idle``) per second of
audio: about 220 song changes, half a minute on two cores. Eight hours would take two minutes, and the
rules, leaks and counters show within the first hour; memory is compared after a 15-minute warm-up.

Checked: memory stays within a small bound after the warm-up, no deck or decoder piles up, no thread is
added and no song file stays open (every decoder is closed), every song that started is the one the
matcher chose and its audio is that song's tone, the sound never drops out after the first fade-in (RMS
per 100 ms), a song that ended hands over to the next one sample-exactly one crossfade before its end,
no underflow and no starved block, and the history obeys the matcher's dwell and recent-song rules.
No assertion depends on the wall clock.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.decoding import StreamDecoder, decode
from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.audio.mixer import Deck
from moodsic_desktop.audio.output import NullBackend
from moodsic_desktop.core.matcher import Decision, Matcher
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stations import StationModel

HOURS = 2.0  # of audio; see the module docstring
RATE = 8000  # the engine's output rate: low, so that hours of audio mix quickly
TICK_S = 1.0  # the matcher is asked once per second of audio, and the engine's worker settles then
WARM_UP_S = 900.0
SONGS = 36
DWELL_S = 40.0
RECENT_K = 5
CROSSFADE_S = 4.0
START_FADE_S = 0.5
DECODE_MARGIN_S = 5.0
AMPLITUDE = 0.5
# (suffix, file rate, libsndfile subtype) by song number: most play at the engine's rate, some resampled.
# No MP3 here: see test_an_mp3_plays_without_dropouts.
FORMATS = (
    (".wav", RATE, "PCM_16"),
    (".flac", RATE, "PCM_16"),
    (".ogg", RATE, None),
    (".wav", 16000, "FLOAT"),
    (".flac", 11025, "PCM_24"),
    (".ogg", 16000, None),
    (".mp3", 22050, None),  # DEAM's format
    (".mp3", 16000, None),
)


def tone_frequency(number: int) -> float:
    return 200.0 + 60.0 * number  # 200 .. 2300 Hz, 60 Hz apart: told apart by a 1 s FFT


def write_library(folder: Path) -> list[Song]:
    """``SONGS`` tones spread over the V-A plane, 20 to 60 s long, in the formats of ``FORMATS``."""
    rng = np.random.default_rng(11)
    songs = []
    for i in range(SONGS):
        suffix, rate, subtype = FORMATS[i % len(FORMATS)]
        seconds = float(rng.uniform(20.0, 60.0))
        t = np.arange(round(seconds * rate)) / rate
        mono = (AMPLITUDE * np.sin(2 * np.pi * tone_frequency(i) * t + np.pi / 4)).astype(np.float32)
        path = folder / f"song{i:02d}{suffix}"
        sf.write(str(path), np.repeat(mono[:, None], 2, axis=1), rate, subtype=subtype)
        v, a = rng.uniform(-0.9, 0.9, 2)
        songs.append(Song(f"s{i:02d}", SongMood(float(v), float(a)), title=f"Tone {i}", path=path, duration_s=seconds))
    return songs


def target_at(t: float) -> tuple[float, float]:
    """The mood the room shows at ``t`` seconds: a slow drift over the plane, and every 20 minutes a lively
    five minutes."""
    v = 0.8 * math.sin(2 * math.pi * t / 400.0)
    a = 0.8 * math.sin(2 * math.pi * t / 650.0 + 1.0)
    if int(t // 300) % 4 == 3:
        v, a = 0.5 * v + 0.45, 0.5 * a + 0.45
    return v, a


class Bridge(EngineListener):
    """Like ``EngineNotices``: forwards the engine's notices (on its worker thread) to the owner of the
    matcher and answers the "song ending" notice with ``None`` (the owner queues the next song)."""

    def __init__(self) -> None:
        self.endings: queue.SimpleQueue[Song | None] = queue.SimpleQueue()
        self.started: list[Song] = []
        self.failed: list[tuple[str, str]] = []
        self.stopped = 0
        self.threads: set[str] = set()

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        self.threads.add(threading.current_thread().name)
        self.endings.put(after)
        return None

    def song_started(self, song: Song) -> None:
        self.started.append(song)

    def song_failed(self, song: Song, reason: str) -> None:
        self.failed.append((song.song_id, reason))

    def playback_stopped(self) -> None:
        self.stopped += 1


@dataclass
class Start:
    """A song that started, at output frame ``frame``."""

    song: Song
    frame: int


def open_files(folder: Path) -> int:
    """How many of this process's file descriptors are open on files in ``folder`` (the songs). Only
    those: other tests' leftovers in the same process may open and close files of their own meanwhile."""
    prefix, count = f"{folder.resolve()}{os.sep}", 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(f"/proc/self/fd/{fd}").startswith(prefix)
    return count


def new_threads(before: set[threading.Thread]) -> list[str]:
    """The names of the threads running now that did not run before (others may have ended meanwhile)."""
    return sorted(t.name for t in threading.enumerate() if t not in before)


def resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def live_objects() -> dict[str, int]:
    """How many decks, decoders and open sound files exist (at most: playing, fading out, queued)."""
    counts = dict.fromkeys((Deck.__name__, StreamDecoder.__name__, "SoundFile"), 0)  # by the classes' own names
    for thing in gc.get_objects():
        name = type(thing).__name__
        if name in counts and not (name == "SoundFile" and thing.closed):
            counts[name] += 1
    return counts


def peak_frequency(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum[1:]) + 1) * RATE / len(x)


def is_end(decision: Decision) -> bool:
    return decision.reason.startswith("song ended")


class Session:
    """The engine on a pulled output, driven by a matcher as the app's pipeline worker drives it."""

    def __init__(self, songs: list[Song], folder: Path) -> None:
        self.songs = songs
        self.folder = folder
        stations = StationModel.fit([s.valence for s in songs], [s.arousal for s in songs])
        self.matcher = Matcher(songs, stations, min_dwell_s=DWELL_S, recent_k=RECENT_K)
        self.bridge = Bridge()
        self.backend = NullBackend("manual")
        gc.collect()
        self.threads_before = set(threading.enumerate())
        self.engine = AudioEngine(
            backend=self.backend,
            listener=self.bridge,
            samplerate=RATE,
            crossfade_s=CROSSFADE_S,
            start_fade_s=START_FADE_S,
            decode_margin_s=DECODE_MARGIN_S,
            poll_s=0.001,  # the worker's idle wait: short, so that a round trip takes a millisecond or two
        )
        self.tick = round(TICK_S * RATE)
        self.ticks = round(HOURS * 3600 / TICK_S)
        self.block = np.zeros((self.tick, 2), dtype=np.float32)
        self.rms = np.zeros((self.ticks, 10))  # per 100 ms
        self.peaks = np.zeros(self.ticks)  # the loudest frequency of each tick
        self.decisions: list[tuple[int, Decision]] = []  # (output frame, decision) of every switch
        self.starts: list[Start] = []
        self.most_files = self.seen = 0
        self.at_warm_up: dict[str, int] = {}
        self.at_end: dict[str, int] = {}
        self.tail = np.zeros((0, 2), dtype=np.float32)

    def settle(self) -> None:
        assert self.engine.wait_idle(60), "the audio worker did not settle"

    def choose(self, decision: Decision, frame: int, *, queue_it: bool) -> None:
        self.decisions.append((frame, decision))
        (self.engine.queue_next if queue_it else self.engine.crossfade_to)(decision.song)

    def step(self, i: int) -> None:
        """One tick: the pipeline worker's part (the "song ending" notices, then the mood reading), the
        engine's worker catching up (commands, decoding, notices about the last tick), then the device's
        part (one tick of audio)."""
        frame = i * self.tick
        now = frame / RATE
        while True:
            try:
                after = self.bridge.endings.get_nowait()
            except queue.Empty:
                break
            current = self.matcher.current  # as PipelineWorker._song_ending: only the matcher's own song
            if current is not None and after is not None and after.song_id == current.song_id:
                self.choose(self.matcher.song_ended(now), frame, queue_it=True)
        decision = self.matcher.recommend(*target_at(now), now)
        if decision.switched:
            self.choose(decision, frame, queue_it=False)
        self.settle()
        self.record_starts(frame)
        self.most_files = max(self.most_files, open_files(self.folder))
        if now == WARM_UP_S:
            self.at_warm_up = self.measure()
        self.backend.pull(self.tick, self.block)
        self.most_files = max(self.most_files, open_files(self.folder))  # the worker may be decoding now
        self.rms[i] = np.sqrt((self.block.astype(np.float64) ** 2).reshape(10, -1).mean(axis=1))
        self.peaks[i] = peak_frequency(self.block[:, 0])

    def record_starts(self, frame: int) -> None:
        """Note the song that started in the last tick (the worker has settled; ``frame`` frames are out)."""
        new, self.seen = self.bridge.started[self.seen :], len(self.bridge.started)
        assert len(new) <= 1, f"two songs started within one tick before {frame / RATE:.0f} s"
        if new:  # the deck that started is still current: its position says when it started
            assert self.engine.current_song is new[0]
            self.starts.append(Start(new[0], frame - round(self.engine.position_s * RATE)))
            self.matcher.started(new[0].song_id, self.starts[-1].frame / RATE)  # as PlaybackSession.song_played

    def measure(self) -> dict[str, int]:
        gc.collect()
        return {"rss": resident_bytes(), "threads": new_threads(self.threads_before), **live_objects()}

    def run(self) -> None:
        """The whole session, then a fade to silence; the engine is closed at the end."""
        self.engine.start()
        try:
            self.settle()
            for i in range(self.ticks):
                self.step(i)
            self.settle()
            self.record_starts(self.ticks * self.tick)
            self.at_end = self.measure()
            self.engine.stop(fade_s=1.0)
            self.settle()
            self.tail = self.backend.pull(2 * RATE)
            self.settle()
        finally:
            self.engine.close()
        gc.collect()


def check_resources(session: Session) -> None:
    """Memory within a small bound after the warm-up; no deck, decoder, file or thread left over."""
    before, after = session.at_warm_up, session.at_end
    growth = after["rss"] - before["rss"]
    assert growth < 16_000_000, f"memory grew by {growth / 1e6:.1f} MB after the warm-up"
    assert after[Deck.__name__] <= 3 and after[StreamDecoder.__name__] <= 2 and after["SoundFile"] <= 2, after
    assert before["threads"] == after["threads"] == ["moodsic-audio"]  # the engine's worker, nothing else
    assert new_threads(session.threads_before) == []
    assert open_files(session.folder) == 0, "a song file is still open"
    assert session.most_files <= 2, "more than two decoders open at once"


def check_engine(session: Session) -> None:
    """No underflow, never out of decoded audio, no failure, and the sound never drops out."""
    engine, bridge = session.engine, session.bridge
    assert (engine.underflow_count, engine.starved_blocks, session.backend.sink.render_errors) == (0, 0, 0)
    assert bridge.failed == [] and bridge.threads == {"moodsic-audio"}
    assert engine.frames_rendered == session.ticks * session.tick + 2 * RATE
    loud = session.rms.ravel()[round(START_FADE_S * 10) :]  # only the first fade-in is quiet
    steady = AMPLITUDE / math.sqrt(2)  # equal-power crossfades of two tones keep it
    assert loud.min() > 0.6 * steady, f"a drop to RMS {loud.min():.3f} at {np.argmin(loud) / 10 + START_FADE_S} s"
    assert session.rms.max() < 1.3 * steady
    assert np.abs(session.tail[RATE:]).max() == 0.0 and bridge.stopped == 1


def check_songs(session: Session, lengths: dict[str, int]) -> None:
    """Every song that started is the one the matcher chose, in order, at the frame it should, and what
    played is that song's tone."""
    decisions, starts, tick = session.decisions, session.starts, session.tick
    assert [s.song.song_id for s in starts] == [d.song.song_id for _, d in decisions]
    ends = sum(is_end(d) for _, d in decisions)
    # both ways of changing songs, many times each (the matcher's variety rule keeps a song picked for variety
    # until the mood moves, so most changes here come at songs' ends: 194 ends and 28 mood switches)
    assert ends > HOURS * 15 and len(decisions) - ends > HOURS * 10
    xfade, notice = round(CROSSFADE_S * RATE), round(session.engine.notice_s * RATE)
    for k, ((frame, decision), start) in enumerate(zip(decisions, starts, strict=True)):
        if k == 0 or not is_end(decision):  # a mood switch: at once
            assert start.frame == frame, (k, decision.reason)
            continue
        # a song that ended: the next one was chosen at the "song ending" notice (which comes on the
        # engine's thread during a pull or just after it, so within two ticks) and started exactly one
        # crossfade before the end
        end = starts[k - 1].frame + lengths[starts[k - 1].song.song_id]
        assert end - notice <= frame <= end - notice + 2 * tick, (k, (end - frame) / RATE)
        assert start.frame == end - xfade, (k, decision.reason)
    for k, start in enumerate(starts):  # the song's tone alone in the first whole tick after the crossfade
        end = starts[k + 1].frame if k + 1 < len(starts) else session.ticks * tick
        first = math.ceil((start.frame + xfade) / tick)
        if (first + 1) * tick <= end:
            expected = tone_frequency(int(start.song.song_id[1:]))
            assert abs(session.peaks[first] - expected) <= 2.0, (k, start.song.song_id, session.peaks[first])


def check_rules(session: Session) -> None:
    """The history obeys the matcher's rules: the dwell before a mood switch, no recent song again."""
    decisions, starts = session.decisions, session.starts
    for (t0, _), (t1, decision) in itertools.pairwise(decisions):
        if not is_end(decision):
            assert (t1 - t0) / RATE >= DWELL_S, decision.reason
    chosen = [d.song.song_id for _, d in decisions]
    for k, song_id in enumerate(chosen):
        assert song_id not in chosen[max(0, k - RECENT_K) : k], f"{song_id} came back within {RECENT_K} songs"
    # A song cut short by the mood was heard for at least the dwell, also one chosen at the "song ending"
    # notice (heard only from one crossfade before the end of the one before it, seconds after the choice).
    for k in range(1, len(starts)):
        if not is_end(decisions[k][1]):
            heard = (starts[k].frame - starts[k - 1].frame) / RATE
            assert heard >= DWELL_S, (k, heard)


@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="reads memory and open files from Linux /proc")
def test_hours_of_matcher_driven_playback_through_the_real_engine(tmp_path):
    songs = write_library(tmp_path)
    lengths = {s.song_id: len(decode(s.path, RATE)) for s in songs}  # frames at the engine's rate
    session = Session(songs, tmp_path)
    session.run()
    check_resources(session)
    check_engine(session)
    check_songs(session, lengths)
    check_rules(session)
