"""The one place that creates onnxruntime sessions: provider choice, thread count, quiet fallbacks.

Device choice (``RuntimeConfig.device``):

- ``"auto"`` (default): CUDA where onnxruntime-gpu finds a usable NVIDIA GPU, else DirectML (Windows,
  ``onnxruntime-directml``), else CoreML (macOS), else the CPU. TensorRT is never chosen automatically
  (it compiles engines for minutes on first use).
- ``"cpu"``, ``"cuda"``, ``"directml"``, ``"coreml"``: that provider first, the CPU behind it.

The environment variables ``MOODSIC_ONNX_DEVICE`` and ``MOODSIC_ONNX_THREADS`` override the defaults (not
an explicit argument). ``threads`` is onnxruntime's intra-op thread count; 0 lets onnxruntime use one
thread per physical core.

When a GPU provider is compiled in but cannot start (no driver, CUDA or cuDNN libraries missing),
onnxruntime prints a red multi-line error and quietly runs on the CPU. Here that attempt runs with
onnxruntime's logger muted, its outcome is remembered for the process, and the reason becomes one plain
line, :attr:`OnnxModel.status` (for example ``"CUDA not usable (CUDA 12/13 or cuDNN 9 libraries not
found): running on the CPU"``), meant for the status bar and ``moodsic models list``.

Threads: :func:`create_session` may be called from any thread (it mutes onnxruntime's process-wide logger
for the duration of the call, under a lock). An :class:`OnnxModel` may be run from one thread at a time
(onnxruntime sessions are thread-safe for ``run``, but the experts that own them are not).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import onnxruntime as ort

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.perception.model_store import META_PREFIX

__all__ = [
    "DEVICE_CHOICES",
    "ModelTerms",
    "OnnxDevice",
    "OnnxModel",
    "OnnxRuntimeError",
    "RuntimeConfig",
    "create_session",
    "joint_terms",
    "plan_providers",
    "validate_onnx_device",
]

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
DIRECTML = "DmlExecutionProvider"
COREML = "CoreMLExecutionProvider"

OnnxDevice = Literal["auto", "cpu", "cuda", "directml", "coreml"]
"""Where model experts run (``RuntimeConfig.device``); the strings are what settings, the CLI and
``MOODSIC_ONNX_DEVICE`` carry."""
DEVICE_CHOICES: tuple[OnnxDevice, ...] = get_args(OnnxDevice)
_PROVIDER_OF_CHOICE = {"cpu": CPU, "cuda": CUDA, "directml": DIRECTML, "coreml": COREML}
_AUTO_ORDER = (CUDA, DIRECTML, COREML)
DEVICE_LABELS = {CPU: "CPU", CUDA: "GPU (CUDA)", DIRECTML: "GPU (DirectML)", COREML: "GPU (CoreML)"}
_SHORT = {CUDA: "CUDA", DIRECTML: "DirectML", COREML: "CoreML"}

# onnxruntime severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal.
_QUIET_SEVERITY = 3
_MUTED_SEVERITY = 4
_LOGGER_LOCK = threading.Lock()
_PROVIDER_FAILURES: dict[str, str] = {}  # provider -> why it could not start, remembered per process
ort.set_default_logger_severity(_QUIET_SEVERITY)


validate_onnx_device = FixedChoice("ONNX device", DEVICE_CHOICES)
"""``device`` as an :data:`OnnxDevice`; ``ValueError`` when it is not one (a setting, the environment)."""


class OnnxRuntimeError(RuntimeError):
    """A model file could not be opened as an onnxruntime session (message says which and why)."""


@dataclass(frozen=True)
class RuntimeConfig:
    """Where and how wide sessions run: ``device`` one of :data:`DEVICE_CHOICES`, ``threads`` the intra-op
    thread count (0: onnxruntime's default, one per physical core)."""

    device: OnnxDevice = "auto"
    threads: int = 0

    def __post_init__(self) -> None:
        validate_onnx_device(self.device)  # a caller without type checks may still pass any str
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")

    @classmethod
    def from_environment(cls, device: OnnxDevice | str | None = None, threads: int | None = None) -> RuntimeConfig:
        """Explicit values first, then ``MOODSIC_ONNX_DEVICE`` / ``MOODSIC_ONNX_THREADS``, then defaults."""
        env_device = os.environ.get("MOODSIC_ONNX_DEVICE", "").strip().lower() or "auto"
        env_threads = os.environ.get("MOODSIC_ONNX_THREADS", "").strip()
        return cls(
            device=validate_onnx_device(device if device is not None else env_device),
            threads=threads if threads is not None else (int(env_threads) if env_threads.isdigit() else 0),
        )


def _nvidia_driver_present() -> bool:
    """Whether the NVIDIA driver library can be loaded (cheap; says nothing about CUDA/cuDNN)."""
    names = ["nvcuda.dll"] if sys.platform == "win32" else ["libcuda.so.1", "libcuda.so"]
    found = ctypes.util.find_library("cuda")
    if found:
        names.append(found)
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def plan_providers(device: str = "auto", available: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """The providers to ask for, in order (always ending with the CPU), and notes on preferred providers
    skipped before trying (not compiled in, no driver, failed earlier in this process). Pure apart from
    the cheap driver probe; any thread."""
    available = list(ort.get_available_providers() if available is None else available)
    wanted = list(_AUTO_ORDER) if device == "auto" else [_PROVIDER_OF_CHOICE[device]]
    providers: list[str] = []
    notes: list[str] = []
    for provider in wanted:
        if provider == CPU:
            continue
        short = _SHORT[provider]
        if provider not in available:
            if device != "auto":
                notes.append(f"{short} is not available in this onnxruntime build")
            continue
        if provider in _PROVIDER_FAILURES:
            notes.append(f"{short} not usable ({_PROVIDER_FAILURES[provider]})")
            continue
        if provider == CUDA and not _nvidia_driver_present():
            _PROVIDER_FAILURES[CUDA] = "no NVIDIA driver found"
            notes.append(f"{short} not usable (no NVIDIA driver found)")
            continue
        providers.append(provider)
    providers.append(CPU)
    return providers, notes


_FAILURE_HINTS = {
    CUDA: "CUDA 12/13 or cuDNN 9 libraries not found, or the GPU is not supported",
    DIRECTML: "DirectML could not start on this GPU",
    COREML: "CoreML could not take this model",
}


LICENCE_KEY = META_PREFIX + "licence"
COMMERCIAL_USE_KEY = META_PREFIX + "commercial_use"
"""The metadata keys ``moodsic models`` writes into every model file it exports (``"true"``/``"false"``)."""


@dataclass(frozen=True)
class ModelTerms:
    """What the owner must know about a model that runs, read once from its file (:attr:`OnnxModel.terms`).

    ``licence``: the licence's words from the file's metadata ("unknown" when it names none);
    ``commercial_use``: whether that licence allows use in a shop or café (False unless the file says
    ``"true"``); ``status``: one plain line when a preferred GPU provider could not be used, else None."""

    licence: str = "unknown"
    commercial_use: bool = False
    status: str | None = None

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], status: str | None = None) -> ModelTerms:
        """The terms a model file's ``metadata`` states (the one place that reads them)."""
        return cls(
            licence=metadata.get(LICENCE_KEY) or "unknown",
            commercial_use=metadata.get(COMMERCIAL_USE_KEY, "false").lower() == "true",
            status=status,
        )

    @property
    def licence_words(self) -> str:
        """The licence, with ", non-commercial use only" after one that forbids commercial use without
        saying so itself ("CC BY-NC-ND 4.0, non-commercial use only"; "MIT")."""
        said = self.commercial_use or "non-commercial" in self.licence
        return self.licence if said else f"{self.licence}, non-commercial use only"


def joint_terms(*parts: ModelTerms) -> ModelTerms:
    """The terms of an expert built from several models (a scene head and its backbone): the first part's
    licence that is known, commercial use only when every part allows it, the first part's status."""
    licence = next((part.licence for part in parts if part.licence != "unknown"), "unknown")
    status = next((part.status for part in parts if part.status), None)
    return ModelTerms(licence, all(part.commercial_use for part in parts), status)


@dataclass
class OnnxModel:
    """An onnxruntime session with what the program needs to know about it.

    ``device`` is a label for the status bar ("CPU", "GPU (CUDA)", …); ``status`` one plain line when a
    preferred GPU provider could not be used (``None`` otherwise); ``metadata`` the model file's custom
    metadata (string to string); ``terms`` its licence, commercial use and status (:class:`ModelTerms`).
    """

    session: ort.InferenceSession
    path: Path | None
    provider: str
    device: str
    status: str | None
    metadata: dict[str, str]

    @property
    def terms(self) -> ModelTerms:
        return ModelTerms.from_metadata(self.metadata, self.status)

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.session.get_inputs()]

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.session.get_outputs()]

    def run(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None) -> list[np.ndarray]:
        """Run the session: ``feeds`` maps input names to arrays; returns the outputs in order (all of them
        when ``outputs`` is None). One thread at a time per owning expert."""
        return self.session.run(list(outputs) if outputs is not None else None, dict(feeds))


def create_session(model: str | os.PathLike[str] | bytes, config: RuntimeConfig | None = None) -> OnnxModel:
    """Open an ONNX model (a path or the serialized bytes) on the best provider of ``config``.

    Raises :class:`OnnxRuntimeError` when the file is missing or onnxruntime cannot load it. Any thread.
    """
    config = config or RuntimeConfig.from_environment()
    path = None if isinstance(model, bytes) else Path(model)
    if path is not None and not path.is_file():
        raise OnnxRuntimeError(f"model file not found: {path}")
    providers, notes = plan_providers(config.device)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = _QUIET_SEVERITY
    # Worker threads sleep between runs instead of spinning: the face detector, the other model and the
    # GUI share the same few cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if config.threads:
        options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
    source = model if isinstance(model, bytes) else str(path)
    try:
        with _LOGGER_LOCK:
            ort.set_default_logger_severity(_MUTED_SEVERITY)
            try:
                session = ort.InferenceSession(source, sess_options=options, providers=providers)
            finally:
                ort.set_default_logger_severity(_QUIET_SEVERITY)
    except Exception as error:  # onnxruntime raises its own exception types (Fail, InvalidGraph, …)
        where = path if path is not None else "model bytes"
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OnnxRuntimeError(f"onnxruntime cannot load {where}: {first_line}") from error
    used = session.get_providers()
    actual = used[0] if used else CPU
    for provider in providers:
        if provider == actual:
            break
        if provider not in used and provider not in _PROVIDER_FAILURES:
            _PROVIDER_FAILURES[provider] = _FAILURE_HINTS.get(provider, "could not start")
        notes.append(f"{_SHORT.get(provider, provider)} not usable ({_PROVIDER_FAILURES.get(provider, 'failed')})")
    device = DEVICE_LABELS.get(actual, actual)
    status = f"{'; '.join(dict.fromkeys(notes))}: running on the {device}" if notes else None
    if status:
        log.info("onnxruntime: %s", status)
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    return OnnxModel(session=session, path=path, provider=actual, device=device, status=status, metadata=metadata)
