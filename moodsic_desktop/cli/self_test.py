"""``--self-test``: the whole program, headless, on a clip made on the spot; exit status 0, 1 or 3.

``python main.py --self-test`` (or the frozen ``Moodsic --self-test``, or ``moodsic --self-test``; all three
come to :func:`main`) runs these stages in order and prints one line per stage,
``ok  <stage>  <what it saw> (<seconds>)``:

1. ``models``: onnxruntime runs the face model in the box on the CPU, and every ``*.onnx`` file under
   ``models/`` loads;
2. ``clip``: OpenCV writes an MP4 (the demo clip's three moods with a face photograph pasted in:
   ``perception.synthetic.write_face_clip``) and reads it back;
3. ``library``: the music library, as the window would choose it (a ``--library`` DEAM folder, else the
   index ``music/library.sqlite`` beside the program, else the built-in station);
4. ``perception``: MediaPipe face detection, the face expert and the scene expert on every frame;
5. ``stabiliser``: the gated EMA gives finite values in [-1, 1];
6. ``matcher``: songs chosen from the library; the JSON session report is written and read back;
7. ``audio``: the chosen song is decoded and resampled, then played for a second through the audio engine
   (a real output when one opens, else the engine's silent clock).

The first stage that fails ends the run with one line on stderr, ``self-test FAILED at <stage>: <why>``,
and exit status 1 (with ``--verbose`` also the traceback and the log). When no sound output opens (no sound
card, no PortAudio), the first line of the report says so (``No sound output: <why>``) before the stages
run; every stage is still tested (the audio stage plays through the engine's silent clock), and a run whose
stages all pass then ends with exit status 3 (``EXIT_NO_SOUND``) and the line
``self-test FAILED at sound output: <why>`` on stderr, so an owner checking the speakers is not told all is
well. A failing stage still gives 1. No Qt and no window: it runs where
no display exists. When there is no stdout (a windowed build on Windows) the report goes to
``self-test.txt`` beside the program, or in the temporary folder when that is not writable.

Threads: runs on the calling thread; the audio engine's threads are started and closed again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import platform
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from moodsic_desktop import __version__, atomic_files, paths
from moodsic_desktop.audio.decoding import AudioDecodeError, StreamDecoder
from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.audio.output import AudioBackend
from moodsic_desktop.core.metrics import song_switches
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.perception import fer_expert
from moodsic_desktop.perception.fer_expert import FER_CLASSES, INPUT_SIZE
from moodsic_desktop.perception.sources import SourceError, VideoFileSource, read_picture
from moodsic_desktop.perception.synthetic import write_face_clip
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline, load_library
from moodsic_desktop.session.playback import PlaybackSession

if TYPE_CHECKING:
    from moodsic_desktop.core.library import MusicLibrary
    from moodsic_desktop.core.pipeline import Pipeline, StepRecord
    from moodsic_desktop.core.song import Song

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NO_SOUND = 3
"""Every stage passed, but no sound output opened: the music would play silently."""
FACE_PHOTO = "selftest_face.jpg"
REPORT_FILE = "self-test.txt"
CLIP_SECONDS_PER_MOOD = 2.0
CLIP_FPS = 10.0
CLIP_SIZE = (640, 360)
MIN_FACE_RATE = 0.5
"""The face must be found in at least this share of the clip's frames (it is in every one, ~110 px wide)."""
PLAY_SECONDS = 1.0
PLAY_TIMEOUT_S = 20.0
SOUND_PROBE_TIMEOUT_S = 10.0


class SelfTestError(Exception):
    """A stage saw something wrong; the message says what, in one line."""


# ---- the run


@dataclass
class _Run:
    """What the stages hand on to each other."""

    library_folder: Path | None
    scratch: Path
    audio_backend: AudioBackend | None
    frames: list[tuple[np.ndarray, float]] = field(default_factory=list)
    library: MusicLibrary | None = None
    pipeline: Pipeline | None = None
    records: list[StepRecord] = field(default_factory=list)
    errors: list[logging.LogRecord] = field(default_factory=list)


class _Capture(logging.Handler):
    """Keeps the log records of the run (WARNING and up), to quote the first error in the failure line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _captured_logs(verbose: bool, err: TextIO) -> Iterator[_Capture]:
    """Route the root logger's WARNING+ records into a ``_Capture``; without ``verbose`` nothing else shows
    them (the failure line quotes what matters)."""
    root = logging.getLogger()
    capture = _Capture()
    muted = [(handler, handler.level) for handler in root.handlers] if not verbose else []
    for handler, _ in muted:
        handler.setLevel(logging.CRITICAL + 1)
    extra = logging.StreamHandler(err) if verbose and not root.handlers else None
    if extra is not None:
        root.addHandler(extra)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        if extra is not None:
            root.removeHandler(extra)
        for handler, level in muted:
            handler.setLevel(level)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _stage_models(run: _Run) -> str:
    import onnxruntime as ort

    cpu = ["CPUExecutionProvider"]
    box = fer_expert.bundled_model_path()
    try:
        session = ort.InferenceSession(str(box), providers=cpu)
        (expression,) = session.run(["expression"], {"image": np.zeros((1, 1, INPUT_SIZE, INPUT_SIZE), np.float32)})
    except Exception as error:  # onnxruntime raises its own exception types for every kind of bad file
        raise SelfTestError(f"the face model in the box {box} does not run ({_first_line(error)})") from error
    if expression.shape != (1, len(FER_CLASSES)) or not np.all(np.isfinite(expression)):
        raise SelfTestError(f"the face model in the box gave {expression.tolist()} for a blank face")
    folder = paths.models_dir()
    if folder.exists() and not folder.is_dir():
        raise SelfTestError(f"{folder} is not a folder (the program looks for ONNX models in it)")
    files = sorted(folder.rglob("*.onnx")) if folder.is_dir() else []
    for path in files:
        try:
            ort.InferenceSession(str(path), providers=cpu)
        except Exception as error:  # onnxruntime raises its own exception types for every kind of bad file
            raise SelfTestError(f"the model {path} does not load in onnxruntime ({_first_line(error)})") from error
    found = (
        f"{len(files)} ONNX model(s) load ({', '.join(p.name for p in files)})"
        if files
        else "no ONNX model (the built-in experts read the mood)"
    )
    return f"onnxruntime {ort.__version__} runs the face model in the box on the CPU; {folder}: {found}"


def _stage_clip(run: _Run) -> str:
    photo = paths.resources_dir() / FACE_PHOTO
    face = read_picture(photo)
    if face is None:
        raise SelfTestError(f"the face photograph {photo} is missing or unreadable")
    try:
        clip = write_face_clip(run.scratch / "self-test.mp4", face, CLIP_SECONDS_PER_MOOD, CLIP_FPS, CLIP_SIZE)
    except (OSError, ValueError) as error:
        raise SelfTestError(str(error)) from error
    try:
        with VideoFileSource(clip) as source:
            while (frame := source.read()) is not None:
                run.frames.append((frame.image, frame.timestamp_s))
    except SourceError as error:
        raise SelfTestError(f"OpenCV cannot read back the clip it wrote: {error}") from error
    expected = round(CLIP_SECONDS_PER_MOOD * CLIP_FPS * 3)
    if len(run.frames) < expected * 0.9:
        raise SelfTestError(f"OpenCV read back {len(run.frames)} of the {expected} frames it wrote")
    height, width = run.frames[0][0].shape[:2]
    size_kb = clip.stat().st_size // 1024
    return f"wrote and read back {len(run.frames)} frames of {width} x {height} with a face ({size_kb} KB MP4)"


def _stage_library(run: _Run) -> str:
    try:
        run.library = load_library(run.library_folder)
    except (OSError, ValueError) as error:
        raise SelfTestError(f"cannot use the library: {error}") from error
    library = run.library
    with_audio = sum(song.path is not None for song in library.songs)
    stations = len(library.stations.describe()) if library.stations is not None else 0
    if with_audio == 0:
        raise SelfTestError(
            f"none of the {len(library.songs)} songs of the {library.origin} has an audio file "
            "(is the music/ folder beside the program writable?)"
        )
    line = f"{library.origin}: {len(library.songs)} songs ({with_audio} with audio), {stations} stations"
    return f"{line}; {library.problem}" if library.problem else line  # a damaged index, as the window says


def _stage_perception(run: _Run) -> str:
    assert run.library is not None
    run.pipeline = pipeline = build_pipeline(run.library, EngineSettings(min_dwell_s=2.0))
    # the session the window drives, silent (the audio stage plays through an engine of its own)
    session = PlaybackSession(pipeline, run.library, contain_failures=False)
    start = time.perf_counter()
    stepped = [session.step(image, now).step for image, now in run.frames]
    run.records = [step for step in stepped if step is not None]  # a step's snapshot always carries its step
    per_frame_ms = (time.perf_counter() - start) * 1000.0 / max(len(run.records), 1)
    if pipeline.error_counts:
        failed = ", ".join(f"{name} {count} times" for name, count in pipeline.error_counts.items())
        first = next((r.exc_info[1] for r in run.errors if r.exc_info and r.exc_info[1] is not None), None)
        cause = f" (first: {_first_line(first)})" if first is not None else ""
        raise SelfTestError(f"failed while reading the clip: {failed}{cause}")
    steps = len(run.records)
    with_face = sum(r.faces_found > 0 for r in run.records)
    face_readings = sum(r.face is not None and r.face_fresh for r in run.records)
    scene_readings = sum(r.scene is not None and r.scene_fresh for r in run.records)
    if with_face < MIN_FACE_RATE * steps:
        raise SelfTestError(f"MediaPipe found the face in only {with_face} of {steps} frames of the test clip")
    face_expert, scene_expert = pipeline.face_expert, pipeline.scene_expert
    assert face_expert is not None and scene_expert is not None  # build_pipeline always gives both
    if face_readings == 0:
        raise SelfTestError(f"the face expert ({face_expert.name}) read none of the {with_face} faces")
    if scene_readings == 0:
        raise SelfTestError(f"the scene expert ({scene_expert.name}) gave no reading")
    return (
        f"MediaPipe found the face in {with_face}/{steps} frames; {face_expert.name}: {face_readings} "
        f"readings; {scene_expert.name}: {scene_readings} readings ({per_frame_ms:.0f} ms per frame)"
    )


def _stage_stabiliser(run: _Run) -> str:
    values = [r.stabilized for r in run.records if r.stabilized is not None]
    if not values:
        raise SelfTestError("no fused reading reached the stabiliser")
    for value in values:
        if not all(math.isfinite(x) and -1.0 <= x <= 1.0 for x in (value.valence, value.arousal)):
            raise SelfTestError(f"the stabiliser gave V {value.valence}, A {value.arousal} (outside [-1, 1])")
    held = sum(value.held for value in values)
    last = values[-1]
    return f"{len(values)} updates, {held} with a dimension held; now V {last.valence:+.2f}, A {last.arousal:+.2f}"


def _stage_matcher(run: _Run) -> str:
    assert run.library is not None
    decisions = [r.decision for r in run.records if r.decision is not None]
    if not decisions:
        raise SelfTestError("the matcher chose no song")
    known = {song.song_id for song in run.library.songs}
    strangers = {d.song.song_id for d in decisions} - known
    if strangers:
        raise SelfTestError(f"the matcher chose songs that are not in the library: {sorted(strangers)}")
    report = SessionReport({"video": "self-test clip", "library": run.library.origin})
    for record in run.records:
        report.add(record)
    path = atomic_files.write_text(run.scratch / "report.json", report.to_json())
    written = json.loads(path.read_text(encoding="utf-8"))
    if written["metrics"]["steps"] != len(run.records):
        raise SelfTestError(f"the session report holds {written['metrics']['steps']} of {len(run.records)} steps")
    last = decisions[-1]
    station = f", station {last.station}" if last.station else ""
    chosen = len({d.song.song_id for d in decisions})
    switches = song_switches(written["metrics"]["switches"])  # after the first pick, as `moodsic analyze` counts
    return (
        f"{chosen} {'song' if chosen == 1 else 'songs'} chosen, {switches}; now {last.song.display_name!r}"
        f"{station}; session report written"
    )


def _play(run: _Run, song: Song) -> str:
    """Play ``song`` for ``PLAY_SECONDS`` through a new engine; returns the engine's output status."""

    class Listener(EngineListener):
        def __init__(self) -> None:
            self.started = threading.Event()
            self.failure: str | None = None

        def song_started(self, song: Song) -> None:
            self.started.set()

        def song_failed(self, song: Song, reason: str) -> None:
            self.failure = reason
            self.started.set()

    listener = Listener()
    engine = AudioEngine(backend=run.audio_backend, listener=listener, prebuffer_s=0.5)
    try:
        engine.start()
        engine.play(song, fade_in_s=0.05)
        deadline = time.monotonic() + PLAY_TIMEOUT_S
        while time.monotonic() < deadline and listener.failure is None and engine.position_s < PLAY_SECONDS:
            listener.started.wait(0.05)
        if listener.failure is not None:
            raise SelfTestError(f"the audio engine could not play {song.display_name!r}: {listener.failure}")
        if engine.position_s < PLAY_SECONDS:
            raise SelfTestError(
                f"the audio engine played {engine.position_s:.2f} s of {song.display_name!r} in "
                f"{PLAY_TIMEOUT_S:.0f} s (output: {engine.status})"
            )
        return engine.status
    finally:
        engine.stop(fade_s=0.0)
        engine.close()


def _stage_audio(run: _Run) -> str:
    decisions = [r.decision for r in run.records if r.decision is not None]
    song = decisions[-1].song
    if song.path is None:
        raise SelfTestError(f"the chosen song {song.display_name!r} has no audio file")
    samplerate = 48000
    try:
        with StreamDecoder(song.path, samplerate) as decoder:
            chunk = decoder.read()
            rate = decoder.info.samplerate
    except AudioDecodeError as error:
        raise SelfTestError(str(error)) from error
    if chunk is None or len(chunk) == 0:
        raise SelfTestError(f"{song.path} decoded to no audio")
    peak = float(np.abs(chunk).max())
    if peak < 1e-4:
        raise SelfTestError(f"{song.path} decodes to silence")
    status = _play(run, song)
    return (
        f"{song.path.name}: decoded ({rate} Hz to {samplerate} Hz, peak {peak:.2f}) and played {PLAY_SECONDS:.0f} s; "
        f"output: {status}"
    )


def no_sound_output(backend: AudioBackend | None, timeout_s: float = SOUND_PROBE_TIMEOUT_S) -> str | None:
    """Why no sound output opens, in one line, or None when one does: an audio engine on ``backend``
    (None: PortAudio) is started, asked for its output and closed again. Calling thread; blocks until the
    engine has tried (at most ``timeout_s`` seconds, after which an output not yet open counts as none)."""
    engine = AudioEngine(backend=backend)
    try:
        engine.start()
        settled = engine.wait_idle(timeout=timeout_s)
        if engine.sound_ok:
            return None
        why = engine.status if settled else f"the audio output did not open within {timeout_s:.0f} s"
    finally:
        engine.close()
    # "No sound: …. Playing silently; Moodsic keeps trying …": the engine's advice for the window
    why = why.removeprefix("No sound: ")
    return why.split(". Playing silently")[0] if not why.startswith("Playing silently") else why


STAGES: tuple[tuple[str, Callable[[_Run], str]], ...] = (
    ("models", _stage_models),
    ("clip", _stage_clip),
    ("library", _stage_library),
    ("perception", _stage_perception),
    ("stabiliser", _stage_stabiliser),
    ("matcher", _stage_matcher),
    ("audio", _stage_audio),
)


def _environment() -> str:
    kind = "frozen build" if getattr(sys, "frozen", False) else "from source"
    return (
        f"Moodsic {__version__} self-test ({kind}; Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}); program folder {paths.app_dir()}"
    )


@contextlib.contextmanager
def _report_streams(out: TextIO | None, err: TextIO | None) -> Iterator[tuple[TextIO, TextIO]]:
    """stdout and stderr, or one report file when the program has no console (windowed build on Windows)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if out is not None and err is not None:
        yield out, err
        return
    for folder in (paths.app_dir(), Path(tempfile.gettempdir())):
        try:
            handle = (folder / REPORT_FILE).open("w", encoding="utf-8")
        except OSError:
            continue
        with handle:
            yield out or handle, err or handle
        return
    raise SystemExit(EXIT_FAILED)


def run_self_test(
    library_folder: Path | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    verbose: bool = False,
    audio_backend: AudioBackend | None = None,
    stages: Sequence[tuple[str, Callable[[_Run], str]]] = STAGES,
) -> int:
    """Run the stages (see the module docstring); print the report; return 0, 1 after the first failure,
    or 3 when every stage passed but no sound output opens (checked first, only when the audio stage runs).

    ``library_folder``: a DEAM folder instead of the library beside the program; ``out``/``err``: where
    the report and the failure line go (default stdout, stderr); ``audio_backend``: the audio engine's back
    end (None: PortAudio, else the silent clock); ``stages``: the stages to run (tests replace some)."""
    with _report_streams(out, err) as (report, problems), _captured_logs(verbose, problems) as capture:
        began = time.perf_counter()
        no_sound = no_sound_output(audio_backend) if any(stage is _stage_audio for _, stage in stages) else None
        if no_sound is not None:
            print(
                f"No sound output: {no_sound}. The speakers cannot be tested; every other stage is tested below "
                f"(exit status {EXIT_NO_SOUND}).",
                file=report,
                flush=True,
            )
        print(_environment(), file=report, flush=True)
        with tempfile.TemporaryDirectory(prefix="moodsic-self-test-") as scratch:
            run = _Run(library_folder=library_folder, scratch=Path(scratch), audio_backend=audio_backend)
            run.errors = capture.records
            try:
                failure = _run_stages(run, stages, report, problems, verbose)
            finally:
                if run.pipeline is not None:
                    run.pipeline.close()
        if failure is not None:
            print(failure, file=problems, flush=True)
            return EXIT_FAILED
        seconds = time.perf_counter() - began
        if no_sound is not None:
            print(f"self-test: every stage passed in {seconds:.1f} s, but there is no sound output", file=report)
            print(f"self-test FAILED at sound output: {no_sound}", file=problems, flush=True)
            return EXIT_NO_SOUND
        print(f"self-test passed in {seconds:.1f} s", file=report, flush=True)
        return EXIT_OK


def _run_stages(
    run: _Run, stages: Sequence[tuple[str, Callable[[_Run], str]]], report: TextIO, problems: TextIO, verbose: bool
) -> str | None:
    """Run ``stages`` in order, printing a line for each; returns the failure line of the first that fails."""
    for name, stage in stages:
        start = time.perf_counter()
        try:
            detail = stage(run)
        except SelfTestError as failure:
            return f"self-test FAILED at {name}: {failure}"
        except Exception as error:  # anything else is a failure of that stage, said in one line
            if verbose:
                traceback.print_exc(file=problems)
            return f"self-test FAILED at {name}: {_first_line(error)}"
        print(f"ok  {name:<10} {detail} ({time.perf_counter() - start:.1f} s)", file=report, flush=True)
    return None


_OPTIONS_WITH_A_VALUE = ("--library", "--source")


def asks_for_self_test(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks for the self-test: ``--self-test`` before any command word (``main.py`` and
    ``moodsic`` take it; the desktop program's ``--library DIR`` and ``--source X`` may come first)."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--self-test":
            return True
        if token in _OPTIONS_WITH_A_VALUE:
            next(tokens, None)
        elif not token.startswith("-"):
            return False
    return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moodsic",
        description="Run the whole program headless on a generated clip and exit. Exit status "
        f"{EXIT_OK}: passed, {EXIT_FAILED}: a stage failed, {EXIT_NO_SOUND}: every stage passed but no sound "
        "output opens.",
    )
    parser.add_argument("--self-test", action="store_true", required=True, help="run the self-test")
    parser.add_argument("--library", type=Path, help="a DEAM folder to play from (default: the music library)")
    parser.add_argument("--source", help=argparse.SUPPRESS)  # the window's option: the self-test makes its clip
    parser.add_argument("-v", "--verbose", action="store_true", help="also the traceback and the log of a failure")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The self-test's entry (``main.py --self-test``, ``moodsic --self-test``): parse ``argv``, run it and
    return its exit status. No Qt is loaded. Calling thread."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run_self_test(args.library, verbose=args.verbose)
