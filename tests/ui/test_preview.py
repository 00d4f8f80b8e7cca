"""The preview: every face read is boxed in the colour of its valence and captioned with its expression; and
in a running window, the faces of a real group photograph reach the preview and the status bar."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from moodsic_desktop.core.types import Estimate, FaceBox, FaceRead
from moodsic_desktop.ui.preview import PreviewWidget, face_caption, valence_colour


def _read(x, valence, expression=None, probability=None):
    estimate = None if valence is None else Estimate(valence, 0.0, 0.05, 0.05, "face")
    return FaceRead(FaceBox(x, 60, 80, 80, 0.9), estimate, expression, probability)


def test_colours_run_from_red_through_amber_to_green_and_grey_when_unread():
    red, amber, green = valence_colour(-1.0), valence_colour(0.0), valence_colour(1.0)
    assert red.red() > 200 and red.green() < 100
    assert amber.red() > 200 and amber.green() > 150 and amber.blue() < 100
    assert green.green() > 200 and green.red() < 100
    assert valence_colour(None) == valence_colour(float("nan")) == QColor("#8a929c")
    assert valence_colour(5.0) == green  # clipped


def test_captions_say_the_expression_and_how_likely():
    assert face_caption(_read(0, 0.8, "happy", 0.873)) == "happy 87 %"
    assert face_caption(_read(0, None)) == "not read"
    assert face_caption(_read(0, 0.1)) == ""  # an expert without classes


def test_every_face_is_boxed_in_its_colour(qtbot):
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    preview.resize(400, 300)
    image = QImage(400, 300, QImage.Format.Format_RGB888)
    image.fill(QColor("black"))
    preview.show_frame(image)
    preview.set_faces((_read(40, 0.9, "happy", 0.9), _read(240, -0.9, "angry", 0.7)))
    shot = preview.grab().toImage()
    left, right = shot.pixelColor(40, 100), shot.pixelColor(240, 100)  # on each box's left edge
    assert left.green() > 150 and left.red() < 150, left.name()
    assert right.red() > 150 and right.green() < 150, right.name()
    assert len(preview.faces) == 2
    preview.show_message("gone")
    assert preview.faces == ()


def test_a_group_photo_shows_five_faces_in_the_running_window(open_window, tmp_path, qtbot):
    from tests.test_real_footage import REAL

    if not REAL.is_dir():
        pytest.skip(f"../shared/fixtures/real is absent (looked in {REAL})")
    still = cv2.imread(str(REAL / "multi_face.jpg"))
    path = tmp_path / "group.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (still.shape[1], still.shape[0]))
    for _ in range(40):
        writer.write(still)
    writer.release()
    window = open_window(str(path))
    qtbot.waitUntil(lambda: len(window.preview.faces) == 5, timeout=60_000)
    reads = window.preview.faces
    assert sum(read.expression == "happy" for read in reads) >= 4
    assert all(read.estimate is not None and read.estimate.valence > 0 for read in reads if read.expression == "happy")
    qtbot.waitUntil(lambda: "Faces read 5" in window.diagnostics.status_label.text(), timeout=10_000)
    assert np.isclose(sum(read.share for read in reads), 1.0)


def test_captions_of_faces_close_together_never_overlap(qtbot):
    """Issue 21 (9): three faces side by side, their captions wider than the gaps between them."""
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    preview.resize(400, 300)
    image = QImage(400, 300, QImage.Format.Format_RGB888)
    image.fill(QColor("black"))
    preview.show_frame(image)
    faces = tuple(
        FaceRead(FaceBox(100 + 30 * k, 100 + 8 * k, 40, 40, 0.9), Estimate(0.5, 0.0, 0.05, 0.05, "face"), "happy", 0.9)
        for k in range(4)
    )
    preview.set_faces(faces)
    preview.grab()  # paints
    rects = preview.caption_rects
    assert len(rects) == 4
    for i, a in enumerate(rects):
        assert preview.rect().toRectF().contains(a)
        for b in rects[i + 1 :]:
            assert not a.intersects(b), (a, b)
