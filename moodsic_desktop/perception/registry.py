"""Name → class registry of the experts, so settings and the command line can name them.

``create_face_expert("face-geometry")`` builds a :class:`FaceGeometryExpert`; ONNX experts join these
tables later. Creating an expert loads its model (any thread; the experts are then called
from the capture/pipeline thread). The tables are read-only after import.
"""

from __future__ import annotations

from typing import Any

from moodsic_desktop.core.types import FaceExpert, SceneExpert
from moodsic_desktop.perception.face_geometry import FaceGeometryExpert
from moodsic_desktop.perception.scene_statistics import SceneStatisticsExpert

__all__ = [
    "FACE_EXPERTS",
    "SCENE_EXPERTS",
    "UnknownExpertError",
    "create_face_expert",
    "create_scene_expert",
]

FACE_EXPERTS: dict[str, type] = {"face-geometry": FaceGeometryExpert}
SCENE_EXPERTS: dict[str, type] = {"scene-statistics": SceneStatisticsExpert}


class UnknownExpertError(KeyError, ValueError):
    """No expert of that name; the message lists the known names. Both a KeyError and a ValueError."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


def _create(table: dict[str, type], kind: str, name: str, kwargs: dict[str, Any]) -> Any:
    key = name.strip().lower()
    try:
        cls = table[key]
    except KeyError:
        known = ", ".join(sorted(table)) or "none"
        raise UnknownExpertError(f"unknown {kind} expert {name!r}; known: {known}") from None
    return cls(**kwargs)


def create_face_expert(name: str, **kwargs: Any) -> FaceExpert:
    """A new face expert by registry name (case-insensitive); keyword arguments go to its constructor.

    Raises :class:`UnknownExpertError` listing the known names."""
    return _create(FACE_EXPERTS, "face", name, kwargs)


def create_scene_expert(name: str, **kwargs: Any) -> SceneExpert:
    """A new scene expert by registry name (case-insensitive); keyword arguments go to its constructor.

    Raises :class:`UnknownExpertError` listing the known names."""
    return _create(SCENE_EXPERTS, "scene", name, kwargs)
