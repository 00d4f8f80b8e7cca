"""Frame sources on clips written by OpenCV into tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.perception.sources import (
    CameraSource,
    Frame,
    SourceError,
    VideoFileSource,
    open_source,
)

FPS = 25.0
WIDTH, HEIGHT = 64, 48
N_FRAMES = 12


def _numbered_frames(n: int = N_FRAMES) -> list[np.ndarray]:
    """BGR frames whose left half is pure red and whose right half is a grey level that encodes the index."""
    frames = []
    for i in range(n):
        frame = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
        frame[:, : WIDTH // 2] = (0, 0, 255)  # BGR red
        frame[:, WIDTH // 2 :] = 20 * i
        frames.append(frame)
    return frames


def _grey_level(frame: Frame) -> float:
    return float(frame.image[8:-8, WIDTH // 2 + 8 : -8].mean())


def _read_all(source: VideoFileSource, limit: int = 1000) -> list[Frame]:
    frames = []
    while len(frames) < limit:
        frame = source.read()
        if frame is None:
            break
        frames.append(frame)
    return frames


def test_reads_every_frame_in_rgb_with_timestamps(write_video) -> None:
    path = write_video(_numbered_frames(), fps=FPS)
    with VideoFileSource(path) as source:
        assert source.fps == pytest.approx(FPS)
        assert source.frame_size == (WIDTH, HEIGHT)
        assert source.frame_count == N_FRAMES
        frames = _read_all(source)
        assert source.read() is None  # stays at the end

    assert len(frames) == N_FRAMES
    assert [f.index for f in frames] == list(range(N_FRAMES))
    first = frames[0]
    assert first.image.dtype == np.uint8
    assert first.image.shape == (HEIGHT, WIDTH, 3)
    red = first.image[8:-8, 8 : WIDTH // 2 - 8].reshape(-1, 3).mean(axis=0)
    assert red[0] > 200 and red[1] < 40 and red[2] < 40, f"expected RGB red, got {red}"
    times = np.array([f.timestamp_s for f in frames])
    np.testing.assert_allclose(times, np.arange(N_FRAMES) / FPS, atol=1e-3)
    levels = [_grey_level(f) for f in frames]
    assert np.all(np.diff(levels) > 10), levels


def test_frames_are_read_only(write_video) -> None:
    path = write_video(_numbered_frames(3))
    with VideoFileSource(path) as source:
        frame = source.read()
    assert frame is not None
    with pytest.raises(ValueError):
        frame.image[0, 0, 0] = 1


def test_loop_restarts_and_time_keeps_increasing(write_video) -> None:
    path = write_video(_numbered_frames(), fps=FPS)
    with VideoFileSource(path, loop=True) as source:
        frames = _read_all(source, limit=2 * N_FRAMES + 3)

    assert len(frames) == 2 * N_FRAMES + 3
    assert [f.index for f in frames] == list(range(2 * N_FRAMES + 3))
    for i in range(3):
        assert _grey_level(frames[N_FRAMES + i]) == pytest.approx(_grey_level(frames[i]), abs=4)
    assert _grey_level(frames[N_FRAMES]) < _grey_level(frames[N_FRAMES - 1]) - 100  # restarted
    times = np.array([f.timestamp_s for f in frames])
    np.testing.assert_allclose(np.diff(times), 1.0 / FPS, atol=1e-3)


def test_close_stops_reading(write_video) -> None:
    source = VideoFileSource(write_video(_numbered_frames(3)))
    assert source.read() is not None
    source.close()
    source.close()
    assert source.closed
    assert source.read() is None


def test_missing_file_raises_with_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.mp4"
    with pytest.raises(SourceError, match="not found") as info:
        VideoFileSource(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_directory_raises_with_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="directory") as info:
        open_source(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_text_file_renamed_mp4_raises_with_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(SourceError) as info:
        VideoFileSource(path)
    assert str(path) in str(info.value)


def test_truncated_file_raises_with_path(write_video, tmp_path: Path) -> None:
    whole = write_video(_numbered_frames())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(SourceError) as info:
        VideoFileSource(cut)
    assert str(cut) in str(info.value)


def test_video_without_frames_raises_with_path(write_video) -> None:
    path = write_video([], name="empty.avi")
    with pytest.raises(SourceError, match="frame") as info:
        VideoFileSource(path)
    assert str(path) in str(info.value)


def test_open_source_picks_file_or_camera(write_video) -> None:
    path = write_video(_numbered_frames(2))
    for spec in (path, str(path)):
        with open_source(spec) as source:
            assert isinstance(source, VideoFileSource)
            assert source.read() is not None
    with pytest.raises(SourceError, match="camera 97"):
        open_source("97")  # no such camera on a test machine: digit strings mean cameras
    with pytest.raises(SourceError, match="camera 98"):
        CameraSource(98)


def test_pictures_and_videos_open_from_folders_with_non_ascii_names(tmp_path, write_video) -> None:
    import cv2

    from moodsic_desktop.perception.sources import read_picture

    folder = tmp_path / "Café Ümlaut ☕ José"
    folder.mkdir()
    picture = folder / "visage été.png"
    original = np.zeros((8, 12, 3), np.uint8)
    original[:, :6] = (0, 0, 255)
    ok, encoded = cv2.imencode(".png", original)
    assert ok
    picture.write_bytes(encoded.tobytes())
    assert np.array_equal(read_picture(picture), original)
    assert read_picture(folder / "missing.png") is None
    (folder / "not a picture.png").write_text("hello", encoding="utf-8")
    assert read_picture(folder / "not a picture.png") is None
    video = write_video(_numbered_frames(3))
    moved = folder / "vidéo du café.mp4"
    video.rename(moved)
    with open_source(str(moved)) as source:
        assert source.read() is not None


def write_noisy_avi(path: Path, frames: int = 60) -> Path:
    """An MJPG clip of noise (about 58 KB a frame, so FFmpeg cannot hold the whole file in its buffer)."""
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    assert writer.isOpened()
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
    writer.release()
    return path


def test_a_video_truncated_while_it_is_read_says_it_ended_early_and_where(tmp_path: Path) -> None:
    path = write_noisy_avi(tmp_path / "clip.avi")
    with VideoFileSource(path) as source:
        frames = _read_all(source, limit=10)
        assert source.ended_early() is None  # not ended yet
        os.truncate(path, path.stat().st_size // 2)
        frames += _read_all(source)
        early = source.ended_early()
    assert early is not None and 10 <= len(frames) < 50
    assert (early.frames_read, early.frames_expected) == (len(frames), 60)
    assert early.stopped_at_s == pytest.approx(frames[-1].timestamp_s) and early.expected_s == pytest.approx(6.0)
    message = early.message()
    assert f"{len(frames)} of the 60 frames" in message
    assert f"stopped at {frames[-1].timestamp_s:.1f} s of 6.0 s" in message


def test_a_whole_video_did_not_end_early(tmp_path: Path) -> None:
    with VideoFileSource(write_noisy_avi(tmp_path / "clip.avi", frames=20)) as source:
        assert len(_read_all(source)) == 20
        assert source.ended_early() is None
