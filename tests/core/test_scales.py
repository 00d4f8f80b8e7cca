import numpy as np
import pytest

from moodsic_desktop.core.scales import EmotionScaleAligner


@pytest.fixture
def aligner():
    return EmotionScaleAligner()


def test_findingemo_to_reference_maps_range_ends_and_centre(aligner):
    v, a = aligner.findingemo_to_reference([-3, 0, 3], [0, 3, 6])
    np.testing.assert_allclose(v, [-1, 0, 1])
    np.testing.assert_allclose(a, [-1, 0, 1])


def test_deam_static_to_reference_formula(aligner):
    v, a = aligner.deam_static_to_reference(7.0, 2.0)
    assert isinstance(v, np.ndarray) and isinstance(a, np.ndarray)
    assert float(v) == pytest.approx(0.5) and float(a) == pytest.approx(-0.75)


@pytest.mark.parametrize(
    ("forward", "backward", "values"),
    [
        ("findingemo_to_reference", "reference_to_findingemo", ([-2.5, 0.3, 2.9], [0.1, 4.2, 5.9])),
        ("deam_static_to_reference", "reference_to_deam_static", ([1.5, 5.0, 8.7], [2.0, 6.1, 9.0])),
        ("findingemo_to_deam_static", "deam_static_to_findingemo", ([-3.0, 1.2], [0.0, 4.5])),
    ],
)
def test_round_trips(aligner, forward, backward, values):
    there = getattr(aligner, forward)(*values)
    back = getattr(aligner, backward)(*there)
    np.testing.assert_allclose(back[0], values[0], atol=1e-12)
    np.testing.assert_allclose(back[1], values[1], atol=1e-12)


def test_findingemo_to_deam_goes_through_reference(aligner):
    v, a = aligner.findingemo_to_deam_static(3.0, 0.0)  # ref (1, -1)
    assert float(v) == pytest.approx(9.0) and float(a) == pytest.approx(1.0)


def test_emonet_is_identity_inside_range(aligner):
    v, a = aligner.emonet_to_reference(np.array([-0.4, 0.9]), np.array([0.2, -1.0]))
    np.testing.assert_allclose(v, [-0.4, 0.9])
    np.testing.assert_allclose(a, [0.2, -1.0])


def test_outputs_are_clipped_when_not_strict(aligner):
    v, a = aligner.deam_static_to_reference([0.0, 12.0], [10.0, -3.0])
    np.testing.assert_allclose(v, [-1, 1])
    np.testing.assert_allclose(a, [1, -1])
    v, a = aligner.emonet_to_reference(1.7, -1.2)
    assert float(v) == 1.0 and float(a) == -1.0


@pytest.mark.parametrize(
    ("method", "valence", "arousal"),
    [
        ("findingemo_to_reference", 3.5, 1.0),
        ("findingemo_to_reference", 0.0, -0.1),
        ("deam_static_to_reference", 5.0, 9.01),
        ("reference_to_deam_static", -1.2, 0.0),
        ("emonet_to_reference", 0.0, float("nan")),
    ],
)
def test_strict_rejects_out_of_range(method, valence, arousal):
    with pytest.raises(ValueError, match="outside its source range"):
        getattr(EmotionScaleAligner(strict=True), method)(valence, arousal)


def test_strict_accepts_range_ends():
    v, a = EmotionScaleAligner(strict=True).findingemo_to_reference([-3.0, 3.0], [0.0, 6.0])
    np.testing.assert_allclose(v, [-1, 1])
    np.testing.assert_allclose(a, [-1, 1])
