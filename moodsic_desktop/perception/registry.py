"""Name → class registry of the experts, so settings and the command line can name them.

``create_face_expert("face-geometry")`` builds a :class:`FaceGeometryExpert`. Model experts are found by
the ``kind`` of their entry in ``models/manifest.json`` (:data:`MODEL_EXPERTS`): ``create_model_expert``
builds one from a checked :class:`~moodsic_desktop.perception.model_store.ModelStatus`. A second face
model (for example one whose licence allows commercial use) joins by adding its kind here and in
``model_store.ENTRY_KINDS``. Creating an expert loads its model (any thread; the experts are then called
from the capture/pipeline thread). The tables are read-only after import.
"""

from __future__ import annotations

from typing import Any

from moodsic_desktop.core.types import FaceExpert, SceneExpert
from moodsic_desktop.perception.emonet_expert import EmoNetExpert, OnnxFaceExpert
from moodsic_desktop.perception.face_geometry import FaceGeometryExpert
from moodsic_desktop.perception.fer_expert import FerExpert
from moodsic_desktop.perception.model_store import ModelStatus
from moodsic_desktop.perception.onnx_runtime import RuntimeConfig
from moodsic_desktop.perception.onnx_scene_expert import OnnxSceneExpert
from moodsic_desktop.perception.scene_statistics import SceneStatisticsExpert

__all__ = [
    "FACE_EXPERTS",
    "MODEL_EXPERTS",
    "SCENE_EXPERTS",
    "ModelExpert",
    "UnknownExpertError",
    "create_face_expert",
    "create_model_expert",
    "create_scene_expert",
]

FACE_EXPERTS: dict[str, type] = {"face-geometry": FaceGeometryExpert}
SCENE_EXPERTS: dict[str, type] = {"scene-statistics": SceneStatisticsExpert}
# Model kind (manifest entry) → expert class; each class builds itself from the entry's files.
MODEL_EXPERTS: dict[str, type] = {"emonet": EmoNetExpert, "fer2013": FerExpert, "scene": OnnxSceneExpert}
ModelExpert = FerExpert | OnnxFaceExpert | OnnxSceneExpert
"""An expert that runs model files: a face or scene expert with the models' ``terms`` (licence, commercial
use, status: ``onnx_runtime.ModelTerms``) and the ``device`` it runs on."""
# Kinds "auto" prefers, best first, when several face models are installed.
FACE_MODEL_PREFERENCE: tuple[str, ...] = ("emonet", "fer2013")


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


def create_model_expert(status: ModelStatus, runtime: RuntimeConfig | None = None, **kwargs: Any) -> ModelExpert:
    """The expert for a usable model entry (see ``model_store.scan_models``); keyword arguments go to its
    constructor. Raises :class:`UnknownExpertError` for a kind without an expert, ``OnnxRuntimeError`` or
    a ``ValueError`` subclass when the files cannot be opened or do not fit."""
    cls = MODEL_EXPERTS.get(status.kind)
    if cls is None:
        raise UnknownExpertError(f"no expert runs models of kind {status.kind!r}; known: {', '.join(MODEL_EXPERTS)}")
    if cls is OnnxSceneExpert:
        return cls(status.files["backbone"], status.files["head"], runtime=runtime, label=status.name, **kwargs)
    return cls(status.files["model"], runtime=runtime, label=status.name, **kwargs)
