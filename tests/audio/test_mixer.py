"""The mixer alone (the part the audio callback runs): decks, equal-power fades, the queued deck, the
master volume, its messages and events, and that rendering allocates nothing."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest

from moodsic_desktop.audio.mixer import (
    Advance,
    ClearQueued,
    Deck,
    FadeOutAll,
    Mixer,
    MixerEvent,
    QueueDeck,
    StartDeck,
)
from tests.audio.engine_rig import make_rigs, song


@pytest.fixture
def rig():
    yield from make_rigs()


def test_steady_state_rendering_allocates_no_buffers(rig, make_tone):
    """The callback mixes with in-place numpy operations on preallocated scratch arrays: rendering a block
    of 1024 frames (8 KiB) during a crossfade and a volume glide must not allocate a block-sized array."""
    r = rig(crossfade_s=1.0, start_fade_s=0.5)
    r.engine.play(song(make_tone("a.wav", 1000.0, 3.0)))
    r.engine.queue_next(song(make_tone("b.wav", 1500.0, 3.0)))
    r.ready()
    block = np.zeros((1024, 2), dtype=np.float32)
    r.backend.pull(1024, block)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for i in range(200):  # 4.3 s: fade-in, steady, crossfade, steady
            if i == 50:
                r.engine.volume = 0.5
            r.backend.pull(1024, block)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert peak < 4096, f"rendering allocated {peak} bytes at peak"
    assert np.abs(block).max() > 0.1


# ---- the mixer driven directly: the test thread is the audio thread --------------------------------------

A_ONLY = np.array([0.5, 0.0], dtype=np.float32)  # deck A plays on the left channel only, B on the right
B_ONLY = np.array([0.0, 0.5], dtype=np.float32)


def deck(serial: int, frames: int, value: np.ndarray = A_ONLY, complete: bool = True) -> Deck:
    made = Deck(serial, song(None, f"deck{serial}"), frames)
    made.append(np.tile(value, (frames, 1)))
    if complete:
        made.finish()
    return made


def render(mixer: Mixer, frames: int, block: int = 1024) -> np.ndarray:
    out = np.zeros((frames, 2), dtype=np.float32)
    for start in range(0, frames, block):
        mixer.render(out[start : start + block], False)
    return out


def events(mixer: Mixer) -> list[tuple[MixerEvent, int | None]]:
    drained = [(event, d.serial if d is not None else None) for event, d in mixer.outbox]
    mixer.outbox.clear()
    return drained


def test_a_deck_grows_without_freeing_its_old_buffer():
    d = Deck(1, song(None), 4)
    first = d.buf
    d.append(np.ones((3, 2), np.float32))
    assert d.buf is first and d.filled == 3 and not d.complete
    d.append(np.full((5, 2), 2.0, np.float32))
    assert d.buf is not first and d.old_bufs == [first]  # the audio thread may still read the old buffer
    assert d.filled == 8 and d.buf[:3].max() == 1.0 and d.buf[3:8].min() == 2.0
    d.finish()
    assert d.complete and d.length == 8


def test_a_started_deck_plays_unchanged_then_ends_and_goes_idle():
    mixer = Mixer(48000)
    a = deck(1, 3000)
    mixer.inbox.append(StartDeck(a, xfade_frames=0, start_fade_frames=0))
    out = render(mixer, 4096)
    np.testing.assert_array_equal(out[:3000], a.buf[:3000])
    assert not out[3000:].any()
    assert events(mixer) == [(MixerEvent.STARTED, 1), (MixerEvent.ENDED, 1), (MixerEvent.IDLE, None)]
    assert mixer.current is None and mixer.frames_out == 4096 and mixer.callbacks == 4


def test_a_queued_deck_crossfades_sample_exactly_with_equal_power():
    mixer = Mixer(48000)
    mixer.xfade_frames = 480
    mixer.inbox.append(StartDeck(deck(1, 1000, A_ONLY), 0, 0))
    mixer.inbox.append(QueueDeck(deck(2, 2000, B_ONLY)))
    out = render(mixer, 3000, block=100)
    g_out, g_in = out[:, 0] / 0.5, out[:, 1] / 0.5
    assert np.all(g_out[:520] == 1.0) and not g_in[:520].any()  # the crossfade starts 480 frames before A ends
    t = np.arange(480)
    np.testing.assert_allclose(g_in[520:1000], np.sin(np.pi / 2 * t / 480), atol=1e-5)
    np.testing.assert_allclose(g_out[520:1000], np.cos(np.pi / 2 * t / 480), atol=1e-5)
    np.testing.assert_allclose(g_in[520:1000] ** 2 + g_out[520:1000] ** 2, 1.0, atol=1e-5)
    assert not g_out[1000:].any() and np.all(g_in[1000:2520] == 1.0)  # A is silent exactly at its end
    assert [e for e in events(mixer) if e[0] != MixerEvent.RETIRED] == [
        (MixerEvent.STARTED, 1),
        (MixerEvent.STARTED, 2),
        (MixerEvent.ENDED, 2),
        (MixerEvent.IDLE, None),
    ]


def test_a_deck_still_decoding_is_counted_as_starved_not_ended():
    mixer = Mixer(48000)
    mixer.inbox.append(StartDeck(deck(1, 500, complete=False), 0, 0))
    render(mixer, 1024)
    assert mixer.starved >= 1 and mixer.current is not None
    assert events(mixer) == [(MixerEvent.STARTED, 1)]


def test_more_overlapping_fades_than_slots_cut_the_quietest():
    mixer = Mixer(48000)
    for serial in range(1, 8):  # each start crossfades over 10 s: every old deck keeps fading
        mixer.inbox.append(StartDeck(deck(serial, 48000), xfade_frames=480_000, start_fade_frames=0))
        render(mixer, 240, block=240)
    assert sum(d is not None for d in mixer.fading) == 4
    retired = [serial for event, serial in events(mixer) if event == MixerEvent.RETIRED]
    # deck 1 was at full gain when it began to fade; 2, 3, … had barely faded in: 2 and 3 were the quietest
    assert retired == [2, 3]
    assert mixer.fading[0] is not None and mixer.fading[0].serial == 1


def test_fade_out_all_with_zero_frames_cuts_everything_and_drops_the_queued_deck():
    mixer = Mixer(48000)
    mixer.xfade_frames = 48000
    mixer.inbox.append(StartDeck(deck(1, 96000), 0, 0))
    render(mixer, 240)
    mixer.inbox.append(StartDeck(deck(2, 96000), 48000, 0))  # 1 is now fading out
    mixer.inbox.append(QueueDeck(deck(3, 96000)))
    render(mixer, 240)
    events(mixer)
    mixer.inbox.append(FadeOutAll(0))
    out = render(mixer, 240)
    assert not out.any() and mixer.current is None and mixer.pending is None
    assert sorted(s for e, s in events(mixer) if e == MixerEvent.RETIRED) == [1, 2, 3]


def test_clear_queued_and_advance():
    mixer = Mixer(48000)
    mixer.inbox.append(StartDeck(deck(1, 48000), 0, 0))
    mixer.inbox.append(QueueDeck(deck(2, 48000)))
    mixer.inbox.append(ClearQueued())
    render(mixer, 240)
    assert mixer.pending is None and (MixerEvent.RETIRED, 2) in events(mixer)
    mixer.inbox.append(Advance(0))  # nothing queued: nothing happens
    mixer.inbox.append(QueueDeck(deck(3, 48000)))
    mixer.inbox.append(Advance(0))
    render(mixer, 240)
    assert mixer.current.serial == 3 and (MixerEvent.STARTED, 3) in events(mixer)


def test_volume_glides_over_30_ms_and_the_sum_is_clipped():
    mixer = Mixer(48000)
    loud = np.array([0.9, -0.9], dtype=np.float32)
    mixer.inbox.append(StartDeck(deck(1, 48000, loud), 0, 0))
    mixer.inbox.append(StartDeck(deck(2, 48000, loud), 48000, 0))  # both at sin(π/4) mid-way: 1.27 before clipping
    out = render(mixer, 24000)
    assert out[:, 0].max() == 1.0 and out[:, 1].min() == -1.0
    mixer.volume = 0.0
    out = render(mixer, 2048)
    assert np.all(np.diff(np.abs(out[:1440, 0])) <= 1e-6) and not out[1441:].any()  # a glide of 1440 frames


def test_messages_are_frozen():
    message = FadeOutAll(10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.frames = 0  # type: ignore[misc]
    assert StartDeck(None, 1, 2) == StartDeck(None, 1, 2)  # type: ignore[arg-type]
