import dataclasses

import pytest

from moodsic_desktop.core.fusion import fuse
from moodsic_desktop.core.types import Estimate

SCENE = Estimate(0.4, -0.2, 0.04, 0.09, "scene")
FACE = Estimate(-0.2, 0.6, 0.01, 0.36, "face")


def test_estimate_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCENE.valence = 0.0  # type: ignore[misc]


def test_inverse_variance_per_dimension():
    fused = fuse(SCENE, FACE)
    w_s, w_f = 1 / (0.04 + 1e-6), 1 / (0.01 + 1e-6)
    assert fused.valence == pytest.approx((w_s * 0.4 + w_f * -0.2) / (w_s + w_f))
    assert fused.var_valence == pytest.approx(1 / (w_s + w_f))
    w_s, w_f = 1 / (0.09 + 1e-6), 1 / (0.36 + 1e-6)
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
    assert fused.var_valence == pytest.approx(0.6 * 0.04 + 0.4 * 0.01)
    assert fused.var_arousal == pytest.approx(0.6 * 0.09 + 0.4 * 0.36)
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


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown fusion mode"):
        fuse(SCENE, FACE, mode="average")
