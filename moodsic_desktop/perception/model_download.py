"""Downloading model files over HTTP: resume of a partial file, SHA-256 check, progress and cancel, and exact
instructions for a manual download when the machine is offline. No Qt, no PyTorch.

Used by ``moodsic models fetch`` (``cli/models.py``, with a progress bar on the terminal) and by the window's
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

A partial download is kept as ``<file>.part`` and resumed with an HTTP range request. A file is called
downloaded only when every byte the server promised came and it is whole by its format
(:mod:`moodsic_desktop.perception.weights_format`): upstream publishes no checksums for most of them. The
hub token goes only to the host it is for, over HTTPS. Sizes are in bytes.
Threads: any thread; :func:`download` blocks until done, so the window runs it on a worker thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from moodsic_desktop import atomic_files
from moodsic_desktop.paths import models_dir
from moodsic_desktop.perception.weights_format import file_problem

__all__ = [
    "SOURCES",
    "ChecksumError",
    "DownloadCancelledError",
    "FetchError",
    "IncompleteDownloadError",
    "LicenceNotAcceptedError",
    "OfflineError",
    "Source",
    "WrongFileError",
    "credentials_allowed",
    "download",
    "download_problem",
    "manual_instructions",
    "request_headers",
    "source_folder",
]

CHUNK = 1 << 16  # bytes per read: small enough for a progress bar that moves and a prompt cancel
MIN_RATE = 1024.0  # bytes per second, averaged over the timeout: a slower transfer has stalled
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


class IncompleteDownloadError(FetchError):
    """The transfer stopped before the whole file came (cut off, too slow, silent); the part is kept."""


class WrongFileError(FetchError):
    """What came is not the model file (a web page, a file cut short); it is removed."""


class DownloadCancelledError(FetchError):
    """The user stopped the download; the part already downloaded is kept for a resume."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def request_headers(gated: bool) -> dict[str, str]:
    """The HTTP headers of a download: a user agent, and the hub token (``HF_TOKEN``) for gated sources.
    :func:`download` sends the token only to the host of the URL it is given, and only over HTTPS."""
    headers = {"User-Agent": "moodsic-desktop (models fetch)"}
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if gated and token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def download_problem(path: str | os.PathLike[str], sha256: str | None = None) -> str | None:
    """Why a file already at ``path`` is not a whole download (its SHA-256 differs from ``sha256``, or it
    is not whole by its format: :mod:`moodsic_desktop.perception.weights_format`), or None when it is."""
    problem = file_problem(path)
    if problem is None and sha256 is not None and _sha256(Path(path)) != sha256:
        problem = "its SHA-256 differs from the expected one"
    return problem


# ---------------------------------------------------------------------------------------------- credentials
def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"https": 443, "http": 80}.get(scheme)


def credentials_allowed(home_url: str, url: str) -> bool:
    """Whether credentials meant for ``home_url``'s host may go with a request for ``url``: only over
    HTTPS, and only to the same host and port."""
    return _origin(url)[0] == "https" and _origin(url) == _origin(home_url)


class _CredentialsStayHome(HTTPRedirectHandler):
    """Follows redirects, sending the ``Authorization`` header only where :func:`credentials_allowed`."""

    def __init__(self, home_url: str, credentials: str | None) -> None:
        self.home_url, self.credentials = home_url, credentials

    def redirect_request(self, req: Request, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.remove_header("Authorization")
            if self.credentials and credentials_allowed(self.home_url, newurl):
                new.add_header("Authorization", self.credentials)
        return new


# ---------------------------------------------------------------------------------------------- transfer
class _Body(Protocol):
    """An HTTP response body (``http.client.HTTPResponse``); ``read1`` is used too where it has one."""

    def read(self, amount: int, /) -> bytes: ...


@dataclass
class _Transfer:
    """One download's settings: its name, the server's host, the part file, the limits, the callbacks."""

    name: str
    host: str
    part: Path
    timeout: float
    min_rate: float
    on_progress: Callable[[int, int | None], None] | None
    cancelled: Callable[[], bool] | None

    def kept(self, done: int) -> str:
        return f"the {done} bytes received are kept for the next try"


def _receive(response: _Body, transfer: _Transfer, resumed: bool, done: int, total: int | None) -> int:
    """Copy the response body into the part file (appending when ``resumed``); returns the bytes now in it.
    A transfer slower than ``min_rate`` bytes per second over ``timeout`` seconds, silent for ``timeout``
    seconds, or cut off ends with :class:`IncompleteDownloadError`, the bytes so far kept; a part file
    that cannot be written (a full disk) with :class:`FetchError`."""
    read = getattr(response, "read1", None) or response.read  # read1: what has arrived, without waiting for more
    if transfer.on_progress is not None:
        transfer.on_progress(done, total)
    window_start, window_done = time.monotonic(), done
    try:
        with open(transfer.part, "ab" if resumed else "wb") as out:
            while True:
                if transfer.cancelled is not None and transfer.cancelled():
                    raise DownloadCancelledError(f"{transfer.name}: download stopped; {done} bytes kept")
                chunk = _read_chunk(read, transfer, done)
                if not chunk:
                    return done
                out.write(chunk)
                done += len(chunk)
                if transfer.on_progress is not None:
                    transfer.on_progress(done, total)
                elapsed = time.monotonic() - window_start
                if elapsed >= transfer.timeout:
                    if done - window_done < transfer.min_rate * elapsed:
                        raise IncompleteDownloadError(
                            f"{transfer.name}: {transfer.host} is too slow ({done - window_done} bytes in "
                            f"{elapsed:.1f} s); {transfer.kept(done)}"
                        )
                    window_start, window_done = time.monotonic(), done
    except OSError as error:
        raise FetchError(f"cannot write {transfer.part}: {error.strerror or error}") from None


def _read_chunk(read: Callable[[int], bytes], transfer: _Transfer, done: int) -> bytes:
    """The next chunk of the body (empty at its end), or :class:`IncompleteDownloadError` when the server
    is silent for ``timeout`` seconds or the connection breaks."""
    try:
        return read(CHUNK)
    except TimeoutError:
        raise IncompleteDownloadError(
            f"{transfer.name}: no data from {transfer.host} for {transfer.timeout:g} s; {transfer.kept(done)}"
        ) from None
    except (OSError, HTTPException) as error:
        reason = type(error).__name__ if isinstance(error, HTTPException) else error
        raise IncompleteDownloadError(
            f"{transfer.name}: the connection to {transfer.host} was cut off ({reason}); {transfer.kept(done)}"
        ) from None


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total bytes) of a ``Content-Range`` header (``bytes 100-199/1000``, ``bytes */1000``)."""
    match = re.fullmatch(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)", (value or "").strip())
    if match is None:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (int(total) if total != "*" else None)


def _number(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _open(url: str, headers: dict[str, str], credentials: str | None, part: Path, timeout: float) -> Any:
    """The response for ``url``, resuming ``part`` when it is there; None when a 416 says that ``part`` is
    already whole. A 416 to any other part (left from another version of the file) removes it and starts
    again from the first byte."""
    start = part.stat().st_size if part.is_file() else 0
    request = Request(url, headers=headers)
    if start:
        request.add_header("Range", f"bytes={start}-")
    if credentials and credentials_allowed(url, url):
        request.add_header("Authorization", credentials)
    opener = build_opener(_CredentialsStayHome(url, credentials))
    try:
        return opener.open(request, timeout=timeout)
    except HTTPError as error:
        total = _content_range(error.headers.get("Content-Range"))[1] if error.headers else None
        error.close()
        if error.code == 416 and start:
            if total == start:
                return None
            part.unlink()
            return _open(url, headers, credentials, part, timeout)
        if error.code in (401, 403):
            raise FetchError(f"{url}: access denied (HTTP {error.code}); a gated repository needs HF_TOKEN") from None
        raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (URLError, TimeoutError, OSError, HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise OfflineError(f"cannot reach {_origin(url)[1]} ({reason})") from None


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    min_rate: float = MIN_RATE,
    on_progress: Callable[[int, int | None], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` when present; check that every promised byte
    came (``Content-Length``, and ``Content-Range``'s total on a resume), the SHA-256 (``sha256``, else the
    hub's ``X-Linked-Etag`` when it is a SHA-256), and that the file is whole by its format
    (:mod:`moodsic_desktop.perception.weights_format`) before it takes the name ``dest``.

    ``headers``: sent with the request, except an ``Authorization`` header, which goes only to ``url``'s
    own host, only over HTTPS, and is dropped on any redirect elsewhere. ``on_progress(done_bytes,
    total_bytes_or_None)`` is called on the calling thread after every chunk (and once at the start);
    ``cancelled()`` is asked between chunks, and True stops the download with
    :class:`DownloadCancelledError`, keeping ``dest.part`` for a later resume. ``timeout`` is in seconds:
    the longest wait for the server, and the window over which the transfer must average ``min_rate``
    bytes per second. A file already at ``dest`` (callers download again only over a damaged one, see
    :func:`download_problem`) is kept as ``dest.damaged``. Returns ``dest``.

    Raises :class:`OfflineError` when the server cannot be reached, :class:`IncompleteDownloadError` when
    the transfer stops early (the part is kept), :class:`ChecksumError` or :class:`WrongFileError` when
    what came is not the file (the part is removed), :class:`FetchError` for HTTP errors. Blocks: any
    thread but a GUI thread."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    sent_headers = dict(headers or {})
    credentials = sent_headers.pop("Authorization", None)
    response = _open(url, sent_headers, credentials, part, timeout)
    expected = sha256
    if response is not None:
        with response:
            etag = (response.headers.get("X-Linked-Etag") or "").strip('W/"')  # the hub's SHA-256 of LFS files
            if expected is None and re.fullmatch(r"[0-9a-f]{64}", etag):
                expected = etag
            start = part.stat().st_size if part.is_file() else 0
            length = _number(response.headers.get("Content-Length"))
            resumed = bool(start) and response.status == 206
            total = length
            if resumed:
                first, whole = _content_range(response.headers.get("Content-Range"))
                if first is not None and first != start:
                    part.unlink()
                    raise FetchError(f"{dest.name}: the server resumed at byte {first}, not {start}; try again")
                total = whole if whole is not None else start + length if length is not None else None
            transfer = _Transfer(dest.name, _origin(url)[1], part, timeout, min_rate, on_progress, cancelled)
            done = _receive(response, transfer, resumed, start if resumed else 0, total)
        if total is not None and done < total:
            raise IncompleteDownloadError(
                f"{dest.name}: the server stopped after {done} of {total} bytes; {transfer.kept(done)}"
            )
    if expected is not None:
        actual = _sha256(part)
        if actual != expected:
            part.unlink(missing_ok=True)
            raise ChecksumError(f"{dest.name}: SHA-256 {actual} differs from the expected {expected}; removed it")
    problem = file_problem(part, dest.name)
    if problem is not None:
        part.unlink(missing_ok=True)
        raise WrongFileError(f"{dest.name}: what came is not the model file: {problem}; removed it")
    if dest.exists():
        os.replace(dest, dest.with_name(dest.name + ".damaged"))  # kept aside, never deleted
    atomic_files.put_in_place(part, dest)
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
