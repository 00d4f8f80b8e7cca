"""``moodsic analyze``: the mood pipeline over a video file, as fast as it can, into a JSON report; it prints
what played when and why (``core.report_story``), then the metrics."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from moodsic_desktop import atomic_files
from moodsic_desktop.audio.library.schema import default_index_path
from moodsic_desktop.cli._common import (
    EXIT_OK,
    UserError,
    check_output_file,
    non_negative,
    setting_value,
    step_times,
)
from moodsic_desktop.core.metrics import song_switches
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.core.report import SessionReport, session_settings
from moodsic_desktop.core.report_story import story_lines
from moodsic_desktop.core.settings_schema import ALPHA, DWELL, FUSION, MODE, REPEAT_WINDOW, TAU
from moodsic_desktop.perception.sources import SourceError, VideoFileSource
from moodsic_desktop.perception.synthetic import DEMO_SEGMENT_S, demo_step_times, write_demo_clip
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline, load_library
from moodsic_desktop.session.playback import PlaybackSession


def add_analyze_parser(commands: argparse._SubParsersAction) -> None:
    """The ``analyze`` sub-command."""
    analyze = commands.add_parser(
        "analyze",
        help="run the mood pipeline over a video file and write a JSON report",
        description="Run PERCEIVE → STABILIZE → MATCH over a video as fast as possible and write a JSON "
        "report (settings, timeline, song switches, metrics). V-A values are in reference space [-1, 1].",
    )
    source = analyze.add_mutually_exclusive_group(required=True)
    source.add_argument("video", nargs="?", type=Path, help="the video file to analyse")
    source.add_argument("--demo", action="store_true", help="analyse a short clip generated on the spot")
    analyze.add_argument("--library", type=Path, help="a DEAM folder (default: the built-in station)")
    analyze.add_argument("--out", type=Path, default=Path("report.json"), help="report path (default report.json)")
    analyze.add_argument(
        "--alpha",
        type=setting_value(ALPHA),
        default=ALPHA.default,
        help=f"EMA weight of an estimate arriving 1 s after the last, {ALPHA.range_text()} (default %(default)s)",
    )
    analyze.add_argument(
        "--tau",
        type=setting_value(TAU),
        default=TAU.default,
        help="hold a dimension while its standard deviation exceeds this (reference units), "
        f"{TAU.range_text()} (default %(default)s)",
    )
    analyze.add_argument(
        "--min-dwell",
        "--dwell",  # its name before the settings had one name each; still taken
        dest=DWELL.name,
        type=setting_value(DWELL),
        metavar="SECONDS",
        default=DWELL.default,
        help=f"minimum seconds a song plays before a switch, {DWELL.range_text()} (default %(default)s)",
    )
    analyze.add_argument(
        "--repeat-window",
        dest=REPEAT_WINDOW.name,
        type=setting_value(REPEAT_WINDOW),
        default=REPEAT_WINDOW.default,
        metavar="MINUTES",
        help="minutes before a song comes back while another song near the mood has not played in them, "
        f"{REPEAT_WINDOW.range_text()} (default %(default)s; shortened by itself for a small library)",
    )
    analyze.add_argument("--mode", choices=MODE.choices, default=MODE.default)
    analyze.add_argument("--fusion", choices=FUSION.choices, default=FUSION.default)
    analyze.add_argument(
        "--scene-interval",
        type=non_negative,
        default=PipelineSettings.scene_interval_s,
        help="seconds between scene readings (default %(default)s)",
    )
    analyze.add_argument(
        "--mood-steps",
        type=step_times,
        default=None,
        metavar="T1,T2,…",
        help="seconds at which the video's mood changes, for the step-response metric (--demo: 20,40)",
    )
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    analyze.set_defaults(run=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    """``moodsic analyze``: the whole pipeline over a file, as fast as it can, into a JSON report."""
    settings = EngineSettings(
        alpha=args.alpha,
        tau=args.tau,
        min_dwell_s=args.min_dwell_s,
        mode=args.mode,
        repeat_window_s=args.repeat_window_min * 60.0,
        pipeline=PipelineSettings(
            fusion_mode=args.fusion, scene_interval_s=args.scene_interval, simulate_song_end=True
        ),
    )
    with tempfile.TemporaryDirectory(prefix="moodsic-demo-") as scratch:
        video = write_demo_clip(Path(scratch) / "demo.mp4") if args.demo else args.video
        try:
            source = VideoFileSource(video)
        except SourceError as error:
            raise UserError(str(error)) from None
        with source:
            inputs = {"the input video": None if args.demo else video}
            if args.library is None:
                inputs["the library index"] = default_index_path()
            check_report_path(args.out, inputs)
            try:
                library = load_library(args.library, n_stations=settings.n_stations)
            except (OSError, ValueError) as error:
                raise UserError(f"cannot use the library: {error}") from None
            if library.problem:  # a damaged library index: the built-in station plays
                print(f"moodsic analyze: warning: {library.problem}", file=sys.stderr)
            pipeline = build_pipeline(library, settings)
            steps = args.mood_steps
            if steps is None and args.demo:
                steps = demo_step_times(DEMO_SEGMENT_S)
            report = SessionReport(
                session_settings(pipeline, "generated demo clip" if args.demo else str(video), library.origin),
                step_times=steps or (),
            )
            # the session the window drives, silent: no audio, no index writes (no song plays, fails or is banned)
            session = PlaybackSession(
                pipeline, library, report=report, contain_failures=False, summary_period_s=math.inf
            )
            play_through(source, session, report, quiet=args.quiet)
    if report.metrics.steps == 0:
        raise UserError(f"no frame could be decoded from {video}")
    try:
        atomic_files.write_text(args.out, report.to_json())
    except OSError as error:
        raise UserError(f"cannot write the report {args.out}: {error}") from None
    summary = report.metrics.summary()
    written = report.to_dict()
    print("What played (minutes:seconds into the video):")
    for line in story_lines(written["timeline"], written["switches"]):
        print(f"  {line}")
    print(
        f"analysed {summary['steps']} frames ({summary['duration_s']:.1f} s): {song_switches(summary['switches'])}, "
        f"report written to {args.out}"
    )
    print(reading_line(summary, pipeline))
    print(stability_line(summary))
    return EXIT_OK


def play_through(source: VideoFileSource, session: PlaybackSession, report: SessionReport, quiet: bool) -> None:
    """Step ``session`` over every frame of ``source`` (a progress bar on stderr unless ``quiet``; a reader
    replaced by its fallback is said there too), close it, and record in ``report`` what was read of the video,
    saying on stderr when it ended early (truncated while it was read, or damaged) and where."""
    total = source.frame_count or None
    with tqdm(total=total, unit="frame", desc="analyze", disable=quiet, file=sys.stderr) as progress:
        frames = 0
        while (frame := source.read()) is not None:
            step = session.step(frame.image, frame.timestamp_s).step
            for notice in step.notices if step is not None else ():
                progress.write(f"moodsic analyze: warning: at {frame.timestamp_s:.1f} s: {notice}", file=sys.stderr)
            progress.update(1)
            frames += 1
    session.close()
    early = source.ended_early()
    report.input_video = {"frames_read": frames, "frames_expected": source.frame_count, "ended_early": False}
    if early is not None:
        report.input_video.update(early.to_dict(), ended_early=True)
        print(f"moodsic analyze: warning: {early.message()}", file=sys.stderr)


def reading_line(summary: dict, pipeline: Pipeline) -> str:
    """Who read the mood and how many faces, in one line."""
    rate, mean = summary.get("face_detection_rate"), summary.get("faces_read_mean")
    face = pipeline.face_expert.name if pipeline.face_expert is not None else "none"
    scene = pipeline.scene_expert.name if pipeline.scene_expert is not None else "none"
    faces = (
        "no face run"
        if rate is None
        else f"faces in view in {rate:.0%} of the frames, {mean:.1f} read per frame "
        f"(at most {summary['faces_read_max']})"
    )
    return f"reading: {faces}; face reader {face}, scene reader {scene}"


def check_report_path(out: Path, inputs: dict[str, Path | None]) -> None:
    """Refuse (``UserError``) a report path that would replace one of ``inputs`` (what → path; the same
    file also through a symbolic or hard link) or that cannot be written: a folder, or a folder that does not
    exist or takes no new file, or something other than a regular file (a FIFO, a device). Run before a long
    analysis, so it fails at once; it leaves nothing behind."""
    if out.is_dir():
        raise UserError(f"cannot write the report {out}: it is a folder")
    check_output_file(out, "report")
    for what, path in inputs.items():
        with contextlib.suppress(OSError):  # either missing: they cannot be the same file
            if path is not None and os.path.samefile(out, path):
                raise UserError(f"the report {out} would replace {what} {path}; choose another --out")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as error:
        raise UserError(f"cannot write the report {out}: {error.strerror or error}") from None
    os.close(handle)
    os.unlink(probe)


def stability_line(summary: dict) -> str:
    """The stability metrics of a session summary in one line (``-`` where nothing was measured)."""

    def show(value: float | None, unit: str = "", scale: float = 1.0, digits: int = 1) -> str:
        return "-" if value is None else f"{value * scale:.{digits}f}{unit}"

    dwell = summary.get("dwell_s") or {}
    steps = summary.get("mood_steps") or {}
    halfway = ", ".join(show(h, " s") for h in steps.get("halfway_s", [])) or "-"
    held = steps.get("held_share") or []
    if held:  # a long halfway time goes with a reading the stabiliser held while unsure
        halfway += f" (held while unsure: {', '.join(show(share, ' %', 100.0, 0) for share in held)} of that time)"
    return (
        f"stability: jitter reduction {show(summary['jitter_reduction'], ' %', 100.0, 0)}, "
        f"held updates {show(summary['gating_rate'], ' %', 100.0, 0)}, "
        f"switches per hour {show(summary['switches_per_hour'])}, "
        f"dwell median {show(dwell.get('median'), ' s')} (min {show(dwell.get('min'), ' s')}, "
        f"max {show(dwell.get('max'), ' s')}), "
        f"mean target-to-song distance {show(summary['mean_target_distance'], digits=3)}, "
        f"halfway after mood steps: {halfway}"
    )
