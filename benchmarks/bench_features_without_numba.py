"""Benchmark (not a test): the moods estimated from the audio, measured with librosa (before) and with
``signal_measures`` (numpy and scipy, no numba: after), song by song.

The DEAM fixture (``../shared/fixtures/deam``) holds DEAM's real annotations but no audio, so each of the
first ``--deam`` of its songs taken across the valence-arousal plane gets a 45 s generated piece at its
annotated mood (``tests/mood_music.py``), written as MP3 at 44.1 kHz under its DEAM name, as DEAM's clips are;
the 12 built-in pieces (``audio/builtin``) are added as they are synthesised. Each file is decoded once
(``decoding.decode_excerpts``, as the import does), measured both ways, and turned into a mood by the
default mapping (``mood_estimation.default_estimate``). Prints a table (valence and arousal before and
after, per song), the largest differences of the moods and of each feature, and the CPU time per song of
each way. Needs librosa (the "before"). Run:

    python benchmarks/bench_features_without_numba.py [--deam 24]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moodsic_desktop.audio import decoding  # noqa: E402
from moodsic_desktop.audio.builtin.arrangement import render_piece  # noqa: E402
from moodsic_desktop.audio.builtin.catalogue import builtin_songs  # noqa: E402
from moodsic_desktop.audio.library.mood_estimation import default_estimate  # noqa: E402
from moodsic_desktop.audio.library.mood_features import (  # noqa: E402
    ANALYSIS_RATE,
    EXCERPT_POSITIONS,
    EXCERPT_S,
    MoodFeatures,
    features_from_excerpts,
)
from moodsic_desktop.audio.library.sources import read_deam  # noqa: E402
from tests.audio.library.librosa_features import librosa_features  # noqa: E402
from tests.mood_music import write_song  # noqa: E402

DEAM = REPO.parent / "shared" / "fixtures" / "deam"


def deam_songs(count: int, folder: Path) -> list[tuple[str, Path]]:
    """``count`` DEAM fixture songs spread over the plane (sorted by angle), each with a generated MP3."""
    songs = read_deam(DEAM).songs
    order = np.argsort([np.arctan2(s.arousal, s.valence) for s in songs])
    picked = [songs[int(i)] for i in order[:: max(1, len(order) // count)][:count]]
    return [
        (
            f"DEAM {song.song_id} ({song.valence:+.2f}, {song.arousal:+.2f})",
            write_song(folder / f"{song.song_id}.mp3", song.valence, song.arousal, 45.0, 44100, seed=k),
        )
        for k, song in enumerate(picked)
    ]


def builtin_pieces(folder: Path) -> list[tuple[str, Path]]:
    pieces = []
    for song in builtin_songs():
        path = folder / f"{song.song_id}.flac"
        sf.write(str(path), render_piece(song), 44100)
        pieces.append((f"{song.title} ({song.valence:+.2f}, {song.arousal:+.2f})", path))
    return pieces


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deam", type=int, default=24, help="DEAM fixture songs to generate (default 24)")
    args = parser.parse_args()
    if not DEAM.is_dir():
        print(f"the DEAM fixture is absent ({DEAM}): only the built-in pieces are measured")
    with tempfile.TemporaryDirectory(prefix="moodsic-features-") as scratch:
        folder = Path(scratch)
        songs = (deam_songs(args.deam, folder) if DEAM.is_dir() else []) + builtin_pieces(folder)
        rows, seconds = [], [0.0, 0.0]
        feature_gaps = {f.name: 0.0 for f in fields(MoodFeatures) if f.name != "key"}
        keys_differ = 0
        for name, path in songs:
            _, excerpts = decoding.decode_excerpts(path, ANALYSIS_RATE, EXCERPT_S, EXCERPT_POSITIONS, quality="MQ")
            start = time.process_time()
            before = librosa_features(excerpts)
            middle = time.process_time()
            after = features_from_excerpts(excerpts)
            seconds[0] += middle - start
            seconds[1] += time.process_time() - middle
            for field, gap in feature_gaps.items():
                a, b = getattr(before, field), getattr(after, field)
                feature_gaps[field] = max(gap, abs(a - b) / max(abs(a), 1e-12))
            keys_differ += before.key != after.key
            rows.append((name, default_estimate(before), default_estimate(after)))
    print(f"{'song (annotated V, A)':<44} {'V before':>9} {'V after':>9} {'A before':>9} {'A after':>9}")
    for name, b, a in rows:
        print(f"{name:<44} {b.valence:>9.4f} {a.valence:>9.4f} {b.arousal:>9.4f} {a.arousal:>9.4f}")
    dv = max(abs(b.valence - a.valence) for _, b, a in rows)
    da = max(abs(b.arousal - a.arousal) for _, b, a in rows)
    print(f"\n{len(rows)} songs; largest difference: valence {dv:.2e}, arousal {da:.2e} (reference units, -1..1)")
    print(f"keys named differently: {keys_differ}")
    print("largest relative difference per feature: " + ", ".join(f"{k} {v:.1e}" for k, v in feature_gaps.items()))
    print(f"CPU per song: librosa {seconds[0] / len(rows):.2f} s, numpy/scipy {seconds[1] / len(rows):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
