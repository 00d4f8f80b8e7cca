"""The face's arousal with its cues (``perception/face_cues.py``): these tests recompute the evidence of its
docstring on the labelled real faces of ``../shared/fixtures/real`` — the fit of the weights on the tuning
set, the ordering of high- and low-arousal clips (held-out clips included), the variance against the
squared error, and valence unchanged.

CREMA-D (Cao, Cooper, Keutmann, Gur, Nenkova, Verma 2014; ODbL 1.0): six clips of actor 1001, labelled
by their file names. Skips when the fixtures are absent."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from moodsic_desktop.core.tracking import FaceTracker
from moodsic_desktop.perception import face_cues
from moodsic_desktop.perception.face_cues import FaceCueReader, arousal_with_cues
from moodsic_desktop.perception.faces import MediaPipeFaceDetector
from moodsic_desktop.perception.fer_expert import CLASS_POINTS, FerExpert

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
CREMA = REAL / "crema-d"
pytestmark = pytest.mark.skipif(not CREMA.is_dir(), reason=f"../shared/fixtures/real/crema-d is absent ({CREMA})")

CREMA_CLASSES = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
HIGH_AROUSAL = {"ANG", "DIS", "FEA", "HAP"}
TUNING_CLIPS = ("ANG", "HAP", "NEU", "SAD")  # DIS and FEA are held out of the fit
PHOTOS = {
    "0-f15-hao-ph.jpg": "happy",
    "15-f13-anc-ph.jpg": "angry",
    "45-m7-di-ph.jpg": "disgust",
    "0-f1-su-ph.jpg": "surprise",
    "single_face.jpg": "happy",
}


def _rgb(bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _clip(path: Path) -> list[tuple[float, np.ndarray]]:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            capture.release()
            return frames
        frames.append((len(frames) / fps, _rgb(bgr)))


@pytest.fixture(scope="module")
def readings():
    """Per clip or photo: the label, and per frame (expression valence, expression arousal, cues, arousal
    read with the cues, its variance)."""
    detector = MediaPipeFaceDetector(also_short_range=True, confirm=True)
    plain = FerExpert()
    items = {f"1001_DFA_{code}": (CREMA / f"1001_DFA_{code}_XX.flv", CREMA_CLASSES[code]) for code in CREMA_CLASSES}
    items.update({name: (REAL / name, label) for name, label in PHOTOS.items()})
    table = {}
    for key, (path, label) in items.items():
        frames = _clip(path) if path.suffix == ".flv" else [(0.0, _rgb(cv2.imread(str(path))))]
        tracker, expert = FaceTracker(), FerExpert(cues=FaceCueReader())
        rows = []
        for now, frame in frames:
            faces = tracker.update(detector.detect(frame), now)[:1]
            if not faces:
                continue
            base = plain.read_faces(frame, faces, now)[0].estimate
            read = expert.read_faces(frame, faces, now)[0].estimate
            rows.append((base.valence, base.arousal, expert.last_cues[0], read.arousal, read.var_arousal))
        expert.close()
        assert len(rows) >= 0.8 * len(frames), key
        table[key] = (label, rows)
    detector.close()
    return table


def _mean(rows, column):
    return float(np.mean([row[column] for row in rows]))


def _auc(high: list[float], low: list[float]) -> float:
    pairs = [(h > q) + 0.5 * (h == q) for h in high for q in low]
    return float(np.mean(pairs))


def test_the_weights_are_the_fit_on_the_tuning_set(readings):
    """Ridge (0.05 on the weights) of the labelled arousal on clip means of (expression arousal, z_speaking,
    z_brow), tuning clips and photos only: the module's constants are that fit, rounded."""
    rows, targets = [], []
    for key, (label, frames) in readings.items():
        if key.startswith("1001_DFA_") and key[-3:] not in TUNING_CLIPS:
            continue
        z = np.array([face_cues.cue_deviations(frame[2]) for frame in frames])
        rows.append([_mean(frames, 1), *z.mean(axis=0), 1.0])
        targets.append(CLASS_POINTS[label][1])
    x, y = np.array(rows), np.array(targets)
    penalty = np.diag([0.05, 0.05, 0.05, 0.0])
    fitted = np.linalg.solve(x.T @ x + penalty, x.T @ y)
    used = [face_cues.FER_AROUSAL_WEIGHT, face_cues.SPEAKING_WEIGHT, face_cues.BROW_WEIGHT, face_cues.AROUSAL_OFFSET]
    assert np.allclose(fitted, used, atol=0.03), f"fitted {np.round(fitted, 3)}, used {used}"


def test_high_arousal_clips_read_above_low_ones(readings):
    means = {key[-3:]: _mean(rows, 3) for key, (_, rows) in readings.items() if key.startswith("1001_DFA_")}
    expression_only = {key[-3:]: _mean(rows, 1) for key, (_, rows) in readings.items() if key.startswith("1001_DFA_")}
    high = [means[c] for c in HIGH_AROUSAL]
    low = [means[c] for c in set(means) - HIGH_AROUSAL]
    assert _auc(high, low) == 1.0, means
    assert min(means["DIS"], means["FEA"]) > max(means["NEU"], means["SAD"])  # the held-out clips too
    before = _auc([expression_only[c] for c in HIGH_AROUSAL], [expression_only[c] for c in ("NEU", "SAD")])
    assert before < 1.0  # the expressions alone put the fearful clip below the low ones
    # the photos (single frames: no speaking cue yet) are read no worse than by their expression alone
    with_cues = np.mean([(readings[n][1][0][3] - CLASS_POINTS[PHOTOS[n]][1]) ** 2 for n in PHOTOS])
    expression = np.mean([(readings[n][1][0][1] - CLASS_POINTS[PHOTOS[n]][1]) ** 2 for n in PHOTOS])
    assert with_cues <= expression


def test_the_variance_matches_the_squared_error(readings):
    errors, variances = [], []
    for label, rows in readings.values():
        target = CLASS_POINTS[label][1]
        errors += [(row[3] - target) ** 2 for row in rows]
        variances += [row[4] for row in rows]
    ratio = np.mean(errors) / np.mean(variances)
    assert 0.7 < ratio < 1.4, f"squared error / variance = {ratio:.2f}"


def test_valence_is_the_expressions_and_keeps_its_sign(readings):
    _, happy = readings["1001_DFA_HAP"]
    assert _mean(happy, 0) > 0.2
    for code in ("ANG", "DIS", "FEA", "SAD"):
        _, rows = readings[f"1001_DFA_{code}"]
        assert _mean(rows, 0) < -0.2, code


def test_one_face_without_mesh_readings_reads_its_expression_and_offset():
    assert arousal_with_cues(0.4, face_cues.FaceCues()) == pytest.approx(0.55 * 0.4 + 0.13)
    talking = face_cues.FaceCues(speaking=0.095, brow_raise=0.22, samples=10)
    assert arousal_with_cues(0.4, talking) == pytest.approx(0.55 * 0.4 + 0.13 + 0.16 * 2.0)
    few = face_cues.FaceCues(speaking=0.095, brow_raise=0.22, samples=2)  # too few readings to judge speaking
    assert arousal_with_cues(0.4, few) == pytest.approx(0.55 * 0.4 + 0.13)
