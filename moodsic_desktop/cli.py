"""The ``moodsic`` command: sub-commands for headless work (``analyze`` …).

Errors in what the user gave (a missing video, a folder that is not a DEAM library) end the command with
one clear line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from moodsic_desktop import __version__
from moodsic_desktop.assembly import EngineSettings, build_pipeline, load_library, quiet_native_logs
from moodsic_desktop.core.fusion import FUSION_MODES
from moodsic_desktop.core.matcher import MATCH_MODES
from moodsic_desktop.core.pipeline import PipelineSettings

EXIT_OK = 0
EXIT_FAILURE = 1


class UserError(Exception):
    """A problem with what the user asked for; its message is shown as one line."""


def _unit_interval(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moodsic", description="Moodsic Desktop: music that follows the mood.")
    parser.add_argument("--version", action="version", version=f"moodsic {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        type=_unit_interval,
        default=EngineSettings.alpha,
        help="EMA weight of an estimate arriving 1 s after the last (default %(default)s)",
    )
    analyze.add_argument(
        "--tau",
        type=_non_negative,
        default=EngineSettings.tau,
        help="hold a dimension while its standard deviation exceeds this (default %(default)s)",
    )
    analyze.add_argument(
        "--dwell",
        type=_non_negative,
        default=EngineSettings.min_dwell_s,
        help="minimum seconds a song plays before a switch (default %(default)s)",
    )
    analyze.add_argument("--mode", choices=MATCH_MODES, default=EngineSettings.mode)
    analyze.add_argument("--fusion", choices=FUSION_MODES, default=PipelineSettings.fusion_mode)
    analyze.add_argument(
        "--scene-interval",
        type=_non_negative,
        default=PipelineSettings.scene_interval_s,
        help="seconds between scene readings (default %(default)s)",
    )
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    analyze.set_defaults(run=run_analyze)
    return parser


def run_analyze(args: argparse.Namespace) -> int:
    """``moodsic analyze``: the whole pipeline over a file, as fast as it can, into a JSON report."""
    quiet_native_logs()
    from tqdm import tqdm

    from moodsic_desktop.core.report import SessionReport
    from moodsic_desktop.perception.sources import SourceError, VideoFileSource
    from moodsic_desktop.perception.synthetic import write_demo_clip

    settings = EngineSettings(
        alpha=args.alpha,
        tau=args.tau,
        min_dwell_s=args.dwell,
        mode=args.mode,
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
            try:
                library = load_library(args.library, n_stations=settings.n_stations)
            except (OSError, ValueError) as error:
                raise UserError(f"cannot use the library: {error}") from None
            pipeline = build_pipeline(library, settings)
            report = SessionReport(
                {
                    "video": "generated demo clip" if args.demo else str(video),
                    "library": library.origin,
                    "songs": len(library.songs),
                    "stations": library.stations.describe() if library.stations else None,
                    "experts": {
                        "face": pipeline.face_expert.name if pipeline.face_expert else None,
                        "scene": pipeline.scene_expert.name if pipeline.scene_expert else None,
                    },
                    "engine": settings.to_dict(),
                }
            )
            total = source.frame_count or None
            with tqdm(total=total, unit="frame", desc="analyze", disable=args.quiet, file=sys.stderr) as progress:
                while (frame := source.read()) is not None:
                    report.add(pipeline.process(frame.image, frame.timestamp_s))
                    progress.update(1)
            pipeline.close()
    if report.metrics.steps == 0:
        raise UserError(f"no frame could be decoded from {video}")
    try:
        report.write(args.out)
    except OSError as error:
        raise UserError(f"cannot write the report {args.out}: {error}") from None
    summary = report.metrics.summary()
    print(
        f"analysed {summary['steps']} frames ({summary['duration_s']:.1f} s): {summary['switches']} song switches, "
        f"report written to {args.out}"
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.run(args)
    except UserError as error:
        print(f"moodsic {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"moodsic {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
