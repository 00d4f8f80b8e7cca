"""The name → class registry of experts."""

from __future__ import annotations

import pytest

from moodsic_desktop.perception.registry import (
    FACE_EXPERTS,
    SCENE_EXPERTS,
    UnknownExpertError,
    create_face_expert,
    create_scene_expert,
)
from moodsic_desktop.perception.scene_statistics import SceneStatisticsExpert


def test_registry_builds_experts_by_name() -> None:
    assert set(FACE_EXPERTS) == {"face-geometry"} and set(SCENE_EXPERTS) == {"scene-statistics"}
    assert isinstance(create_scene_expert("scene-statistics"), SceneStatisticsExpert)
    face = create_face_expert("face-geometry")
    try:
        assert face.name == "face-geometry (built-in)"
    finally:
        face.close()
    with pytest.raises(KeyError, match="known: scene-statistics"):
        create_scene_expert("imagenet-vibes")
    with pytest.raises(ValueError, match="known: face-geometry"):
        create_face_expert("emonet")
    assert issubclass(UnknownExpertError, KeyError)
