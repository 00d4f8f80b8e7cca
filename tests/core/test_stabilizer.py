import math

import pytest

from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.types import Estimate


def est(v, a, sd_v=0.1, sd_a=0.1):
    return Estimate(v, a, sd_v**2, sd_a**2, "test")


def test_first_estimate_initialises():
    out = Stabilizer().update(est(0.5, -0.3), now=10.0)
    assert (out.valence, out.arousal) == (0.5, -0.3)
    assert not out.held_valence and not out.held_arousal


def test_alpha_is_weight_after_one_second():
    s = Stabilizer(alpha=0.3, tau=1.0)
    s.update(est(0.0, 0.0), now=0.0)
    out = s.update(est(1.0, -1.0), now=1.0)
    assert out.valence == pytest.approx(0.3)
    assert out.arousal == pytest.approx(-0.3)


def test_weight_follows_elapsed_time():
    s = Stabilizer(alpha=0.3, tau=1.0)
    s.update(est(0.0, 0.0), now=0.0)
    out = s.update(est(1.0, 0.0), now=2.5)
    assert out.valence == pytest.approx(1 - 0.7**2.5)


def test_smoothing_does_not_depend_on_frame_rate():
    def run(fps):
        s = Stabilizer(alpha=0.3, tau=1.0)
        s.update(est(0.0, 0.0), now=0.0)
        out = None
        for i in range(1, int(4 * fps) + 1):
            out = s.update(est(1.0, 1.0), now=i / fps)
        return out.valence

    assert run(5) == pytest.approx(run(30), abs=1e-9)
    assert run(30) == pytest.approx(1 - 0.7**4, abs=1e-9)


def test_uncertain_dimension_is_held_and_ignored():
    s = Stabilizer(alpha=0.5, tau=0.4)
    s.update(est(0.2, 0.2), now=0.0)
    out = s.update(est(0.9, 0.9, sd_v=0.5, sd_a=0.1), now=1.0)
    assert out.held_valence and not out.held_arousal
    assert out.valence == pytest.approx(0.2)
    assert out.arousal == pytest.approx(0.2 + 0.5 * 0.7)
    # the held value did not enter the average: the next sure reading moves from 0.2, not from 0.9
    out = s.update(est(0.2, 0.55), now=2.0)
    assert out.valence == pytest.approx(0.2)


def test_tau_threshold_is_on_standard_deviation():
    s = Stabilizer(alpha=0.5, tau=0.3)
    s.update(est(0.0, 0.0), now=0.0)
    assert not s.update(est(1.0, 1.0, sd_v=0.3, sd_a=0.3), now=1.0).held
    assert s.update(est(1.0, 1.0, sd_v=0.31, sd_a=0.31), now=2.0).held


def test_nan_variance_is_held():
    s = Stabilizer()
    s.update(est(0.0, 0.0), now=0.0)
    out = s.update(Estimate(0.8, 0.8, math.nan, 0.01, "bad"), now=1.0)
    assert out.held_valence and out.valence == 0.0


def test_scene_only_uses_smaller_alpha():
    s = Stabilizer(alpha=0.4, tau=1.0, scene_only_alpha_factor=0.5)
    s.update(est(0.0, 0.0), now=0.0)
    out = s.update(est(1.0, 1.0), now=1.0, scene_only=True)
    assert out.valence == pytest.approx(0.2)


def test_settings_change_between_updates():
    s = Stabilizer(alpha=0.3, tau=0.4)
    s.update(est(0.0, 0.0), now=0.0)
    s.alpha = 0.9
    assert s.update(est(1.0, 1.0), now=1.0).valence == pytest.approx(0.9)
    s.tau = 0.05
    assert s.update(est(-1.0, -1.0), now=2.0).held
    s.scene_only_alpha_factor = 1.0
    s.tau = 1.0
    assert s.update(est(0.0, 0.0), now=3.0, scene_only=True).valence == pytest.approx(0.9 - 0.9 * 0.9)


@pytest.mark.parametrize(
    ("name", "value"), [("alpha", 0.0), ("alpha", 1.5), ("tau", -0.1), ("scene_only_alpha_factor", 0.0)]
)
def test_invalid_settings_are_rejected(name, value):
    with pytest.raises(ValueError):
        setattr(Stabilizer(), name, value)


def test_reset_reinitialises():
    s = Stabilizer()
    s.update(est(0.5, 0.5), now=0.0)
    s.reset()
    assert s.value is None
    out = s.update(est(-0.5, -0.5), now=100.0)
    assert (out.valence, out.arousal) == (-0.5, -0.5)
