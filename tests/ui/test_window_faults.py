"""Faults injected into a running window, checked through the window: an audio output that fails mid-song.

The window plays through real PortAudio (its ALSA host API) into the tests' own "realtime" sinks
(``tests/audio/sound_sink.py``: PulseAudio null sinks paced like sound cards, each recorded to its ``out.raw``),
one PulseAudio server per output; killing a server mid-song is a real device failure (PortAudio's stream
dies). Two cases:

* the device the user chose (``moodsic_usb``) dies and the system default takes over;
* the only output (the system default) dies, the music goes on silently, and it comes back.

Each checks that the program keeps running (preview, pipeline steps, timeline); that the music goes on (the
same song, from where it was, audibly on the output that took over: its sink records the song's tone); that
the user is told once and clearly (an info banner saying what failed and what plays now when another output
took over; a warning while there is no sound, gone when it is back); and that nothing is lost (the settings
file as the user left it, the chosen device kept; the library index's play history, the song counted once).

PortAudio reads the ALSA configuration from ``$HOME/.asoundrc`` when it initialises, so ``pulse_outputs``
points ``HOME`` at a folder naming the outputs and re-initialises PortAudio in this process (and again, with
the real ``HOME``, afterwards). The ALSA PCMs name their PulseAudio server explicitly, so nothing else of the
environment changes. The tests skip where libportaudio2, PulseAudio or the ALSA pulse plugin is missing.
"""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.ui.app import create_window
from moodsic_desktop.ui.settings import SettingsStore, UserSettings
from tests.audio.conftest import SINK_RATE, Sink, _setup_sink

WAIT_MS = 60_000  # generous: a guard against hanging, not a timing requirement
USB = "moodsic_usb"  # the ALSA name of the output that fails


def _reinitialise_portaudio() -> None:
    from moodsic_desktop.audio.output import SoundDeviceBackend

    SoundDeviceBackend().refresh()  # re-reads the ALSA configuration (and so $HOME/.asoundrc)


@pytest.fixture
def pulse_outputs(tmp_path):
    """``make(*names)`` → ``{name: Sink}``: real outputs for PortAudio, each a PulseAudio server of its own
    with a recorded null sink; ALSA calls the one named "default" ``default`` and any other ``moodsic_NAME``.
    Stopped, and PortAudio given back the machine's own outputs, afterwards."""
    made: list[Path] = []
    sinks: list[Sink] = []
    home = os.environ.get("HOME")

    def make(*names: str) -> dict[str, Sink]:
        outputs = {}
        for name in names:
            # a short folder: PulseAudio's socket path must fit in 108 bytes
            made.append(Path(tempfile.mkdtemp(prefix="mds-out-")))
            outputs[name] = _setup_sink("realtime", made[-1])
            sinks.append(outputs[name])
        audio_home = tmp_path / "audio-home"
        audio_home.mkdir()
        lines = []
        for name, sink in outputs.items():
            pulse = f'type pulse server "unix:{sink.dir}/xdg/pulse/native"'
            lines.append(f"pcm.!default {{ {pulse} }}" if name == "default" else f"pcm.moodsic_{name} {{ {pulse} }}")
        (audio_home / ".asoundrc").write_text("\n".join(lines) + "\n")
        os.environ["HOME"] = str(audio_home)
        _reinitialise_portaudio()
        from moodsic_desktop.audio.output import list_output_devices

        seen = {device.name for device in list_output_devices()}
        wanted = {name if name == "default" else f"moodsic_{name}" for name in names}
        if not wanted <= seen:
            pytest.skip(f"PortAudio does not see the PulseAudio outputs (is libasound2-plugins installed?): {seen}")
        return outputs

    try:
        yield make
    finally:
        if home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = home
        for sink in sinks:
            sink.stop()
        if made:
            _reinitialise_portaudio()  # forget these outputs: later tests see the machine's own again
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)


def tone_of(song) -> float:
    """The frequency of a ``playable_library`` song's tone (its file ``{i}.mp3`` holds 220 + 20 i Hz)."""
    return 220.0 + 20.0 * int(Path(song.path).stem)


def last_tone(played: np.ndarray, seconds: float = 1.0) -> tuple[float, float]:
    """(frequency in Hz, RMS) of the last ``seconds`` of sound in a sink's recording."""
    loud = np.flatnonzero(np.abs(played).max(axis=1) > 1e-3)
    assert len(loud), "nothing was recorded"
    end = int(loud[-1])
    part = played[max(0, end - round(seconds * SINK_RATE)) : end, 0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    return float(np.argmax(spectrum[1:]) + 1) * SINK_RATE / len(part), float(np.sqrt(np.mean(part**2)))


class Session(SimpleNamespace):
    """A window playing from a library index with some play history: ``window``, ``engine``, ``settings``
    (what the user had saved), ``history`` (the index's plays before), ``audio_banners`` (every
    ``(text, level)`` the window showed under the "audio" key), ``outputs`` (the sinks by name)."""

    closed = False

    def close(self, qtbot) -> None:
        """Close the window (fading out, stopping every thread) and delete it, once."""
        if self.closed:
            return
        self.closed = True
        self.window.close()
        qtbot.waitUntil(lambda: self.window.closed_down, timeout=WAIT_MS)
        # deleted here, on the GUI thread (Qt objects must die on their own thread)
        self.window.deleteLater()
        qtbot.wait(1)
        gc.collect()

    def wait_for_status(self, qtbot, condition) -> str:
        """Wait until the engine's status meets ``condition`` and the window has taken it in; return it."""
        qtbot.waitUntil(lambda: condition(self.engine), timeout=WAIT_MS)
        status = self.engine.status
        qtbot.waitUntil(lambda: self.window.diagnostics.audio_label.toolTip() == status, timeout=WAIT_MS)
        return status

    def assert_keeps_running(self, qtbot) -> None:
        """Frames are shown, the mood is read and the timeline grows."""
        window = self.window
        steps, frames = window.report.metrics.steps, window.preview.frames_shown
        buffered = window.timeline_chart.buffered_steps
        qtbot.waitUntil(lambda: window.preview.frames_shown > frames + 10, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.report.metrics.steps > steps + 10, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.timeline_chart.buffered_steps > buffered + 10, timeout=WAIT_MS)
        assert window.running

    def assert_nothing_lost(self, played_id: str, source: str) -> None:
        """After closing: the settings file as the user left it, the play history kept with ``played_id``
        counted once (a reopened output does not start the song again), the index sound."""
        saved, problem = SettingsStore().load()
        assert problem is None
        assert saved == replace(self.settings, last_source=source)
        with LibraryIndex(self.index_path, create=False) as index:
            plays = [(play.song_id, play.when) for play in index.recent_plays(10)]
        assert plays[1:] == self.history
        assert plays[0][0] == played_id
        with sqlite3.connect(self.index_path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.fixture
def playing_session(qtbot, tmp_path, monkeypatch, playable_library, mood_video, pulse_outputs):
    """``start(outputs, audio_device)``: the real window on PortAudio with the ``pulse_outputs`` named and
    ``audio_device`` chosen, playing the mood video (looped) with a dwell long enough that the song does not
    change during the test; closed and deleted afterwards (before the outputs go)."""
    sessions: list[Session] = []

    def start(outputs: tuple[str, ...], audio_device: str | None) -> Session:
        sinks = pulse_outputs(*outputs)
        monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "home"))
        index_path = tmp_path / "home" / "music" / "library.sqlite"
        index_path.parent.mkdir(parents=True)
        with LibraryIndex(index_path) as index:
            RatedImporter(index).import_deam(playable_library)
            for earlier in ("23", "24"):
                index.record_play(earlier)
            history = [(play.song_id, play.when) for play in index.recent_plays(10)]
        settings = UserSettings(audio_device=audio_device, min_dwell_s=180.0, crossfade_s=0.0, loop_video=True)
        SettingsStore().save(settings)
        window = create_window(str(mood_video), None, backend=None, close_fade_s=0.1)
        session = Session(
            window=window,
            engine=window.engine,
            settings=settings,
            history=history,
            index_path=index_path,
            outputs=sinks,
        )
        sessions.append(session)
        session.audio_banners = []
        show_banner = window.banners.show_banner

        def recording_show_banner(key: str, text: str, level: str = "info") -> None:
            if key == "audio":
                session.audio_banners.append((text, level))
            show_banner(key, text, level)

        monkeypatch.setattr(window.banners, "show_banner", recording_show_banner)
        window.show()
        qtbot.waitExposed(window)
        assert window.controls.device_combo.currentData() == audio_device
        return session

    yield start
    for session in sessions:
        session.close(qtbot)


def wait_for_a_song(qtbot, session: Session, position_s: float = 1.5):
    """The song that plays once it has played ``position_s`` seconds, shown in the now-playing panel."""
    engine, window = session.engine, session.window
    qtbot.waitUntil(lambda: engine.current_song is not None and engine.position_s > position_s, timeout=WAIT_MS)
    song = engine.current_song
    qtbot.waitUntil(lambda: window.now_playing.title.text() == song.title, timeout=WAIT_MS)
    return song


def assert_goes_on(qtbot, session: Session, song, before_s: float, after_s: float) -> None:
    """``song`` still plays, resumed at ``after_s`` from ``before_s`` (not from its start), and moves on."""
    engine = session.engine
    assert engine.current_song.song_id == song.song_id
    assert after_s >= before_s
    qtbot.waitUntil(lambda: engine.position_s > after_s + 1.5, timeout=WAIT_MS)
    assert engine.current_song.song_id == song.song_id
    assert session.window.now_playing.title.text() == song.title


def test_a_failed_device_mid_song_hands_over_to_the_default_one(qtbot, playing_session, mood_video):
    session = playing_session(("usb", "default"), USB)
    engine, window = session.engine, session.window
    # a song plays through the chosen device, and the window says nothing about the sound
    session.wait_for_status(qtbot, lambda e: e.sound_ok and USB in e.status)
    song = wait_for_a_song(qtbot, session)
    assert window.banners.text("audio") is None and session.audio_banners == []

    before = engine.position_s
    session.outputs["usb"].stop()  # the device dies mid-song
    status = session.wait_for_status(qtbot, lambda e: "failed" in e.status and e.sound_ok)
    after = engine.position_s
    assert status.startswith(f"Output {USB} (ALSA) failed (")  # what failed, and how
    assert "Playing through default (ALSA)" in status  # where the sound goes now

    assert_goes_on(qtbot, session, song, before, after)
    session.assert_keeps_running(qtbot)
    # told once, as a note (the sound works): what failed and what plays now
    assert session.audio_banners == [(status, "info")]
    assert window.banners.text("audio") == status
    session.close(qtbot)

    # the song's tone was recorded on the chosen device before the failure, and on the default one after
    session.outputs["default"].stop()
    for sink in session.outputs.values():
        frequency, rms = last_tone(sink.read())
        assert frequency == pytest.approx(tone_of(song), abs=3.0)
        assert rms > 0.05
    session.assert_nothing_lost(song.song_id, str(mood_video))


def test_the_only_output_dies_and_comes_back(qtbot, playing_session, mood_video):
    session = playing_session(("default",), None)  # the system default, and nothing else to fall back on
    engine, window = session.engine, session.window
    session.wait_for_status(qtbot, lambda e: e.sound_ok and "default" in e.status)
    song = wait_for_a_song(qtbot, session)
    assert session.audio_banners == []

    session.outputs["default"].stop()  # PulseAudio goes away mid-song
    status = session.wait_for_status(qtbot, lambda e: not e.sound_ok)
    assert status.startswith("Output default (ALSA) failed (")  # what failed
    assert "No sound" in status and "keeps trying" in status  # what it means, what Moodsic does
    assert session.audio_banners == [(status, "warning")]
    # the song goes on silently meanwhile (the engine's clock), and the program with it
    before = engine.position_s
    qtbot.waitUntil(lambda: engine.position_s > before + 0.5, timeout=WAIT_MS)
    assert engine.current_song.song_id == song.song_id
    session.assert_keeps_running(qtbot)

    restarted = _setup_sink("realtime", session.outputs["default"].dir)  # PulseAudio comes back
    before = engine.position_s
    status = session.wait_for_status(qtbot, lambda e: e.sound_ok)
    after = engine.position_s
    assert status.startswith("Playing through default (ALSA)")
    assert_goes_on(qtbot, session, song, before, after)
    # the warning goes once the sound is back, and no note follows: sound as chosen needs no word
    # (a retry that failed before the server was back would only have updated the warning)
    assert window.banners.text("audio") is None
    assert all(level == "warning" for _, level in session.audio_banners)
    session.close(qtbot)

    restarted.stop()
    frequency, rms = last_tone(restarted.read())
    assert frequency == pytest.approx(tone_of(song), abs=3.0) and rms > 0.05
    session.assert_nothing_lost(song.song_id, str(mood_video))
