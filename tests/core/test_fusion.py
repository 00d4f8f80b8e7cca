import dataclasses

import pytest

from moodsic_desktop.core.fusion import SCENE_PEOPLE_GAP_VAR, fuse
from moodsic_desktop.core.types import Estimate

SCENE = Estimate(0.4, -0.2, 0.04, 0.09, "scene")
FACE = Estimate(-0.2, 0.6, 0.01, 0.64, "face")
GAP_V, GAP_A = SCENE_PEOPLE_GAP_VAR


def test_estimate_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCENE.valence = 0.0  # type: ignore[misc]


def test_inverse_variance_per_dimension():
    fused = fuse(SCENE, FACE)
    # with a face in view the scene's variance grows by the measured gap between a room's look and its people
    w_s, w_f = 1 / (0.04 + GAP_V + 1e-6), 1 / (0.01 + 1e-6)
    assert fused.valence == pytest.approx((w_s * 0.4 + w_f * -0.2) / (w_s + w_f))
    assert fused.var_valence == pytest.approx(1 / (w_s + w_f))
    w_s, w_f = 1 / (0.09 + GAP_A + 1e-6), 1 / (0.64 + 1e-6)
    assert fused.arousal == pytest.approx((w_s * -0.2 + w_f * 0.6) / (w_s + w_f))
    assert fused.var_arousal == pytest.approx(1 / (w_s + w_f))
    # the surer expert wins each dimension: face for valence, scene for arousal
    assert abs(fused.valence - FACE.valence) < abs(fused.valence - SCENE.valence)
    assert abs(fused.arousal - SCENE.arousal) < abs(fused.arousal - FACE.arousal)
    assert fused.var_valence < min(SCENE.var_valence, FACE.var_valence)


def test_fixed_weights():
    fused = fuse(SCENE, FACE, mode="fixed")
    assert fused.valence == pytest.approx(0.6 * 0.4 + 0.4 * -0.2)
    assert fused.arousal == pytest.approx(0.6 * -0.2 + 0.4 * 0.6)
    assert fused.var_valence == pytest.approx(0.6 * (0.04 + GAP_V) + 0.4 * 0.01)
    assert fused.var_arousal == pytest.approx(0.6 * (0.09 + GAP_A) + 0.4 * 0.64)
    custom = fuse(SCENE, FACE, mode="fixed", weights=(0.5, 0.5))
    assert custom.valence == pytest.approx(0.1)


@pytest.mark.parametrize("mode", ["inverse_variance", "fixed"])
def test_one_missing_input_returns_the_other_unchanged(mode):
    assert fuse(SCENE, None, mode=mode) is SCENE
    assert fuse(None, FACE, mode=mode) is FACE
    assert fuse(None, None, mode=mode) is None


def test_single_expert_modes():
    assert fuse(SCENE, FACE, mode="scene") is SCENE
    assert fuse(SCENE, FACE, mode="face") is FACE
    assert fuse(None, FACE, mode="scene") is None


def test_a_confident_face_leads_a_uniform_scene():
    # A plain dark wall (the scene's floor variance) against a face read with the usual confidence.
    wall = Estimate(-0.73, -0.4, 0.25**2, 0.25**2, "scene")
    laughing = Estimate(0.78, 0.5, 0.08, 0.09, "face")
    fused = fuse(wall, laughing)
    assert fused.valence > 0.45 and fused.arousal > 0.2
    assert fuse(wall, None) is wall  # with no face the scene speaks alone, unwidened


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown fusion mode"):
        fuse(SCENE, FACE, mode="average")


# ------------------------------------------------------------------ the room's reading of every face
from moodsic_desktop.core.fusion import FACE_SIZE_REFERENCE_PX, combine_faces  # noqa: E402
from moodsic_desktop.core.types import FaceBox, FaceRead  # noqa: E402


def _read(valence, var, width=400.0, score=1.0, arousal=0.0):
    return FaceRead(FaceBox(0, 0, width, width, score), Estimate(valence, arousal, var, var, "face"))


def test_equal_faces_combine_like_inverse_variance():
    # Large boxes make the size factor ~1: the weights are 1/var, the variance 1/sum(1/var).
    combined = combine_faces([_read(0.6, 0.04, width=1e5), _read(-0.2, 0.16, width=1e5)])
    w1, w2 = 1 / 0.04, 1 / 0.16
    assert combined.valence == pytest.approx((w1 * 0.6 - w2 * 0.2) / (w1 + w2), abs=1e-4)
    assert combined.var_valence == pytest.approx(1 / (w1 + w2), rel=1e-4)
    assert combined.var_valence < 0.04  # two readings know more than the better one alone


def test_small_or_unsure_faces_count_for_little():
    big_sure = _read(0.8, 0.04, width=200)
    tiny = _read(-0.8, 0.04, width=10)
    unsure = _read(-0.8, 1.0, width=200)
    weak_detection = _read(-0.8, 0.04, width=200, score=0.05)
    for other in (tiny, unsure, weak_detection):
        combined = combine_faces([big_sure, other])
        assert combined.valence > 0.6, other
    # a face the reference width wide counts half as much as a very large one with the same variance
    half = combine_faces([_read(1.0, 0.04, width=FACE_SIZE_REFERENCE_PX), _read(0.0, 0.04, width=1e5)])
    assert half.valence == pytest.approx(1 / 3, abs=1e-3)


def test_faces_without_an_estimate_are_left_out():
    missing = FaceRead(FaceBox(0, 0, 100, 100, 1.0), None)
    assert combine_faces([missing]) is None
    assert combine_faces([]) is None
    one = _read(0.5, 0.09, arousal=-0.3)
    combined = combine_faces([missing, one], source="room")
    assert (combined.valence, combined.arousal, combined.source) == (pytest.approx(0.5), pytest.approx(-0.3), "room")


# ------------------------------------------------------------------ people, not detections; the room's energy
from moodsic_desktop.core.fusion import PEOPLE_SPREAD_VAR, with_room_energy  # noqa: E402
from moodsic_desktop.core.types import RoomEnergy  # noqa: E402


def test_one_sure_expressive_person_does_not_stand_for_the_room():
    laughing = _read(0.9, 0.01, width=1e5)
    calm = [_read(0.0, 0.1, width=1e5) for _ in range(3)]
    detections = combine_faces([laughing, *calm])
    people = combine_faces([laughing, *calm], between_people_var=PEOPLE_SPREAD_VAR)
    share_detections = detections.valence / 0.9
    share_people = people.valence / 0.9
    assert share_detections > 0.75  # weighed as detections (0.77): the sure face is nearly the room
    assert share_people < 0.5  # weighed as people (0.45): one person of four, a little more for being sure
    assert share_people > 0.25


def test_the_people_variance_counts_leaning_on_some_people():
    """var = Σ ŵ² var_i + τ² Σ (ŵ - 1/n)²: one person is read as sure as their face; equal people add nothing."""
    alone = combine_faces([_read(0.5, 0.04, width=1e5)], between_people_var=PEOPLE_SPREAD_VAR)
    assert alone.var_valence == pytest.approx(0.04)
    equal = combine_faces([_read(0.5, 0.04, width=1e5)] * 4, between_people_var=PEOPLE_SPREAD_VAR)
    assert equal.var_valence == pytest.approx(0.01, rel=1e-4)
    uneven = combine_faces([_read(0.5, 0.01, width=1e5), _read(0.5, 0.3, width=1e5)], between_people_var=0.05)
    w = [1 / 0.06, 1 / 0.35]
    shares = [x / sum(w) for x in w]
    expected = shares[0] ** 2 * 0.01 + shares[1] ** 2 * 0.3 + 0.05 * sum((s - 0.5) ** 2 for s in shares)
    assert uneven.var_valence == pytest.approx(expected, rel=1e-4)


def test_the_room_energy_moves_arousal_only_by_inverse_variance():
    reading = Estimate(0.4, 0.0, 0.05, 0.1, "faces")
    lively = RoomEnergy(people=6, motion=0.3, arousal=0.8, var_arousal=0.3)
    joined = with_room_energy(reading, lively)
    assert joined.valence == 0.4 and joined.var_valence == 0.05
    assert joined.arousal == pytest.approx(0.8 * (1 / 0.3) / (1 / 0.3 + 1 / 0.1), abs=1e-4)
    assert joined.var_arousal == pytest.approx(1 / (1 / 0.3 + 1 / 0.1), rel=1e-4)
    assert "room energy" in joined.source
    assert with_room_energy(reading, None) is reading and with_room_energy(None, lively) is None
