"""``moodsic eval clips``: labels from the corpora's file names, the scores, and a run on real CREMA-D clips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodsic_desktop.evaluation.labelled_clips import ClipResult, arousal_auc, clip_label, summary
from tests.cli.cli_helpers import one_error_line, run

CREMA = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real" / "crema-d"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("1001_DFA_ANG_XX.flv", ("CREMA-D", "angry")),
        ("1091_TSI_NEU_XX.mp4", ("CREMA-D", "neutral")),
        ("1001_IEO_SAD_HI.flv", ("CREMA-D", "sad")),
        ("01-01-05-01-02-01-12.mp4", ("RAVDESS", "angry")),
        ("02-01-08-02-01-02-03.mp4", ("RAVDESS", "surprised")),
        ("02-01-02-01-01-01-01.mp4", ("RAVDESS", "calm")),
        ("03-01-05-01-02-01-12.wav", None),  # RAVDESS audio only
        ("01-01-09-01-02-01-12.mp4", None),  # no such emotion
        ("holiday.mp4", None),
    ],
)
def test_labels_come_from_the_corpus_naming(name, label):
    assert clip_label(Path(name)) == label


def clip(emotion: str, valence: float | None, arousal: float | None) -> ClipResult:
    return ClipResult(f"{emotion}.mp4", "test", emotion, 10, 10, valence, arousal, arousal)


def test_the_scores():
    results = [
        clip("happy", 0.5, 0.6),
        clip("angry", -0.4, 0.3),
        clip("sad", 0.1, 0.35),  # valence wrong; arousal above the angry clip
        clip("neutral", 0.2, 0.1),  # no valence sign to get right
        clip("surprised", 0.3, 0.1),  # ties the neutral clip: half a pair
        clip("fearful", None, None),  # no face read: left out
    ]
    report = summary(results)
    assert report["valence_sign_accuracy"] == pytest.approx(2 / 3) and report["valence_signed_clips"] == 3
    # high (happy 0.6, angry 0.3, surprised 0.1) against low (sad 0.35, neutral 0.1): 3.5 of 6 pairs
    assert report["arousal_auc"] == pytest.approx(3.5 / 6)
    assert report["classes"]["happy"] == {"clips": 1, "face_valence": 0.5, "face_arousal": 0.6, "fused_arousal": 0.6}
    assert report["classes"]["fearful"]["face_arousal"] is None
    assert report["clips"] == 6 and report["clips_with_faces"] == 5
    assert arousal_auc([clip("happy", 0.5, 0.6)]) is None  # no low-arousal clip: nothing to order


def test_a_missing_folder_is_one_clear_line(capsys, tmp_path):
    code, _, err = run(capsys, "eval", "clips", "--folder", str(tmp_path / "nowhere"), "--out", str(tmp_path))
    assert code != 0 and "nowhere" in one_error_line(err)


def test_a_folder_without_labelled_clips_says_how_to_name_them(capsys, tmp_path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "holiday.mp4").write_bytes(b"not a video")
    code, _, err = run(capsys, "eval", "clips", "--folder", str(tmp_path / "clips"), "--out", str(tmp_path / "o"))
    assert code != 0 and "1001_DFA_ANG_XX.flv" in one_error_line(err)
    assert (tmp_path / "clips" / "holiday.mp4").read_bytes() == b"not a video"  # nothing of the user's touched


@pytest.mark.skipif(not CREMA.is_dir(), reason=f"../shared/fixtures/real/crema-d is absent ({CREMA})")
def test_real_crema_d_clips_are_scored(capsys, tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("1001_DFA_HAP_XX.flv", "1001_DFA_SAD_XX.flv"):
        (folder / name).symlink_to(CREMA / name)
    (folder / "notes.txt").write_text("not a clip")
    code, out, _ = run(capsys, "eval", "clips", "--folder", str(folder), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0
    assert "valence sign accuracy: 1.00 (2 clips" in out
    assert "arousal AUC (face): 1.00" in out
    assert "skipped: notes.txt" in out
    report = json.loads((tmp_path / "out" / "clips.json").read_text())
    happy, sad = report["classes"]["happy"], report["classes"]["sad"]
    assert happy["face_valence"] > 0 > sad["face_valence"]
    assert happy["face_arousal"] > sad["face_arousal"]
    assert [r["face_frames"] for r in report["results"]] == [r["frames"] for r in report["results"]]
