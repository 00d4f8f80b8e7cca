"""Decoding and resampling: formats, rates, channel layouts and every way a file can be bad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.decoding import (
    AudioDecodeError,
    StreamDecoder,
    check_file,
    decode,
    probe,
    to_stereo,
)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
@pytest.mark.parametrize("rate", [16000, 22050, 44100, 48000])
def test_decodes_to_target_rate_with_the_same_pitch_and_length(make_tone, sig, suffix, rate):
    path = make_tone(f"tone{rate}{suffix}", 440.0, 2.0, samplerate=rate)
    audio = decode(path, 48000)
    assert audio.dtype == np.float32 and audio.ndim == 2 and audio.shape[1] == 2
    assert audio.flags.c_contiguous
    # lossy codecs pad a little at the ends; 2.0 s must stay 2.0 s (±25 ms), not be stretched by 48000/rate
    assert abs(len(audio) / 48000 - 2.0) < 0.025
    middle = audio[24000:72000, 0]
    assert sig.peak_frequency(middle, 48000) == pytest.approx(440.0, abs=0.5)
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_lossless_lengths_are_exact(make_tone):
    for rate in (16000, 22050, 44100, 48000):
        path = make_tone(f"exact{rate}.flac", 1000.0, 1.5, samplerate=rate)
        assert len(decode(path, 48000)) == round(1.5 * rate) * 48000 // rate


def test_mono_is_copied_to_both_channels(make_tone):
    audio = decode(make_tone("mono.wav", 440.0, 1.0, samplerate=22050, channels=1), 48000)
    assert np.abs(audio).max() > 0.4
    np.testing.assert_array_equal(audio[:, 0], audio[:, 1])


def test_more_than_two_channels_keep_the_first_two(tmp_path):
    t = np.arange(48000) / 48000
    data = np.stack([0.1 * np.sin(2 * np.pi * f * t) for f in (300, 500, 700, 900)], axis=1).astype(np.float32)
    path = tmp_path / "quad.wav"
    sf.write(str(path), data, 48000, subtype="FLOAT")
    audio = decode(path, 48000)
    np.testing.assert_allclose(audio, data[:, :2], atol=1e-6)


def test_to_stereo_shapes():
    assert to_stereo(np.zeros(5)).shape == (5, 2)
    assert to_stereo(np.zeros((5, 1))).shape == (5, 2)
    assert to_stereo(np.zeros((5, 6))).shape == (5, 2)
    with pytest.raises(ValueError):
        to_stereo(np.zeros((2, 3, 4)))


def test_chunked_decoding_matches_whole_file(make_tone):
    path = make_tone("chunks.flac", 523.0, 3.0, samplerate=44100)
    whole = decode(path, 48000, chunk_frames=1 << 20)
    chunks = []
    with StreamDecoder(path, 48000, chunk_frames=4096) as decoder:
        assert decoder.expected_frames == round(3.0 * 48000)
        while (chunk := decoder.read()) is not None:
            chunks.append(chunk)
        assert decoder.done
    streamed = np.concatenate(chunks)
    assert len(chunks) > 20
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-4)


def test_probe_reports_header_facts(make_tone):
    path = make_tone("facts.wav", 440.0, 1.25, samplerate=22050, channels=1)
    info = probe(path)
    assert (info.samplerate, info.channels, info.frames, info.format) == (22050, 1, 27562, "WAV")
    assert info.duration_s == pytest.approx(1.25, abs=1e-4)
    assert check_file(path) == info


@pytest.mark.parametrize(
    "kind, words",
    [
        ("garbage", "unreadable"),
        ("truncated-flac", "corrupt"),
        ("truncated-wav", "truncated"),
        ("empty", "unreadable"),
    ],
)
def test_bad_files_raise_a_clear_error_naming_the_file(make_corrupt, kind, words):
    path = make_corrupt(kind)
    with pytest.raises(AudioDecodeError) as caught:
        decode(path, 48000)
    assert isinstance(caught.value, ValueError)
    assert str(path) in str(caught.value)
    assert caught.value.path == path
    assert words in caught.value.reason
    with pytest.raises(AudioDecodeError):
        check_file(path)


def test_truncated_mp3_is_detected(make_tone, tmp_path):
    whole = make_tone("whole.mp3", 440.0, 4.0, samplerate=44100)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match="truncated"):
        decode(cut, 48000)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(AudioDecodeError, match="file not found") as caught:
        decode(tmp_path / "nowhere.mp3", 48000)
    assert "nowhere.mp3" in str(caught.value)
    with pytest.raises(AudioDecodeError, match="not a regular file"):
        probe(tmp_path)


def test_non_finite_samples_are_corrupt(tmp_path):
    data = np.zeros((4800, 2), dtype=np.float32)
    data[100, 0] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(str(path), data, 48000, subtype="FLOAT")
    with pytest.raises(AudioDecodeError, match="not finite"):
        decode(path, 48000)


def test_streaming_wav_placeholder_size_is_not_truncation(make_tone, tmp_path):
    # writers that stream to a pipe leave 0xFFFFFFFF as the data size; such files are whole
    path = make_tone("stream.wav", 440.0, 1.0)
    data = bytearray(path.read_bytes())
    index = data.index(b"data")
    data[index + 4 : index + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    patched = tmp_path / "patched.wav"
    patched.write_bytes(bytes(data))
    assert len(decode(patched, 48000)) == 48000


def test_decoder_rejects_bad_arguments(make_tone):
    path = make_tone("args.wav", 440.0, 0.1)
    with pytest.raises(ValueError):
        StreamDecoder(path, 0)
    with pytest.raises(ValueError):
        StreamDecoder(Path(path), 48000, chunk_frames=0)


def test_an_mp3_read_in_chunks_has_no_dropouts(tmp_path):
    """soundfile seeks after every read, and libsndfile's MP3 decoder restarts at a seek without the bit
    reservoir of the frames before: 60-100 ms of near-silence at every chunk boundary (DEAM is MP3). The
    decoder reads without that seek, so chunked decoding equals one whole read."""
    rate = 44100
    t = np.arange(5 * rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    path = tmp_path / "tone.mp3"
    sf.write(path, np.repeat(tone[:, None], 2, axis=1), rate)
    chunks = []
    with StreamDecoder(path, rate, chunk_frames=4096) as decoder:
        while (chunk := decoder.read()) is not None:
            chunks.append(chunk)
    chunked = np.concatenate(chunks)
    whole = to_stereo(sf.read(path, dtype="float32", always_2d=True)[0])
    assert len(chunked) == len(whole)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    window = 441  # 10 ms
    middle = chunked[rate // 10 : -rate // 10, 0].astype(np.float64)
    rms = np.sqrt((middle[: len(middle) // window * window] ** 2).reshape(-1, window).mean(axis=1))
    assert rms.min() > 0.9 * 0.5 / np.sqrt(2), f"a dropout at {np.argmin(rms) / 100 + 0.1:.2f} s"
