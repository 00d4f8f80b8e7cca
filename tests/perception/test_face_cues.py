"""The faces' cues (``perception/face_cues.py``): the mesh runs within its budget, each person keeps a
history of their own, and head movement is measured in eye distances per second."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from moodsic_desktop.core.types import FaceBox
from moodsic_desktop.perception.face_cues import FaceCueReader, eye_midpoint

FACE = cv2.resize(data.astronaut()[20:260, 120:340], (120, 131), interpolation=cv2.INTER_AREA)


def crowd(count: int) -> tuple[np.ndarray, list[FaceBox]]:
    """A grey 1280 x 720 frame with ``count`` copies of a real face, and their boxes numbered 1, 2, ..."""
    frame = np.full((720, 1280, 3), 110, np.uint8)
    boxes = []
    for k in range(count):
        x, y = 60 + (k % 4) * 320, 80 + (k // 4) * 360
        frame[y : y + FACE.shape[0], x : x + FACE.shape[1]] = FACE
        boxes.append(FaceBox(x, y, 120, 131, 0.9, track=k + 1))
    return frame, boxes


@pytest.fixture
def reader():
    found = FaceCueReader(mesh_per_frame=1)
    yield found
    found.close()


def test_the_mesh_runs_on_one_face_per_frame_the_stalest_first(reader):
    frame, boxes = crowd(3)
    seen = []
    for step in range(3):
        cues = reader.read(frame, boxes, step * 0.1)
        seen.append([c.samples for c in cues])
    assert seen == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]  # one more face measured per frame, never one twice
    cues = reader.read(frame, boxes, 0.3)
    assert [c.samples for c in cues] == [2, 1, 1]
    assert all(0.0 < c.brow_raise < 0.6 and 0.0 <= c.mouth_open < 0.5 for c in cues)


def test_each_person_keeps_their_own_history_and_a_new_source_starts_over(reader):
    frame, boxes = crowd(2)
    for step in range(6):
        reader.read(frame, boxes, step * 0.1)
    swapped = [FaceBox(b.x, b.y, b.width, b.height, 0.9, track=b.track) for b in reversed(boxes)]
    cues = reader.read(frame, swapped, 0.6)
    assert sorted(c.samples for c in cues) == [3, 4]  # the numbers, not the order, carry the histories
    assert [c.samples for c in reader.read(frame, boxes, 0.0)] == [1, 0]  # time went back: all forgotten


def test_a_still_face_has_no_speaking_and_history_leaves_the_window(reader):
    frame, boxes = crowd(1)
    for step in range(20):
        cues = reader.read(frame, boxes, step * 0.1)
    assert cues[0].samples == 15  # 1.5 s of readings at 10 per second (the current one included)
    assert cues[0].speaking == pytest.approx(0.0, abs=1e-6) and cues[0].blinking == pytest.approx(0.0, abs=1e-6)


def test_head_movement_is_in_eye_distances_per_second():
    reader = FaceCueReader(mesh_per_frame=0)
    try:

        def face(x: float) -> FaceBox:  # eyes 50 px apart
            return FaceBox(x, 100, 100, 100, 0.9, ((x + 25, 130), (x + 75, 130), (x + 50, 150)), track=1)

        for step in range(6):  # 20 px per 0.1 s: 200 px/s, 4 eye distances per second
            cues = reader.read(np.zeros((400, 600, 3), np.uint8), [face(100 + 20 * step)], step * 0.1)
        assert cues[0].head_motion == pytest.approx(4.0, rel=1e-6)
        assert cues[0].samples == 0  # no mesh asked for
    finally:
        reader.close()
    assert eye_midpoint(FaceBox(0, 0, 10, 10, 0.9)) is None  # no key points


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="mesh_per_frame"):
        FaceCueReader(mesh_per_frame=-1)


def test_among_many_faces_the_window_keeps_enough_readings_to_judge_speaking(reader):
    frame, boxes = crowd(8)
    for step in range(40):  # 10 frames a second, one face meshed a frame: each face about once a second
        cues = reader.read(frame, boxes, step * 0.1)
    assert min(c.samples for c in cues) == 5  # the last five readings, reaching back about 4 s
