"""``moodsic models fetch``: the command-line face of :mod:`moodsic_desktop.perception.model_download` (sources,
resume, checksums, licences, offline instructions), with a progress bar on stderr.

The HTTP part lives in :mod:`moodsic_desktop.perception.model_download`, which needs no PyTorch, so that the window's
*Mood readers* dialog can download with the same code. Main thread of the ``moodsic models`` command.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from moodsic_desktop.perception import model_download
from moodsic_desktop.perception.model_download import (
    DINOV3_LICENCE_TEXT,
    EMONET_LICENCE_TEXT,
    SOURCES,
    ChecksumError,
    FetchError,
    IncompleteDownloadError,
    LicenceNotAcceptedError,
    OfflineError,
    Source,
    WrongFileError,
    download_problem,
    manual_instructions,
    source_folder,
)
from moodsic_desktop.perception.model_download import request_headers as _headers

__all__ = [
    "DINOV3_LICENCE_TEXT",
    "EMONET_LICENCE_TEXT",
    "SOURCES",
    "ChecksumError",
    "FetchError",
    "IncompleteDownloadError",
    "LicenceNotAcceptedError",
    "OfflineError",
    "Source",
    "WrongFileError",
    "_headers",
    "download",
    "download_problem",
    "manual_instructions",
    "source_folder",
]


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """:func:`moodsic_desktop.perception.model_download.download` with a tqdm progress bar on stderr (bytes)."""
    from tqdm import tqdm

    with tqdm(
        unit="B", unit_scale=True, desc=Path(dest).name, disable=not progress or None, file=sys.stderr, leave=False
    ) as bar:

        def show(done: int, total: int | None) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        return model_download.download(url, dest, sha256=sha256, headers=headers, timeout=timeout, on_progress=show)
