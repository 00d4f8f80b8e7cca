"""Is a downloaded model file what its name says, and whole? A check of the file's own structure, for the
downloads that have no published checksum: a web page saved in place of the weights, or a file cut short,
is caught before it is called installed. No PyTorch, no network; nothing in the file is run.

The kinds the downloads (:mod:`moodsic_desktop.perception.model_download`) fetch, by the name's suffix:

- ``.pth`` / ``.bin`` / ``.pt``: a PyTorch checkpoint, either the zip format of ``torch.save`` (a zip
  whose directory, at the end of the file, must be there and list ``data.pkl``) or the older format (a
  series of pickles, then the tensors' bytes: the pickles are read with an unpickler that imports nothing,
  and the file must end exactly where the tensors it announces end);
- ``.safetensors``: the 8-byte header length, the JSON header, and the tensors' bytes, which must end
  exactly at the end of the file;
- ``.onnx``: an ONNX protobuf with a graph, every field inside the file (``model_store.read_onnx_metadata``);
- ``.json``: a JSON object.

Other names are only checked for being non-empty and not a web page. Any thread.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

from moodsic_desktop.perception.model_store import OnnxFileError, read_onnx_metadata

__all__ = ["WeightsFileError", "check_model_file", "file_problem"]

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".bin")
LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C  # the first pickle of torch.save's older format
MAX_HEADER_BYTES = 100 << 20  # a safetensors header larger than this is not one
# Bytes per element of the storage classes the older torch format names.
STORAGE_BYTES = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
    "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16,
}  # fmt: skip


class WeightsFileError(ValueError):
    """A file is not the kind of model file its name says, or is cut short; the message says which, in a
    few plain words (without the file's name)."""


def file_problem(path: str | os.PathLike[str], name: str | None = None) -> str | None:
    """Why ``path`` is not a whole model file of the kind ``name`` (default: its own name) says, or None
    when it is one. A missing or unreadable file is a problem too."""
    try:
        check_model_file(path, name)
    except WeightsFileError as error:
        return str(error)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    return None


def check_model_file(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Raise :class:`WeightsFileError` unless ``path`` is a whole model file of the kind ``name`` (default:
    the file's own name; a ``.part`` file is checked as what it will be named) says. ``OSError`` when it
    cannot be read."""
    path = Path(path)
    suffix = Path(name or path.name).suffix.lower()
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(512)
        if size == 0:
            raise WeightsFileError("the file is empty")
        if head.lstrip()[:1] == b"<":
            raise WeightsFileError("it is a web page, not a model file (an error or login page of the server?)")
        if suffix == ".json":
            _check_json(handle)
        elif suffix == ".safetensors":
            _check_safetensors(handle, size)
        elif suffix in CHECKPOINT_SUFFIXES:
            _check_checkpoint(handle, size, head)
    if suffix == ".onnx":
        try:
            read_onnx_metadata(path)
        except OnnxFileError as error:
            raise WeightsFileError(f"not a whole ONNX model ({error})") from None


def _check_json(handle: Any) -> None:
    handle.seek(0)
    try:
        value = json.loads(handle.read())
    except (ValueError, UnicodeDecodeError):
        raise WeightsFileError("not a whole JSON file") from None
    if not isinstance(value, dict):
        raise WeightsFileError("not the JSON object a model's configuration is")


def _check_safetensors(handle: Any, size: int) -> None:
    handle.seek(0)
    prefix = handle.read(8)
    header_bytes = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else 0
    if not 2 <= header_bytes <= MAX_HEADER_BYTES:
        raise WeightsFileError("not a safetensors file (no header)")
    if 8 + header_bytes > size:
        raise WeightsFileError(f"a cut-short safetensors file ({size} bytes, its header alone needs more)")
    try:
        header = json.loads(handle.read(header_bytes))
        ends = [int(entry["data_offsets"][1]) for key, entry in header.items() if key != "__metadata__"]
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, IndexError, AttributeError):
        raise WeightsFileError("not a safetensors file (its header is not readable)") from None
    expected = 8 + header_bytes + max(ends, default=0)
    if size != expected:
        raise WeightsFileError(f"a cut-short safetensors file ({size} bytes of {expected})")


def _check_checkpoint(handle: Any, size: int, head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        handle.seek(0)
        try:
            with zipfile.ZipFile(handle) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, EOFError):
            raise WeightsFileError("a cut-short or damaged PyTorch checkpoint (its zip directory is missing)") from None
        if not any(member.endswith("data.pkl") for member in names):
            raise WeightsFileError("a zip file, but not a PyTorch checkpoint (no data.pkl inside)")
        return
    handle.seek(0)
    try:
        magic = _InertUnpickler(handle).load()
    except Exception:  # any unpickling failure means "not this format"
        magic = None
    if magic != LEGACY_TORCH_MAGIC:
        raise WeightsFileError("not a PyTorch checkpoint")
    expected = _legacy_checkpoint_end(handle)
    if size != expected:
        raise WeightsFileError(f"a cut-short PyTorch checkpoint ({size} bytes of {expected})")


class _Inert:
    """Stands for every object a checkpoint's pickle names: nothing is imported and nothing is run."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass

    def append(self, value: object) -> None:
        pass

    def extend(self, values: object) -> None:
        pass


class _InertUnpickler(pickle.Unpickler):
    """Reads a pickle with stand-ins for its classes (their names kept as ``qualified_name``), and records
    the storages that torch's older format refers to: key → bytes per element."""

    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        self.storages: dict[str, int] = {}

    def find_class(self, module: str, name: str) -> Any:
        return type(name, (_Inert,), {"qualified_name": name})

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("not a storage")
        element = STORAGE_BYTES.get(getattr(pid[1], "qualified_name", ""))
        if element is None:
            raise pickle.UnpicklingError(f"unknown storage {pid[1]!r}")
        self.storages[str(pid[2])] = element
        return _Inert()


def _legacy_checkpoint_end(handle: Any) -> int:
    """Where a checkpoint of torch's older format ends, read after its magic number: the protocol, the
    system information, the object, the list of storage keys, then per key its element count (8 bytes)
    and its elements."""
    try:
        reader = _InertUnpickler(handle)
        for _ in range(3):  # protocol version, system information, the state dict itself
            reader.load()
        keys = _InertUnpickler(handle).load()  # a plain list of strings
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise pickle.UnpicklingError("no storage keys")
        position = handle.tell()
        for key in keys:
            handle.seek(position)
            count_bytes = handle.read(8)
            if len(count_bytes) < 8:
                return position + 8  # cut short inside the tensors: at least this much was promised
            count = struct.unpack("<q", count_bytes)[0]
            position += 8 + count * reader.storages[key]
        return position
    except Exception:  # a pickle cut short fails in many ways
        raise WeightsFileError("a cut-short or damaged PyTorch checkpoint") from None
