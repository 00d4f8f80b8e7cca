"""The playback engine end to end: the worker thread, the mixer and the commands together.

Most tests run the real engine logic (worker thread, mixer) on ``NullBackend("manual")``: the test thread
plays the audio thread and pulls blocks, and ``wait_idle`` lets the worker react between pulls, so timing is
deterministic. The ``tap``/``realtime`` tests play through real PortAudio into the
tests' own sinks (``sound_sink.py``) and check the samples that came out. Outputs are tested in
test_output.py, the mixer alone in test_mixer.py, the commands in test_commands.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.audio.engine_rig import RATE, Recorder, crossfade_gains, expected_gains, make_rigs, song, tap_scenario


@pytest.fixture
def rig():
    yield from make_rigs()


# ---- mixing, on the null output -----------------------------------------------------------------------


def test_automatic_crossfade_is_equal_power(rig, make_tone, sig):
    r = rig(crossfade_s=1.0)
    a = make_tone("a.wav", 1000.0, 2.0)
    b = make_tone("b.wav", 1500.0, 2.0)
    r.engine.play(song(a))
    r.engine.queue_next(song(b))
    r.ready()
    out = r.pull(3.2)
    gains = crossfade_gains(out[: 3 * RATE], sig, 1000.0, 1500.0)
    expected = expected_gains(start=RATE, length=RATE, windows=len(gains))  # A ends at 2 s: fade from 1 s
    np.testing.assert_allclose(gains, expected, atol=0.01)
    np.testing.assert_allclose((gains**2).sum(axis=1), 1.0, atol=0.01)
    assert np.abs(out[3 * RATE :]).max() == 0.0  # B (2 s) ended at 3 s
    assert r.listener.named("song_started") == [("song_started", "a.wav"), ("song_started", "b.wav")]
    assert r.listener.named("playback_stopped") == [("playback_stopped",)]


def test_crossfade_to_mid_song_is_equal_power_from_the_request(rig, make_tone, sig):
    r = rig(crossfade_s=6.0)
    a = make_tone("a.wav", 1000.0, 5.0)
    b = make_tone("b.flac", 1500.0, 5.0)
    r.engine.play(song(a))
    r.ready()
    before = r.pull(0.5)
    r.engine.crossfade_to(song(b), crossfade_s=0.75)
    r.ready()
    out = np.concatenate([before, r.pull(1.5)])
    gains = crossfade_gains(out, sig, 1000.0, 1500.0)
    np.testing.assert_allclose(gains, expected_gains(RATE // 2, int(0.75 * RATE), len(gains)), atol=0.01)
    assert r.engine.current_song.song_id == "b.flac"
    assert r.engine.position_s == pytest.approx(1.5)


def test_zero_crossfade_is_gapless_and_sample_exact(rig, make_tone):
    r = rig(crossfade_s=0.0)
    a = make_tone("a.wav", 1000.0, 1.0)
    b = make_tone("b.wav", 1500.0, 1.0, phase=0.3)
    r.engine.play(song(a))
    r.engine.queue_next(song(b))
    r.ready()
    out = r.pull(2.0)
    from moodsic_desktop.audio.decoding import decode

    np.testing.assert_array_equal(out[:RATE], decode(a, RATE))
    np.testing.assert_array_equal(out[RATE:], decode(b, RATE))


def test_start_and_stop_fade_with_sine_ramps(rig, make_tone, sig):
    r = rig(crossfade_s=1.0, start_fade_s=0.5)
    a = make_tone("a.wav", 1000.0, 5.0)
    r.engine.play(song(a))
    r.ready()
    head = r.pull(1.0)
    gain = sig.tone_amplitudes(head[:, 0], [1000.0], RATE, 480)[:, 0] / 0.5
    centres = (np.arange(len(gain)) + 0.5) * 480 - 0.5
    np.testing.assert_allclose(gain, np.sin(np.clip(centres / (0.5 * RATE), 0, 1) * np.pi / 2), atol=0.01)
    r.engine.stop(fade_s=0.25)
    r.ready()
    tail = r.pull(0.5)
    gain = sig.tone_amplitudes(tail[:, 0], [1000.0], RATE, 480)[:, 0] / 0.5
    centres = (np.arange(len(gain)) + 0.5) * 480 - 0.5
    np.testing.assert_allclose(gain, np.cos(np.clip(centres / (0.25 * RATE), 0, 1) * np.pi / 2), atol=0.01)
    assert np.abs(tail[int(0.25 * RATE) :]).max() < 1e-6
    assert r.engine.current_song is None and r.engine.position_s == 0.0
    assert r.listener.named("playback_stopped") == [("playback_stopped",)]


def test_master_volume_glides_and_clamps(rig, make_tone, sig):
    r = rig()
    r.engine.play(song(make_tone("a.wav", 1000.0, 3.0)))
    r.ready()
    r.pull(0.1)
    r.engine.volume = 0.25
    out = r.pull(0.2)
    gain = sig.tone_amplitudes(out[:, 0], [1000.0], RATE, 480)[:, 0] / 0.5
    assert gain[0] > 0.8 and np.allclose(gain[3:], 0.25, atol=0.005)  # a glide of < 30 ms, then 0.25
    assert np.all(np.diff(gain[:4]) < 0)
    r.engine.volume = 7.0
    assert r.engine.volume == 1.0
    r.engine.volume = -1.0
    assert r.engine.volume == 0.0
    with pytest.raises(ValueError):
        r.engine.volume = float("nan")


def test_crossfade_length_is_validated(rig):
    engine = rig().engine
    assert engine.crossfade_s == 6.0
    engine.crossfade_s = 20
    engine.crossfade_s = 0
    for bad in (-0.1, 20.01, float("nan")):
        with pytest.raises(ValueError):
            engine.crossfade_s = bad
    with pytest.raises(ValueError):
        engine.crossfade_to(song(None), crossfade_s=25)


def test_position_duration_and_current_song(rig, make_tone):
    r = rig()
    a = make_tone("a.wav", 1000.0, 2.0, samplerate=22050)
    assert r.engine.current_song is None and r.engine.remaining_s is None
    r.engine.play(song(a))
    r.ready()
    r.pull(0.5)
    assert r.engine.current_song.song_id == "a.wav"
    assert r.engine.position_s == pytest.approx(0.5)
    assert r.engine.duration_s == pytest.approx(2.0)
    assert r.engine.remaining_s == pytest.approx(1.5)


# ---- notices, skipping bad files, skip/queue -----------------------------------------------------------


def test_song_ending_notice_comes_early_enough_on_the_worker_thread(rig, make_tone, sig):
    b = make_tone("b.wav", 1500.0, 2.0)
    r = rig(listener=Recorder([song(b)]), crossfade_s=1.0, decode_margin_s=1.0)
    r.engine.play(song(make_tone("a.wav", 1000.0, 4.0)))
    r.ready()
    out = r.pull(5.2, step_s=0.1)
    notices = r.listener.named("next_song")
    assert len(notices) == 2  # once for a.wav, once for b.wav
    _, after, remaining, chosen = notices[0]
    assert (after, chosen) == ("a.wav", "b.wav")
    assert r.engine.notice_s - 0.1 - 1e-9 <= remaining <= r.engine.notice_s  # asked at 2 s before the end
    assert r.listener.threads == {"moodsic-audio"}
    rms = sig.window_rms(out[: 5 * RATE], 240)
    assert rms.min() > 0.3  # the song asked for in time crossfaded in: no gap
    gains = crossfade_gains(out[: 5 * RATE], sig, 1000.0, 1500.0)
    np.testing.assert_allclose(gains, expected_gains(3 * RATE, RATE, len(gains)), atol=0.01)


@pytest.mark.parametrize("bad_kind", ["garbage", "truncated-flac", "truncated-wav", "missing", "no-path"])
def test_a_bad_file_is_skipped_and_the_next_song_plays(rig, make_tone, make_corrupt, tmp_path, bad_kind):
    good = make_tone("good.wav", 500.0, 1.0)
    if bad_kind == "missing":
        bad = song(tmp_path / "gone.mp3")
    elif bad_kind == "no-path":
        bad = song(None, "no-audio")
    else:
        bad = song(make_corrupt(bad_kind))
    r = rig(listener=Recorder([song(good)]))
    r.engine.play(bad)
    r.ready()
    out = r.pull(1.2)
    failed = r.listener.named("song_failed")
    assert [e[1] for e in failed] == [bad.song_id]
    assert failed[0][2]  # a reason
    assert ("next_song", None, 0.0, "good.wav") in r.listener.events
    assert r.listener.named("song_started") == [("song_started", "good.wav")]
    assert np.abs(out[:RATE]).max() > 0.4


def test_a_bad_queued_file_does_not_stop_playback(rig, make_tone, make_corrupt, sig):
    c = make_tone("c.wav", 1500.0, 1.0)
    r = rig(listener=Recorder([song(c)]), crossfade_s=0.5)
    r.engine.play(song(make_tone("a.wav", 1000.0, 1.5)))
    r.engine.queue_next(song(make_corrupt("garbage")))
    r.ready()
    out = r.pull(2.0)
    assert [e[1] for e in r.listener.named("song_started")] == ["a.wav", "c.wav"]
    assert sig.window_rms(out, 240).min() > 0.3


def test_after_repeated_failures_the_engine_stops_asking(rig, make_corrupt):
    bad = song(make_corrupt("garbage"))
    r = rig(listener=Recorder([bad] * 20), max_failures_in_row=3)
    r.engine.play(bad)
    r.ready()
    assert len(r.listener.named("song_failed")) == 3
    assert len(r.listener.named("next_song")) == 2
    assert r.engine.current_song is None


def test_skip_crossfades_to_the_queued_song(rig, make_tone, sig):
    r = rig(crossfade_s=0.5)
    r.engine.play(song(make_tone("a.wav", 1000.0, 10.0)))
    r.engine.queue_next(song(make_tone("b.wav", 1500.0, 10.0)))
    r.ready()
    first = r.pull(1.0)
    r.engine.skip()
    r.ready()
    out = np.concatenate([first, r.pull(1.0)])
    gains = crossfade_gains(out, sig, 1000.0, 1500.0)
    np.testing.assert_allclose(gains, expected_gains(RATE, RATE // 2, len(gains)), atol=0.01)


def test_skip_asks_the_listener_and_fades_out_without_an_answer(rig, make_tone):
    b = make_tone("b.wav", 1500.0, 10.0)
    r = rig(listener=Recorder([song(b)]), crossfade_s=0.5)
    r.engine.play(song(make_tone("a.wav", 1000.0, 10.0)))
    r.ready()
    r.pull(0.5)
    r.engine.skip()
    r.ready()
    r.pull(1.0)
    assert r.engine.current_song.song_id == "b.wav"
    assert r.listener.named("next_song")[0][1:3] == ("a.wav", pytest.approx(9.5))
    r.engine.skip()  # the listener has nothing more: fade out
    r.ready()
    out = r.pull(1.0)
    assert r.engine.current_song is None
    assert np.abs(out[RATE // 2 :]).max() < 1e-6


def test_queue_next_on_silence_starts_playing(rig, make_tone):
    r = rig()
    r.engine.queue_next(song(make_tone("a.wav", 1000.0, 1.0)))
    r.ready()
    assert np.abs(r.pull(0.5)).max() > 0.4
    assert r.engine.current_song.song_id == "a.wav"


def test_play_replaces_the_queued_song(rig, make_tone):
    r = rig(crossfade_s=0.0)
    r.engine.play(song(make_tone("a.wav", 1000.0, 0.5)))
    r.engine.queue_next(song(make_tone("b.wav", 1500.0, 0.5)))
    r.ready()
    r.pull(0.1)
    r.engine.play(song(make_tone("c.wav", 500.0, 0.5)))
    r.ready()
    r.pull(1.0)
    assert [e[1] for e in r.listener.named("song_started")] == ["a.wav", "c.wav"]


class _Exploding(Recorder):
    def song_started(self, song):
        super().song_started(song)
        raise RuntimeError("listener bug")

    def next_song(self, after, remaining_s):
        super().next_song(after, remaining_s)
        self.close_error = None
        try:
            self.engine.close()
        except RuntimeError as error:
            self.close_error = error


def test_listener_errors_do_not_stop_the_engine(rig, make_tone, caplog):
    r = rig(listener=_Exploding(), crossfade_s=0.5, decode_margin_s=0.0)
    r.listener.engine = r.engine
    r.engine.play(song(make_tone("a.wav", 1000.0, 1.0)))
    r.ready()
    out = r.pull(1.2, step_s=0.1)
    assert np.abs(out[:RATE]).max() > 0.4
    assert "listener bug" in caplog.text
    assert "cannot be called from the listener" in str(r.listener.close_error)


# ---- real PortAudio: tap (not paced) and realtime (PulseAudio) sinks ---------------------------------------


def test_tap_equal_power_crossfade_and_no_gap(scenario_runner, tap_sink, make_tone, sig):
    a = make_tone("a.wav", 1000.0, 2.0)
    b = make_tone("b.flac", 1500.0, 2.0)
    report, out = tap_scenario(scenario_runner, tap_sink, play=str(a), queue=str(b), engine={"crossfade_s": 1.0})
    assert [e[1] for e in report["events"] if e[1] == "song_started"] == ["song_started"] * 2
    gains = crossfade_gains(out[: 3 * RATE], sig, 1000.0, 1500.0)
    np.testing.assert_allclose(gains, expected_gains(RATE, RATE, len(gains)), atol=0.01)
    np.testing.assert_allclose((gains**2).sum(axis=1), 1.0, atol=0.01)
    assert sig.window_rms(out[: 3 * RATE], 240).min() > 0.33  # constant power, no gap


def test_tap_back_to_back_songs_have_no_gap(scenario_runner, tap_sink, make_tone, sig):
    a = make_tone("a.ogg", 1000.0, 1.5, samplerate=44100)
    b = make_tone("b.wav", 1500.0, 1.0, samplerate=16000, channels=1)
    _report, out = tap_scenario(scenario_runner, tap_sink, play=str(a), queue=str(b), engine={"crossfade_s": 0.0})
    end = sig.last_sound(out)
    assert abs(end + 1 - 2.5 * RATE) < 0.01 * RATE  # 1.5 s + 1.0 s, back to back
    rms = sig.window_rms(out[:end], 48)  # 1 ms windows
    assert rms.min() > 0.2, f"a gap of silence at {np.argmin(rms) / 1000:.3f} s"


def test_tap_22khz_mono_440hz_plays_at_440hz_on_both_channels(scenario_runner, tap_sink, make_tone, sig):
    tone = make_tone("tone.wav", 440.0, 2.0, samplerate=22050, channels=1)
    _report, out = tap_scenario(scenario_runner, tap_sink, play=str(tone))
    end = sig.last_sound(out) + 1
    assert abs(end - 2 * RATE) < 0.005 * RATE  # 2 s stay 2 s at 48 kHz
    middle = out[RATE // 2 : 3 * RATE // 2]
    assert sig.peak_frequency(middle[:, 0], RATE) == pytest.approx(440.0, abs=0.5)
    assert np.sqrt(np.mean(middle[:, 0] ** 2)) == pytest.approx(0.5 / math.sqrt(2), rel=0.02)
    np.testing.assert_array_equal(out[:end, 0], out[:end, 1])


def test_tap_corrupt_files_are_skipped(scenario_runner, tap_sink, make_tone, make_corrupt, sig):
    good_a = make_tone("a.wav", 1000.0, 1.0)
    good_c = make_tone("c.wav", 500.0, 1.0)
    report, out = tap_scenario(
        scenario_runner,
        tap_sink,
        play=str(make_corrupt("garbage")),
        queue=str(make_corrupt("truncated-flac")),
        listener_songs=[str(good_a), str(good_c)],
        engine={"crossfade_s": 0.25},
    )
    failed = [e[2] for e in report["events"] if e[1] == "song_failed"]
    started = [e[2] for e in report["events"] if e[1] == "song_started"]
    assert failed == ["garbage.wav", "truncated.flac"] and started == ["a.wav", "c.wav"]
    amplitudes = sig.tone_amplitudes(out[: int(1.75 * RATE), 0], [1000.0, 500.0], RATE, 480)
    assert amplitudes[:70, 0].min() > 0.45 and amplitudes[110:, 1].min() > 0.45
    assert sig.window_rms(out[: int(1.75 * RATE)], 240).min() > 0.3


def test_realtime_no_underflow_while_a_core_is_busy(scenario_runner, realtime_sink, make_tone, sig):
    a = make_tone("a.wav", 1000.0, 3.0, samplerate=44100)
    b = make_tone("b.flac", 1500.0, 2.5, samplerate=22050, channels=1)
    scenario = {
        "play": str(a),
        "listener_songs": [str(b)],
        "busy_thread": True,
        "lead_s": 1.0,
        "linger_s": 0.5,
        "engine": {"samplerate": RATE, "crossfade_s": 1.0, "decode_margin_s": 1.0, "start_fade_s": 0.05},
    }
    report = scenario_runner(realtime_sink.env, scenario)
    assert report["finished"], report
    assert report["sound_ok"], report["status"]
    assert report["busy_iterations"] > 10
    assert report["underflow_count"] == 0
    assert report["starved_blocks"] == 0
    notices = [e for e in report["events"] if e[1] == "next_song"]
    assert notices[0][2] == "a.wav" and notices[0][3] >= 1.9  # asked >= crossfade + margin (- a poll) ahead
    assert set(report["listener_threads"]) == {"moodsic-audio"}
    realtime_sink.stop()
    played = realtime_sink.read()
    start, end = sig.first_sound(played), sig.last_sound(played)
    assert start >= 0, "nothing was recorded"
    assert abs((end + 1 - start) / RATE - 4.5) < 0.02  # 3 s + 2.5 s - 1 s crossfade, back to back
    gains = crossfade_gains(played[start:end], sig, 1000.0, 1500.0)
    np.testing.assert_allclose(gains[5:], expected_gains(2 * RATE, RATE, len(gains))[5:], atol=0.03)
    rms = sig.window_rms(played[start + int(0.05 * RATE) : end], 240)
    assert rms.min() > 0.3, f"a drop-out at {0.05 + np.argmin(rms) * 0.005:.3f} s into the playback"
