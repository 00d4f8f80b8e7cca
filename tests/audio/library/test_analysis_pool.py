"""The analysis pool: a worker that dies is replaced, its files are tried again alone, and a file that kills
its process twice is reported while the rest are analysed. (Real imports, first imports at once on an empty
cache and a ``kill -9`` of an import: ``tests/cli/test_cli_import_processes.py``.)"""

from __future__ import annotations

from pathlib import Path

from moodsic_desktop.audio.library.analysis_pool import STOPPED_TWICE, analyse_files
from moodsic_desktop.audio.library.mood_features import MoodFeatures
from tests.audio.library.pool_measures import crash_on_crash_files, fake_features


def files(folder: Path, names: list[str]) -> list[Path]:
    for name in names:
        (folder / name).write_bytes(b"")
    return [folder / name for name in names]


def test_a_file_that_kills_its_worker_twice_is_reported_and_the_rest_analysed(tmp_path):
    paths = files(tmp_path, ["a.wav", "bb.wav", "crash.wav", "dddd.wav", "eeeee.wav", "ffffff.wav", "g.wav"])
    progress = []
    results = analyse_files(paths, workers=2, progress=lambda *p: progress.append(p), measure=crash_on_crash_files)
    assert results[2] == STOPPED_TWICE
    others = [fake_features(str(p)) for p in paths if "crash" not in p.name]
    assert [r for i, r in enumerate(results) if i != 2] == others
    assert progress == [(done, len(paths)) for done in range(1, len(paths) + 1)]


def test_a_worker_killed_once_is_replaced_and_its_file_analysed_on_the_second_try(tmp_path):
    paths = files(tmp_path, ["a.wav", "once.wav", "ccc.wav", "dddd.wav", "eeeee.wav"])
    results = analyse_files(paths, workers=2, measure=crash_on_crash_files)
    assert (tmp_path / "once.wav.crashed").exists(), "the worker was never killed"
    assert results == [fake_features(str(p)) for p in paths]
    assert all(isinstance(r, MoodFeatures) for r in results)
