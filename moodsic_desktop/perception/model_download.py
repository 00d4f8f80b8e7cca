"""Downloading model files over HTTP: resume of a partial file, SHA-256 check, progress and cancel, and exact
instructions for a manual download when the machine is offline. No Qt, no PyTorch.

Used by ``moodsic models fetch`` (through :mod:`moodsic_desktop.modelzoo.fetch`) and by the window's
*Settings → Mood readers…* dialog, which calls :func:`download` on a worker thread. This is the only module
of the program that opens a network connection, and only when the user asks for a download: the running
program never imports it at start (the dialog imports it when the user opens it).

Sources (:data:`SOURCES`):

- ``emonet-8`` / ``emonet-5``: ``emonet_8.pth`` / ``emonet_5.pth`` from the face-analysis/emonet repository
  on GitHub, saved to ``models/downloads/``. CC BY-NC-ND 4.0: the licence must be accepted. Upstream
  publishes no checksums: ``moodsic models export`` checks the file by loading it strictly against
  EmoNet's layout (that conversion needs PyTorch, the ``models`` extra).
- ``clip-b32``, ``dinov3-s16``, ``dinov3-b16``: ``config.json`` and the weights from the Hugging Face hub,
  saved to ``models/hub/<name>/``. When the hub sends the ``X-Linked-Etag`` of a weights file (its SHA-256),
  the download is checked against it. DINOv3 repositories are gated: set ``HF_TOKEN``.

A partial download is kept as ``<file>.part`` and resumed with an HTTP range request. Sizes are in bytes.
Threads: any thread; :func:`download` blocks until done, so the window runs it on a worker thread.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from moodsic_desktop.paths import models_dir

__all__ = [
    "SOURCES",
    "ChecksumError",
    "DownloadCancelledError",
    "FetchError",
    "LicenceNotAcceptedError",
    "OfflineError",
    "Source",
    "download",
    "manual_instructions",
    "request_headers",
    "source_folder",
]

CHUNK = 1 << 16  # bytes per read: small enough for a progress bar that moves and a prompt cancel
EMONET_LICENCE_TEXT = (
    "EmoNet (face-analysis/emonet) code and weights are licensed CC BY-NC-ND 4.0: non-commercial use only, "
    "no derivatives, with attribution (https://creativecommons.org/licenses/by-nc-nd/4.0/). Using it to pick "
    "music in a shop may be commercial use: check before you enable it there."
)
DINOV3_LICENCE_TEXT = (
    "DINOv3 weights are under Meta's DINOv3 License; the hub asks you to accept it with your account "
    "before it lets you download (https://ai.meta.com/resources/models-and-libraries/dinov3-license/)."
)


@dataclass(frozen=True)
class Source:
    """What to download for a name: (url, file name, expected SHA-256 or None) items, the folder (relative
    to ``models/``), the licence text, whether it must be accepted, whether a hub token is needed, and
    what to run next. ``register_as``: the model kind (``model_store.ENTRY_KINDS``) of a single ONNX file
    that is usable as downloaded and registered at once; None when the download still needs a conversion
    with PyTorch (``next_step``)."""

    name: str
    files: tuple[tuple[str, str, str | None], ...]
    folder: str
    licence: str
    must_accept: bool
    gated: bool
    next_step: str
    register_as: str | None = None


def _hub(repo: str) -> str:
    return f"https://huggingface.co/{repo}/resolve/main"


SOURCES: dict[str, Source] = {
    "emonet-8": Source(
        "emonet-8",
        (("https://github.com/face-analysis/emonet/raw/master/pretrained/emonet_8.pth", "emonet_8.pth", None),),
        "downloads",
        EMONET_LICENCE_TEXT,
        True,
        False,
        "moodsic models export emonet --checkpoint {folder}/emonet_8.pth",
    ),
    "emonet-5": Source(
        "emonet-5",
        (("https://github.com/face-analysis/emonet/raw/master/pretrained/emonet_5.pth", "emonet_5.pth", None),),
        "downloads",
        EMONET_LICENCE_TEXT,
        True,
        False,
        "moodsic models export emonet --checkpoint {folder}/emonet_5.pth",
    ),
    "clip-b32": Source(
        "clip-b32",
        (
            (f"{_hub('openai/clip-vit-base-patch32')}/config.json", "config.json", None),
            # The repository's main branch has no safetensors file; pytorch_model.bin also holds the text
            # tower (about 600 MB), which loading the vision model skips.
            (f"{_hub('openai/clip-vit-base-patch32')}/pytorch_model.bin", "pytorch_model.bin", None),
        ),
        "hub/clip-b32",
        "OpenAI CLIP weights: MIT licence.",
        False,
        False,
        "moodsic models train-scene --findingemo FINDINGEMO_FOLDER --backbone clip-b32",
    ),
    "dinov3-s16": Source(
        "dinov3-s16",
        (
            (f"{_hub('facebook/dinov3-vits16-pretrain-lvd1689m')}/config.json", "config.json", None),
            (f"{_hub('facebook/dinov3-vits16-pretrain-lvd1689m')}/model.safetensors", "model.safetensors", None),
        ),
        "hub/dinov3-s16",
        DINOV3_LICENCE_TEXT,
        False,
        True,
        "moodsic models train-scene --findingemo FINDINGEMO_FOLDER --backbone dinov3-s16",
    ),
    "dinov3-b16": Source(
        "dinov3-b16",
        (
            (f"{_hub('facebook/dinov3-vitb16-pretrain-lvd1689m')}/config.json", "config.json", None),
            (f"{_hub('facebook/dinov3-vitb16-pretrain-lvd1689m')}/model.safetensors", "model.safetensors", None),
        ),
        "hub/dinov3-b16",
        DINOV3_LICENCE_TEXT,
        False,
        True,
        "moodsic models train-scene --findingemo FINDINGEMO_FOLDER --backbone dinov3-b16",
    ),
}


class FetchError(RuntimeError):
    """A download failed; the message says why and what to do."""


class OfflineError(FetchError):
    """The server could not be reached (no internet, DNS, firewall)."""


class ChecksumError(FetchError):
    """The downloaded file's SHA-256 differs from the expected one (the file is removed)."""


class LicenceNotAcceptedError(FetchError):
    """The user did not accept a licence that must be accepted."""


class DownloadCancelledError(FetchError):
    """The user stopped the download; the part already downloaded is kept for a resume."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def request_headers(gated: bool) -> dict[str, str]:
    """The HTTP headers of a download: a user agent, and the hub token (``HF_TOKEN``) for gated sources."""
    headers = {"User-Agent": "moodsic-desktop (models fetch)"}
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if gated and token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


class _Body(Protocol):
    """An HTTP response body (``http.client.HTTPResponse``); ``read1`` is used too where it has one."""

    def read(self, amount: int, /) -> bytes: ...


def _receive(
    response: _Body,
    part: Path,
    resumed: bool,
    done: int,
    total: int | None,
    on_progress: Callable[[int, int | None], None] | None,
    cancelled: Callable[[], bool] | None,
    url: str,
    name: str,
) -> int:
    """Copy the response body into ``part`` (appending when ``resumed``); returns the bytes now in it."""
    read = getattr(response, "read1", None) or response.read  # read1: what has arrived, without waiting for more
    if on_progress is not None:
        on_progress(done, total)
    try:
        with open(part, "ab" if resumed else "wb") as out:
            while True:
                if cancelled is not None and cancelled():
                    raise DownloadCancelledError(f"{name}: download stopped; {done} bytes kept")
                chunk = read(CHUNK)
                if not chunk:
                    return done
                out.write(chunk)
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done, total)
    except (TimeoutError, OSError) as error:
        host = url.split("/")[2]
        raise OfflineError(f"the connection to {host} broke ({error}); {done} bytes kept") from None


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    on_progress: Callable[[int, int | None], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    opener: Callable | None = None,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` when present, and check the SHA-256 (``sha256``,
    else the hub's ``X-Linked-Etag`` when it is a SHA-256).

    ``on_progress(done_bytes, total_bytes_or_None)`` is called on the calling thread after every chunk
    (and once at the start); ``cancelled()`` is asked between chunks, and True stops the download with
    :class:`DownloadCancelledError`, keeping ``dest.part`` for a later resume. ``timeout`` is in seconds,
    per network operation. Returns ``dest``. Raises :class:`OfflineError` when the server cannot be
    reached, :class:`ChecksumError` on a mismatch (the partial file is removed), :class:`FetchError` for HTTP
    errors. Blocks: any thread but a GUI thread."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.is_file() else 0
    sent_headers = dict(headers or {})
    if start:
        sent_headers["Range"] = f"bytes={start}-"
    try:
        response = (opener or urlopen)(Request(url, headers=sent_headers), timeout=timeout)
    except HTTPError as error:
        if error.code == 416 and start:  # the partial file is already complete
            response = None
        elif error.code in (401, 403):
            raise FetchError(f"{url}: access denied (HTTP {error.code}); a gated repository needs HF_TOKEN") from None
        else:
            raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise OfflineError(f"cannot reach {url.split('/')[2]} ({reason})") from None
    expected = sha256
    if response is not None:
        with response:
            etag = (response.headers.get("X-Linked-Etag") or "").strip('W/"')  # the hub's SHA-256 of LFS files
            if expected is None and re.fullmatch(r"[0-9a-f]{64}", etag):
                expected = etag
            resumed = bool(start) and response.status == 206
            done = start if resumed else 0
            length = response.headers.get("Content-Length")
            total = done + int(length) if length and length.isdigit() else None
            done = _receive(response, part, resumed, done, total, on_progress, cancelled, url, dest.name)
    if expected is not None:
        actual = _sha256(part)
        if actual != expected:
            part.unlink(missing_ok=True)
            raise ChecksumError(f"{dest.name}: SHA-256 {actual} differs from the expected {expected}; removed it")
    os.replace(part, dest)
    return dest


def source_folder(source: Source, root: Path | None = None) -> Path:
    """Where a source's files go: ``models/<folder>``."""
    return (root if root is not None else models_dir()) / source.folder


def manual_instructions(source: Source, root: Path | None = None) -> str:
    """What to download by hand, where to put it and what to run next (for an offline machine)."""
    folder = source_folder(source, root)
    lines = [f"download by hand on a machine with internet and copy into {folder}:"]
    lines += [f"  {url}  →  {folder / name}" for url, name, _ in source.files]
    if source.gated:
        lines.append("  (the repository is gated: log in on huggingface.co and accept its licence first)")
    if source.next_step:
        lines.append(f"then run: {source.next_step.format(folder=folder)}")
    return "\n".join(lines)
