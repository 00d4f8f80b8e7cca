"""Benchmark of the library index (not a test): importing the 1,802-song DEAM fixture.

Prints the wall-clock time of: an import with no audio (every song listed as not playable), a re-import
of the same (idempotent: nothing written), an import with generated MP3s for N songs (their headers
probed), ``check`` (every file decoded in full), and the synthesis of the built-in station's 12 pieces.
Machines here are noisy: run it twice. Run:

    python benchmarks/bench_library_import.py [--audio 200] [--seconds 10] [--fixture ../shared/fixtures/deam]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moodsic_desktop.audio.builtin.cache import ensure_builtin_audio  # noqa: E402
from moodsic_desktop.audio.library.importers import RatedImporter  # noqa: E402
from moodsic_desktop.audio.library.index import LibraryIndex  # noqa: E402
from moodsic_desktop.audio.library.sources import read_deam  # noqa: E402
from tests.library_files import add_deam_audio, copy_deam_layout  # noqa: E402

T = TypeVar("T")


def timed(label: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    print(f"{label:<58} {time.perf_counter() - started:8.2f} s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", type=Path, default=REPO.parent / "shared" / "fixtures" / "deam")
    parser.add_argument("--audio", type=int, default=200, help="songs that get a generated MP3 (default 200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each MP3 (default 10)")
    parser.add_argument("--no-synthesis", action="store_true", help="skip the built-in station")
    args = parser.parse_args()
    if not (args.fixture / "DEAM_Annotations").is_dir():
        print(f"the DEAM fixture is not at {args.fixture}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="moodsic-bench-") as scratch:
        root = Path(scratch)
        folder = copy_deam_layout(args.fixture, root / "DEAM")
        with LibraryIndex(root / "no-audio.sqlite") as index:
            report = timed("import 1,802 songs, no audio", lambda: RatedImporter(index).import_deam(folder))
            print(f"  {report.imported} songs, {report.playable} playable, {len(report.not_playable)} listed")
            timed("re-import (unchanged)", lambda: RatedImporter(index).import_deam(folder))
        ids = [song.song_id for song in read_deam(folder).songs[: args.audio]]
        timed(
            f"write {len(ids)} MP3s of {args.seconds:g} s (test data, not the import)",
            lambda: add_deam_audio(folder, ids, seconds=args.seconds),
        )
        with LibraryIndex(root / "audio.sqlite") as index:
            report = timed(
                f"import 1,802 songs, {len(ids)} with audio", lambda: RatedImporter(index).import_deam(folder)
            )
            print(f"  {report.playable} playable, station model: {report.stations} stations")
            timed("re-import (unchanged)", lambda: RatedImporter(index).import_deam(folder))
            report = timed(f"check (decode all {len(ids)} files in full)", index.check)
            print(f"  {report.ok} decode, {len(report.broken)} do not")
        if not args.no_synthesis:
            timed(
                "synthesise and cache the 12 built-in pieces (60 s each)",
                lambda: ensure_builtin_audio(root / "builtin"),
            )
            timed("the same again (cached: hashes checked)", lambda: ensure_builtin_audio(root / "builtin"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
