"""What the window is told about the experts: typed facts from the choice of experts (a model that could not be
used, a licence that forbids commercial use), never found by searching the words of the notes."""

from __future__ import annotations

from moodsic_desktop.perception.onnx_runtime import ModelTerms
from moodsic_desktop.session.assembly import ExpertChoice, ExpertSelection


def choice(role, reason, problems=(), terms=None):
    return ExpertChoice(role, "auto", object(), "a-model" if terms is not None else None, reason, problems, terms)


SCENE = choice("scene", "scene: scene-statistics (built-in) (no scene model installed in models)")


def test_a_licence_that_already_says_non_commercial_is_still_a_non_commercial_fact():
    """The reason does not repeat "non-commercial use only" after a licence that says it in its own words;
    the banner must come all the same."""
    terms = ModelTerms("CC BY-NC 4.0, non-commercial research", commercial_use=False)
    face = choice("face", "face: my-fer (ONNX) on CPU — licence CC BY-NC 4.0, non-commercial research", terms=terms)
    notes = ExpertSelection(face, SCENE).for_window()
    assert not any("non-commercial use only" in line for line in notes.lines)
    assert notes.non_commercial and not notes.model_not_used


def test_a_model_licensed_for_the_cafe_and_built_in_experts_ask_nothing_of_the_owner():
    face = choice("face", "face: fer2013 (ONNX) on CPU — licence MIT", terms=ModelTerms("MIT", commercial_use=True))
    notes = ExpertSelection(face, SCENE, notes=("a-damaged-looking-name.onnx is not listed: not used",)).for_window()
    assert not notes.non_commercial and not notes.model_not_used
    assert notes.lines[-1] == "a-damaged-looking-name.onnx is not listed: not used"  # shown in Diagnostics only


def test_a_model_not_used_or_an_unreadable_manifest_is_said():
    face = choice("face", "face: face-geometry (built-in) (no usable model)", problems=("emonet-8: missing",))
    notes = ExpertSelection(face, SCENE).for_window()
    assert notes.model_not_used and not notes.non_commercial
    assert "face model not used: emonet-8: missing" in notes.lines
    assert ExpertSelection(SCENE, SCENE, manifest_unreadable=True).for_window().model_not_used
