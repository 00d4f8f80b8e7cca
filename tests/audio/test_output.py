"""Audio outputs: the null back end, and the engine keeping an output open (``OutputKeeper``) through
device failures, stalls, a missing PortAudio and no working device at all."""

from __future__ import annotations

import numpy as np
import pytest

from moodsic_desktop.audio.output import AudioBackend, NullBackend, NullSink, OutputError, OutputKeeper
from tests.audio.engine_rig import RATE, make_rigs, run_python, song, tap_scenario, wait_for


@pytest.fixture
def rig():
    yield from make_rigs()


# ---- outputs: failure, recovery, no device ----------------------------------------------------------------


class _FakeDeviceSink(NullSink):
    silent = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.silent = False
        self.broken: str | None = None

    def failure(self) -> str | None:
        return self.broken


class _FakeDevices(AudioBackend):
    """Manual outputs that pretend to be devices; ``refuse`` names devices that no longer open."""

    def __init__(self, mode: str = "manual") -> None:
        self.mode = mode
        self.refuse: set = set()
        self.opened: list[tuple] = []
        self.sink: _FakeDeviceSink | None = None

    def open(self, device, samplerate, blocksize, render):
        if device in self.refuse or "all" in self.refuse:
            raise OutputError(f"no device {device!r}")
        self.sink = _FakeDeviceSink(self.mode, samplerate, blocksize, render, name=f"{device or 'default'} (fake)")
        self.opened.append((device, self.sink))
        return self.sink

    def pull(self, frames, out=None):
        return self.sink.pull(frames, out)


def test_a_failed_device_is_replaced_by_the_default_one(rig, make_tone):
    devices = _FakeDevices()
    r = rig(backend=devices, device="usb")
    assert r.engine.status.startswith("Playing through usb (fake)") and r.engine.sound_ok
    assert r.engine.sound_as_chosen
    r.engine.play(song(make_tone("a.wav", 1000.0, 3.0)))
    r.ready()
    r.pull(1.0)
    devices.refuse.add("usb")
    devices.sink.broken = "device unplugged"
    r.ready()
    assert [d for d, _ in devices.opened] == ["usb", None]
    assert "usb (fake) failed (device unplugged)" in r.engine.status
    assert "Playing through default (fake)" in r.engine.status and r.engine.sound_ok
    assert not r.engine.sound_as_chosen  # sound, but not on the device chosen: the window shows a note
    assert np.abs(r.pull(0.5)).max() > 0.4  # the same song goes on from where it was
    assert r.engine.position_s == pytest.approx(1.5)
    assert any(e[0] == "status_changed" and "failed" in e[1] for e in r.listener.events)


def test_choosing_a_device_reopens_the_output(rig):
    devices = _FakeDevices()
    r = rig(backend=devices)
    r.engine.device = "hdmi"
    r.ready()
    assert [d for d, _ in devices.opened] == [None, "hdmi"]
    assert devices.opened[0][1].closed and r.engine.device == "hdmi"
    assert "hdmi (fake)" in r.engine.status


def test_a_stalled_output_is_reopened(rig):
    devices = _FakeDevices(mode="manual")
    r = rig(backend=devices, stall_s=0.05)
    devices.sink.watchdog = True  # a "device" that never asks for audio
    # the status is set once the new output is in use: wait for it, not only for the second open
    assert wait_for(lambda: len(devices.opened) >= 2 and "stopped asking for sound" in r.engine.status)


def test_no_working_output_plays_silently_and_retries(rig, make_tone):
    devices = _FakeDevices()
    devices.refuse.add("all")
    r = rig(backend=devices, retry_s=0.05)
    assert r.engine.status.startswith("No sound: no audio output works") and not r.engine.sound_ok
    r.engine.play(song(make_tone("a.wav", 1000.0, 30.0)))
    assert wait_for(lambda: r.engine.position_s > 0.05)  # the silent clock keeps the song moving
    devices.refuse.clear()
    assert wait_for(lambda: r.engine.sound_ok)
    assert r.engine.status.startswith("Playing through default (fake)")
    position = r.engine.position_s
    r.ready()
    assert np.abs(r.pull(0.2)).max() > 0.4
    assert r.engine.position_s >= position + 0.2 - 1e-9


def test_the_audio_package_imports_without_qt_or_portaudio():
    report = run_python("""
        import json, sys
        import moodsic_desktop.audio, moodsic_desktop.audio.decoding, moodsic_desktop.audio.engine
        print(json.dumps({"qt": any(m.startswith("PySide6") for m in sys.modules),
                          "sounddevice": "sounddevice" in sys.modules}))
    """)
    assert report == {"qt": False, "sounddevice": False}


def test_without_portaudio_the_engine_says_what_to_install_and_runs_on(tmp_path, make_tone):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    tone = make_tone("a.wav", 1000.0, 0.3)
    report = run_python(
        f"""
        import json, threading
        from pathlib import Path
        from moodsic_desktop.audio.engine import AudioEngine
        from moodsic_desktop.audio.listener import EngineListener
        from moodsic_desktop.audio.output import list_output_devices, portaudio_problem
        from moodsic_desktop.core.song import Song, SongMood
        done = threading.Event()
        class L(EngineListener):
            def playback_stopped(self):
                done.set()
        engine = AudioEngine(listener=L())
        engine.start()
        engine.play(Song("a", SongMood(0.0, 0.0), path=Path({str(tone)!r})))
        finished = done.wait(60)
        print(json.dumps({{"status": engine.status, "sound_ok": engine.sound_ok, "finished": finished,
                           "devices": list_output_devices(), "problem": portaudio_problem(),
                           "frames": engine.frames_rendered}}))
        engine.close()
    """,
        extra_path=[fake],
    )
    assert "libportaudio2" in report["status"] and "apt install" in report["status"]
    assert report["problem"] == report["status"]
    assert not report["sound_ok"] and report["devices"] == []
    assert report["finished"] and report["frames"] >= 0.3 * RATE  # the song played (silently) to its end


def test_tap_lists_devices_and_falls_back_from_an_unknown_device(scenario_runner, tap_sink, make_tone):
    tone = make_tone("a.wav", 1000.0, 0.5)
    report, out = tap_scenario(scenario_runner, tap_sink, play=str(tone), engine={"device": "no such device"})
    assert {"moodsic_tap", "default"} <= set(report["devices"])
    assert report["sound_ok"]
    assert "using the default device" in report["status"] and "no such device" in report["status"]
    assert np.abs(out[: RATE // 2]).max() > 0.4


def test_no_working_device_gives_a_clear_status(scenario_runner, portaudio, tmp_path, make_tone):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type hw card 99 }\nctl.!default { type hw card 99 }\n")
    tone = make_tone("a.wav", 1000.0, 0.3)
    env = {"HOME": str(home), "PULSE_SERVER": "unix:/nonexistent", "XDG_RUNTIME_DIR": str(home)}
    report = scenario_runner(env, {"play": str(tone), "engine": {"retry_s": 60.0}})
    assert report["finished"]  # the song went on silently
    assert not report["sound_ok"]
    assert report["status"].startswith("No sound: no audio output works")
    assert "keeps trying to open it (first after 60 s)" in report["status"]


# ---- the null back end and the output keeper, driven directly ------------------------------------------------


def test_null_output_modes_and_manual_pull():
    with pytest.raises(ValueError):
        NullBackend("loud")
    backend = NullBackend("manual")
    with pytest.raises(RuntimeError, match="no output is open"):
        backend.pull(10)
    calls = []

    def render(out, underflow):
        calls.append((len(out), underflow))
        out.fill(0.25)

    sink = backend.open(None, RATE, 256, render)
    sink.start()
    assert sink.silent and not sink.watchdog and sink.failure() is None
    block = backend.pull(100)
    assert block.shape == (100, 2) and np.all(block == 0.25) and calls == [(100, False)]
    sink.close()
    with pytest.raises(RuntimeError, match="closed"):
        backend.pull(10)
    with pytest.raises(RuntimeError, match="mode='manual'"):
        NullSink("clock", RATE, 256, render, name="clock").pull(10)


def keeper(backend: AudioBackend, device=None) -> tuple[OutputKeeper, list[tuple]]:
    statuses: list[tuple] = []
    kept = OutputKeeper(
        backend,
        samplerate=RATE,
        blocksize=256,
        render=lambda out, underflow: out.fill(0.0),
        callbacks=lambda: 0,
        on_status=lambda *status: statuses.append(status),
        device=device,
        retry_s=60.0,
    )
    return kept, statuses


def test_the_keeper_falls_back_to_the_default_device_and_says_so():
    devices = _FakeDevices()
    devices.refuse.add("usb")
    kept, statuses = keeper(devices, device="usb")
    kept.open()
    assert kept.is_open and [d for d, _ in devices.opened] == [None]
    status, sound_ok, as_chosen = statuses[-1]
    assert "device 'usb': no device 'usb'; using the default device" in status and sound_ok and not as_chosen
    kept.close()
    assert not kept.is_open and devices.sink.closed


def test_the_keeper_plays_silently_when_the_back_end_cannot_play():
    class Missing(_FakeDevices):
        def unavailable_reason(self):
            return "No sound: install it"

    kept, statuses = keeper(Missing())
    kept.open()
    try:
        assert kept.is_open and statuses == [("No sound: install it", False, False)]
        kept.check()  # no retry is due: nothing changes
        assert len(statuses) == 1
    finally:
        kept.close()


def test_the_engine_asks_portaudio_for_a_buffer_that_outlasts_gil_stalls(monkeypatch):
    """The device holds OUTPUT_LATENCY_S of sound (0.5 s), so a callback late by the GIL waits that
    ``benchmarks/bench_steady_sound.py`` measures (about 0.1 s, more under load) does not play silence."""
    from types import SimpleNamespace

    from moodsic_desktop.audio import output
    from moodsic_desktop.audio.engine import AudioEngine

    opened: list[dict] = []

    class FakeStream:
        device = 0
        active = True

        def __init__(self, **kwargs) -> None:
            opened.append(kwargs)

        def start(self) -> None:
            pass

        def close(self, ignore_errors: bool = True) -> None:
            pass

    fake = SimpleNamespace(
        OutputStream=FakeStream,
        PortAudioError=RuntimeError,
        query_devices=lambda *args, **kwargs: {"name": "fake", "hostapi": 0},
        query_hostapis=lambda *args: {"name": "ALSA"},
    )
    monkeypatch.setattr(output, "_sounddevice", lambda: (fake, None))
    engine = AudioEngine()
    sink = engine.backend.open(None, engine.samplerate, engine.blocksize, lambda out, underflow: None)
    sink.start()
    sink.close()
    assert output.OUTPUT_LATENCY_S >= 0.5
    assert opened[0]["latency"] == output.OUTPUT_LATENCY_S
    assert opened[0]["blocksize"] / opened[0]["samplerate"] < output.OUTPUT_LATENCY_S / 4  # blocks stay small
