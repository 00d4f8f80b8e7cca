"""The engine's commands: frozen dataclasses made on the calling thread, dispatched on the worker thread."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from moodsic_desktop.audio import commands
from moodsic_desktop.audio.commands import (
    ChooseDevice,
    Close,
    EngineCommand,
    OpenOutput,
    Play,
    QueueNext,
    Skip,
    Stop,
    Sync,
)
from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.mixer import FadeOutAll
from moodsic_desktop.audio.output import NullBackend
from tests.audio.engine_rig import make_rigs, song


@pytest.fixture
def rig():
    yield from make_rigs()


@pytest.fixture
def engine():
    """An engine whose worker has not started: commands stay on its queue, and the test runs ``_handle``."""
    made = AudioEngine(backend=NullBackend("manual"), crossfade_s=1.0, start_fade_s=0.5, stop_fade_s=0.25)
    yield made
    made.close()


def queued(engine: AudioEngine) -> list[EngineCommand]:
    found = []
    while not engine._commands.empty():
        found.append(engine._commands.get_nowait())
    return found


def test_every_command_is_a_frozen_dataclass_in_the_union():
    defined = {obj for obj in vars(commands).values() if isinstance(obj, type) and obj.__module__ == commands.__name__}
    assert defined == set(typing.get_args(EngineCommand))
    for kind in defined:
        assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen, kind
    play = Play(song(None), 10, 20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        play.xfade_frames = 0  # type: ignore[misc]
    assert play == Play(song(None), 10, 20) and Skip() == Skip()


def test_the_public_methods_queue_commands_in_frames(engine):
    a = song(None, "a")
    engine.play(a)
    engine.play(a, fade_in_s=0.1)
    engine.crossfade_to(a, crossfade_s=0.25)
    engine.queue_next(a)
    engine.skip()
    engine.stop()
    engine.stop(fade_s=0.1)
    engine.device = "usb"
    engine.open_output()
    assert queued(engine) == [
        Play(a, 48000, 24000),  # crossfade_s 1.0 and start_fade_s 0.5 at 48 kHz
        Play(a, 48000, 4800),
        Play(a, 12000, 24000),
        QueueNext(a),
        Skip(),
        Stop(12000),
        Stop(4800),
        ChooseDevice("usb"),
        OpenOutput(),
    ]


def test_the_worker_dispatches_each_command_by_type(engine):
    a, b = song(None, "a"), song(None, "b")
    engine._handle(QueueNext(b))
    assert [(j.song.song_id, j.kind) for j in engine._jobs] == [("b", "next")]
    engine._handle(Play(a, 100, 200))
    jobs = list(engine._jobs)
    assert [(j.song.song_id, j.kind, j.xfade_frames, j.start_fade_frames) for j in jobs] == [("a", "now", 100, 200)]
    engine._handle(Stop(300))
    assert not engine._jobs and list(engine._mixer.inbox) == [FadeOutAll(300)]
    engine._handle(OpenOutput())
    assert engine._output.is_open and engine.backend.sink is not None
    first = engine.backend.sink
    engine._handle(ChooseDevice("hdmi"))
    assert engine._output.device == "hdmi" and engine.backend.sink is not first and first.closed
    engine._handle(Sync())
    with pytest.raises(TypeError, match="not an engine command"):
        engine._handle(("play", a))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        engine._handle(Close())  # only the worker loop handles Close: it ends the loop


def test_a_bad_command_is_logged_and_the_worker_goes_on(rig, caplog):
    r = rig()
    r.engine._submit(("stop", 0))  # type: ignore[arg-type]
    r.ready()
    assert "audio command tuple failed" in caplog.text
    r.engine.stop()
    r.ready()
