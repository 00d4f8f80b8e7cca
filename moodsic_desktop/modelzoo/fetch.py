"""Downloading upstream weights (``moodsic models fetch``): progress, resume, checksums, licences, and exact
instructions for a manual download when the machine is offline.

The program never downloads anything while it runs; only this explicit command does. Sources
(:data:`SOURCES`):

- ``emonet-8`` / ``emonet-5``: ``emonet_8.pth`` / ``emonet_5.pth`` from the face-analysis/emonet repository
  on GitHub, saved to ``models/downloads/``. CC BY-NC-ND 4.0: the licence must be accepted (prompt, or
  ``--accept-licence``). Upstream publishes no checksums: the file is checked by loading it strictly
  against EmoNet's layout, and its SHA-256 is printed and recorded in the exported model.
- ``clip-b32``, ``dinov3-s16``, ``dinov3-b16``: ``config.json`` and the weights (``pytorch_model.bin`` for
  CLIP, ``model.safetensors`` for DINOv3) from the Hugging Face hub, saved to ``models/hub/<name>/``. When
  the hub sends the ``X-Linked-Etag`` of a weights file (its SHA-256), the download is checked against it.
  DINOv3 repositories are gated: accept their terms on the hub with your account and set ``HF_TOKEN``.

A partial download is kept as ``<file>.part`` and resumed with an HTTP range request. Main thread of the
``moodsic models`` command.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from moodsic_desktop.paths import models_dir

__all__ = [
    "SOURCES",
    "ChecksumError",
    "FetchError",
    "LicenceNotAcceptedError",
    "OfflineError",
    "Source",
    "download",
    "manual_instructions",
]

CHUNK = 1 << 20
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
    what to run next."""

    name: str
    files: tuple[tuple[str, str, str | None], ...]
    folder: str
    licence: str
    must_accept: bool
    gated: bool
    next_step: str


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _headers(gated: bool) -> dict[str, str]:
    headers = {"User-Agent": "moodsic-desktop (models fetch)"}
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if gated and token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    progress: bool = True,
    opener: Callable | None = None,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` when present, with a progress bar on stderr, and
    check the SHA-256 (``sha256``, else the hub's ``X-Linked-Etag`` when it is a SHA-256).
    Returns ``dest``. Raises :class:`OfflineError` when the server cannot be reached, :class:`ChecksumError`
    on a mismatch (the partial file is removed), :class:`FetchError` for HTTP errors."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.is_file() else 0
    request_headers = dict(headers or {})
    if start:
        request_headers["Range"] = f"bytes={start}-"
    try:
        response = (opener or urlopen)(Request(url, headers=request_headers), timeout=timeout)
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
            resumed = start and response.status == 206
            mode = "ab" if resumed else "wb"
            done = start if resumed else 0
            length = response.headers.get("Content-Length")
            total = done + int(length) if length and length.isdigit() else None
            from tqdm import tqdm

            with (
                open(part, mode) as out,
                tqdm(
                    total=total,
                    initial=done,
                    unit="B",
                    unit_scale=True,
                    desc=dest.name,
                    disable=not progress or None,
                    file=sys.stderr,
                    leave=False,
                ) as bar,
            ):
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
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
    lines.append(f"then run: {source.next_step.format(folder=folder)}")
    return "\n".join(lines)
