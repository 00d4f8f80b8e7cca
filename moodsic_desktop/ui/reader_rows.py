"""The rows of *Settings → Mood readers…*: every reader (expert) with its state, in plain words. Pure: a
function of ``model_store.scan_models``, the names of the window's current experts and the catalogue of
downloads Install offers; no Qt, any thread (the dialog calls it on the GUI thread).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moodsic_desktop.perception.model_store import ENTRY_KINDS, StoreScan
from moodsic_desktop.perception.weights_format import file_problem
from moodsic_desktop.session.assembly import BUNDLED_FACE_MODEL

BUILTIN_FACE = "face-geometry (built-in)"
BUILTIN_SCENE = "scene-statistics (built-in)"


@dataclass(frozen=True)
class ReaderRow:
    """One reader as the dialog shows it. ``state``: "in use", "installed", "not installed", "downloaded",
    "broken" or "built in"; ``detail``: plain words (why broken, what it needs); ``install``: the catalogue
    key Install downloads (None: no Install); ``entry``: the manifest entry Remove deletes (None: none);
    ``technical``: what someone setting the computer up needs to know (tools, commands), the tooltip."""

    role: str
    title: str
    state: str
    detail: str
    licence: str
    install: str | None = None
    entry: str | None = None
    technical: str = ""


def _plain_problem(problem: str) -> str:
    """A scan problem ("missing: …", "corrupt: …") in a café owner's words, keeping the file name."""
    head, _, rest = problem.partition(": ")
    words = {
        "missing": "a file is missing",
        "corrupt": "a file is damaged or incomplete",
        "mismatched": "a file is not the one expected",
        "unsupported": "made for another version of Moodsic",
    }
    return f"{words[head]} ({rest})" if head in words else problem


def reader_rows(
    scan: StoreScan,
    face_in_use: str | None,
    scene_in_use: str | None,
    catalogue: Mapping[str, Any],
) -> list[ReaderRow]:
    """The rows of the dialog: every reader with its state. ``face_in_use``/``scene_in_use`` are the
    ``name`` of the window's current experts ("emonet-8 (ONNX)", "face-geometry (built-in)", …). Pure."""
    in_use = {face_in_use, scene_in_use}
    rows: list[ReaderRow] = []
    offered = dict(catalogue)
    for status in scan.models:
        used = f"{status.name} (ONNX)" in in_use
        source_key = status.name if status.name in offered else None
        offered.pop(status.name, None)
        commercial = "commercial use allowed" if status.commercial_use else "non-commercial use only"
        if not status.usable:
            state = "broken"
            detail = "Not used: " + "; ".join(_plain_problem(p) for p in status.problems) + "."
            if source_key:
                detail += " Remove it and install it again."
        else:
            state = "in use" if used else "installed"
            detail = (
                "Reads the mood now."
                if used
                else "Installed, standing by: another reader is preferred, or it was added after the start."
            )
        title = f"{status.name} ({status.expert} model)"
        rows.append(ReaderRow(status.expert, title, state, detail, f"{status.licence}, {commercial}", source_key,
                              status.name))  # fmt: skip
    for key, source in offered.items():
        file_names = [name for _, name, _ in source.files]
        downloaded = all(file_problem(scan.directory / source.folder / name) is None for name in file_names)
        licence = source.licence.split(":")[0] if source.must_accept else source.licence
        terms = "non-commercial use only, you must accept its licence" if source.must_accept else "see its licence"
        needs = "a download" + ("" if source.register_as else ", then a conversion on a computer set up for it")
        technical = (
            ""
            if source.register_as
            else "Converting needs PyTorch (the “models” extra): "
            + source.next_step.format(folder=scan.directory / source.folder)
        )
        if downloaded and not source.register_as:
            state = "downloaded"
            detail = "Downloaded, not converted yet: that is done on a computer set up for it (point here for how)."
        else:
            state, detail = "not installed", f"Needs {needs}." + (" Point here for how." if technical else "")
        role = ENTRY_KINDS[source.register_as].expert if source.register_as else "face" if "emonet" in key else "scene"
        rows.append(ReaderRow(role, f"{key} (download)", state, detail, f"{licence} ({terms})", key, None, technical))
    bundled_used = f"{BUNDLED_FACE_MODEL} (ONNX)" in in_use
    rows.append(
        ReaderRow(
            "face", "FER-2013 (in the box)", "in use" if bundled_used else "built in",
            "Reads broad facial expressions; comes with the program, nothing to download."
            + ("" if bundled_used else " Standing by: another reader is in use."),
            "MIT, commercial use allowed",
        )
    )  # fmt: skip
    rows.append(
        ReaderRow(
            "face", "Face geometry (built in)", "in use" if BUILTIN_FACE in in_use else "built in",
            "A rough reading from the shape of the face; the last fallback, needs nothing.", "part of Moodsic",
        )
    )  # fmt: skip
    if not any(r.role == "scene" and r.entry for r in rows):
        rows.append(
            ReaderRow(
                "scene", "Scene model", "not installed",
                "None installed: one is made (trained) on a computer set up for it; see the README, “Models”.",
                "depends on the model",
                technical="Needs PyTorch and a training run on the FindingEmo photos (`moodsic models train-scene`).",
            )
        )  # fmt: skip
    rows.append(
        ReaderRow(
            "scene", "Scene statistics (built in)", "in use" if BUILTIN_SCENE in in_use else "built in",
            "Reads the colours and movement of the room; needs nothing.", "part of Moodsic",
        )
    )  # fmt: skip
    return rows
