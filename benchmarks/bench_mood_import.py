"""Benchmark (not a test): importing a folder of 200 songs without a V-A table, moods estimated from the audio.

Makes a folder of generated songs, 60–180 s each (``tests/mood_music.py``: a pool of distinct pieces,
each file a different cut, offset and level of one of them, so no two files are the same), then prints:

* the import (``MoodImporter.add_folder_estimated``, all worker processes): seconds and songs per second,
  and the CPU seconds it used (this process and its workers; Unix), which on a shared machine say more
  than the wall clock: CPU seconds / cores is what it would take on idle cores;
* the ratio against analysing whole files: on a subset, the same analysis on the whole decoded file
  versus the three 30 s excerpts, one process each (the import's ``ratio``);
* the import again, every feature from the cache: seconds and the ratio to the first import.

With ``--learn N`` it then makes a labelled library of N generated 30 s songs (moods known by
construction) and runs ``moodsic library add-folder --va`` and ``moodsic library learn-moods`` on it, printing
what they print: the cross-validated errors the README quotes. Machines here are shared and noisy: run it
twice. Run:

    python benchmarks/bench_mood_import.py [--songs 200] [--workers N] [--whole 12] [--format flac|mp3|wav]
                                           [--learn 40]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moodsic_desktop.audio import decoding  # noqa: E402
from moodsic_desktop.audio.library.analysis_pool import default_workers  # noqa: E402
from moodsic_desktop.audio.library.index import LibraryIndex  # noqa: E402
from moodsic_desktop.audio.library.mood_features import (  # noqa: E402
    ANALYSIS_RATE,
    analyse_file,
    features_from_excerpts,
)
from moodsic_desktop.audio.library.mood_imports import MoodImporter  # noqa: E402
from tests.mood_music import mood_grid, synth_song  # noqa: E402

FILE_RATE = 44100
FORMATS = {"flac": "FLAC", "mp3": "MP3", "wav": "WAV"}


def make_folder(folder: Path, n: int, fmt: str, pool_size: int, seed: int = 0) -> float:
    """``n`` songs of 60–180 s (44.1 kHz stereo) in ``folder``; returns their total length in seconds."""
    rng = np.random.default_rng(seed)
    pool = []
    for i, (v, a) in enumerate(mood_grid(pool_size, seed)):
        mono = synth_song(v, a, seconds=180.0, sr=ANALYSIS_RATE, seed=i)
        pool.append(soxr.resample(mono, ANALYSIS_RATE, FILE_RATE))
    total = 0.0
    for i in range(n):
        piece = pool[i % pool_size]
        seconds = float(rng.uniform(60, 180))
        frames = int(seconds * FILE_RATE)
        start = int(rng.integers(0, len(piece) - frames + 1))
        mono = piece[start : start + frames] * float(10 ** (rng.uniform(-4, 4) / 20))
        stereo = np.stack([mono, np.roll(mono, int(rng.integers(1, 200)))], axis=1)
        sf.write(str(folder / f"song_{i:03d}.{fmt}"), np.clip(stereo, -1, 1), FILE_RATE, format=FORMATS[fmt])
        total += seconds
    return total


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (0 where ``resource`` is missing: Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def whole_file_features(path: Path):
    """The same features measured on the whole file (what the import would cost without excerpts)."""
    audio = decoding.decode(path, ANALYSIS_RATE).mean(axis=1)
    return features_from_excerpts([audio], ANALYSIS_RATE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None, help="analysis processes (default: the CPUs)")
    parser.add_argument("--whole", type=int, default=12, help="songs in the whole-file comparison (default 12)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="flac")
    parser.add_argument("--pool", type=int, default=24, help="distinct generated pieces (default 24)")
    parser.add_argument("--learn", type=int, default=0, metavar="N", help="also learn-moods on N labelled songs")
    args = parser.parse_args()
    if args.songs > 0:
        bench_import(args)
    if args.learn > 0:
        learn_on_generated(args.learn, args.workers)
    return 0


def learn_on_generated(n: int, workers: int | None) -> None:
    """``learn-moods`` through the real command on ``n`` generated labelled songs."""
    from moodsic_desktop.cli import main as cli
    from tests.mood_music import write_labelled_library

    with tempfile.TemporaryDirectory(prefix="moodsic-bench-learn-") as scratch:
        root = Path(scratch)
        table = write_labelled_library(root / "labelled", n, seconds=30.0, seed=11)
        index = str(root / "library.sqlite")
        more = ["--workers", str(workers)] if workers else []
        print(f"$ moodsic library add-folder LABELLED --va va.csv --scale reference  ({n} generated 30 s songs)")
        cli.main(
            ["library", "add-folder", str(table.parent), "--va", str(table), "--scale", "reference", "--index", index]
        )
        print("$ moodsic library learn-moods")
        cli.main(["library", "learn-moods", "--index", index, "--quiet", *more])


def bench_import(args: argparse.Namespace) -> None:
    """The 200-song import, the whole-file ratio and the cached re-import."""
    workers = args.workers or default_workers()
    print(f"{os.cpu_count()} CPUs, {workers} worker processes; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="moodsic-bench-moods-") as scratch:
        root = Path(scratch)
        folder = root / "music"
        folder.mkdir()
        started = time.perf_counter()
        total_s = make_folder(folder, args.songs, args.format, args.pool)
        print(
            f"made {args.songs} {args.format.upper()} songs, {total_s / 60:.0f} min of audio "
            f"(test data, not the import): {time.perf_counter() - started:.1f} s"
        )
        with LibraryIndex(root / "library.sqlite") as index:
            cpu_before = cpu_seconds()
            started = time.perf_counter()
            report = MoodImporter(index).add_folder_estimated(folder, workers=workers)
            first = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_before
            print(
                f"import without a V-A table: {first:.1f} s, {args.songs / first:.2f} songs/s "
                f"({report.estimated} estimated, {len(report.skipped)} skipped)"
            )
            if cpu > 0:
                print(
                    f"  CPU: {cpu:.0f} s in all, {cpu / args.songs:.2f} s per song; on {workers} idle cores about "
                    f"{cpu / workers:.0f} s (load average now {os.getloadavg()[0]:.1f})"
                )
            files = sorted(folder.iterdir())[: args.whole]
            analyse_file(files[0])  # load librosa and its compiled functions before timing
            started = time.perf_counter()
            for path in files:
                analyse_file(path)
            excerpts = time.perf_counter() - started
            started = time.perf_counter()
            for path in files:
                whole_file_features(path)
            whole = time.perf_counter() - started
            print(
                f"{len(files)} songs in one process: excerpts {excerpts:.1f} s, whole files {whole:.1f} s; "
                f"ratio excerpts vs whole files: {whole / excerpts:.1f}"
            )
            started = time.perf_counter()
            again = MoodImporter(index).add_folder_estimated(folder, workers=workers)
            cached = time.perf_counter() - started
            print(
                f"import again from the cache: {cached:.2f} s ({again.from_cache} cached, {again.analysed} analysed); "
                f"ratio first import vs cached: {first / cached:.0f}"
            )


if __name__ == "__main__":
    sys.exit(main())
