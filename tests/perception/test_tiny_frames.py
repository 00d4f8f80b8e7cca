"""Frames smaller than a face: the real MediaPipe detector with the tiles the program uses finds nothing
and stays usable, and closing it (or the pipeline around it) never raises."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.perception.faces import MediaPipeFaceDetector
from moodsic_desktop.session.assembly import EngineSettings
from tests.core.test_pipeline import SONGS, ScriptedExpert


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 2), (5, 5)])
def test_tiny_frames_find_no_face_and_close_cleanly(shape):
    detector = MediaPipeFaceDetector(tiles=EngineSettings.face_detection_tiles)
    try:
        for k in range(3):
            assert detector.detect(np.full((*shape, 3), 40 * k, np.uint8)) == []
        # A normal frame afterwards still runs (the graph was not left in a failed state).
        assert detector.detect(np.zeros((120, 160, 3), np.uint8)) == []
    finally:
        detector.close()  # must not raise
    detector.close()  # nor twice


class ClosingPart:
    """A detector/expert double whose ``close`` raises (or not) and records that it ran."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.closed = False

    def detect(self, frame):
        return []

    def close(self) -> None:
        self.closed = True
        if self.error is not None:
            raise self.error


def test_pipeline_close_never_raises_and_closes_every_part(caplog):
    detector = ClosingPart(RuntimeError("graph failed"))
    face, scene = ScriptedExpert("face"), ScriptedExpert("scene")
    face.close = ClosingPart(ValueError("face close")).close
    scene_part = ClosingPart(None)
    scene.close = scene_part.close
    pipeline = Pipeline(detector, face, scene, Stabilizer(), Matcher(SONGS))
    with caplog.at_level(logging.WARNING):
        pipeline.close()
    assert detector.closed and scene_part.closed
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "graph failed" in messages and "face close" in messages
