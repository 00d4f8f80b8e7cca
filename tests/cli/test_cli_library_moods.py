"""``moodsic library add-folder`` without a V-A table, ``learn-moods`` and ``place``: what they print,
the index they leave, and one clear line on stderr with exit status 1 for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.mood_estimation import MIN_LABELLED_SONGS
from tests.cli.cli_helpers import one_error_line, run
from tests.mood_music import write_labelled_library, write_song

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def own_music(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("own")
    write_song(folder / "slow minor.flac", -0.8, -0.8, seconds=10, seed=1)
    write_song(folder / "fast major.flac", 0.8, 0.8, seconds=10, seed=2)
    sf.write(str(folder / "silence.wav"), np.zeros(22050 * 3, np.float32), 22050)
    return folder


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("labelled")
    return folder, write_labelled_library(folder, 40, seconds=8, seed=3)


def test_add_folder_without_a_table_estimates_through_the_real_command(own_music, tmp_path):
    """The installed entry point in a fresh interpreter, with the process pool."""
    index = tmp_path / "library.sqlite"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "moodsic_desktop",
        "library",
        "add-folder",
        str(own_music),
        "--index",
        str(index),
    ]
    result = subprocess.run([*command, "--workers", "2"], capture_output=True, text=True, env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "moods: 2 estimated from the audio with the default mapping" in result.stdout
    assert "3 files analysed, 0 from the cache" in result.stdout
    assert "files not imported (their mood could not be measured, or they are not usable files) (1):" in result.stdout
    assert "silent" in result.stdout
    listing = subprocess.run(
        [sys.executable, "-m", "moodsic_desktop", "library", "list", "--index", str(index)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    ).stdout
    rows = {line.split()[-1]: line for line in listing.splitlines() if "estimated ±0.50" in line}
    assert set(rows) == {"minor", "major"}
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=True).stdout
    assert "0 files analysed, 3 from the cache" in again and "0 new, 0 updated, 2 unchanged" in again


def test_learn_moods_refuses_too_few_rated_songs(labelled, capsys, tmp_path):
    folder, table = labelled
    short = tmp_path / "short.csv"
    short.write_text("\n".join(table.read_text().splitlines()[:11]) + "\n")
    index = str(tmp_path / "library.sqlite")
    assert (
        run(capsys, "library", "add-folder", str(folder), "--va", str(short), "--scale", "reference", "--index", index)[
            0
        ]
        == 0
    )
    code, out, err = run(capsys, "library", "learn-moods", "--index", index, "--workers", "1")
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert line.startswith("moodsic library learn-moods: error: learning the moods needs at least")
    assert f"at least {MIN_LABELLED_SONGS} playable songs with a rated mood point" in line and "has 10" in line
    with LibraryIndex(index) as opened:
        assert opened.mood_model() is None
    code, _, err = run(capsys, "library", "learn-moods", "--index", str(tmp_path / "none.sqlite"))
    assert code == 1 and "no library index at" in one_error_line(err)


def test_learn_moods_on_a_generated_labelled_library(labelled, own_music, capsys, tmp_path):
    folder, table = labelled
    index = str(tmp_path / "library.sqlite")
    run(capsys, "library", "add-folder", str(own_music), "--index", index, "--workers", "1")
    run(capsys, "library", "add-folder", str(folder), "--va", str(table), "--scale", "reference", "--index", index)
    report = tmp_path / "learn.json"
    code, out, err = run(capsys, "library", "learn-moods", "--index", index, "--workers", "1", "--report", str(report))
    assert code == 0, err
    assert "learned the moods from 40 rated songs (40 files analysed, 0 from the cache; 0 could not be analysed)" in out
    assert "5-fold cross-validated" in out
    sections = out.split("default mapping from the literature, on the same songs:")
    pattern = r"(valence|arousal)\s+MAE ([\d.]+) \(DEAM 1..9: ([\d.]+)\)\s+Spearman ρ ([-\d.]+)\s+CCC ([-\d.]+)"
    learned, default = (re.findall(pattern, section) for section in sections)
    for numbers in (learned, default):
        assert [n[0] for n in numbers] == ["valence", "arousal"]
        for _, mae, mae_deam, rho, ccc in numbers:
            assert float(mae_deam) == pytest.approx(4 * float(mae), abs=0.01)
            assert -1 <= float(rho) <= 1 and -1 <= float(ccc) <= 1
    numbers = learned
    assert float(numbers[1][3]) > 0.8  # arousal is ranked well by the learned model on these pieces
    assert "2 estimated songs re-estimated" in out
    stored = json.loads(report.read_text())
    assert stored["used"] == 40 and stored["model"]["kind"] == "ridge"
    assert stored["model"]["cv"]["reference"]["mae_arousal"] == pytest.approx(float(numbers[1][1]), abs=5e-4)
    code, out, _ = run(capsys, "library", "stats", "--index", index)
    assert "mood points: 40 rated, 2 estimated from the audio, 0 placed by hand; estimates use learned" in out
    code, out, _ = run(capsys, "library", "add-folder", str(own_music), "--index", index)
    assert "with the model learned from this library's rated songs" in out


def test_place_and_reset(own_music, capsys, tmp_path):
    index = str(tmp_path / "library.sqlite")
    run(capsys, "library", "add-folder", str(own_music), "--index", index, "--workers", "1")
    with LibraryIndex(index) as opened:
        song = next(s for s in opened.songs() if s.title == "slow minor")
    code, out, err = run(
        capsys, "library", "place", song.song_id, "--valence", "0.5", "--arousal", "-0.25", "--index", index
    )
    assert code == 0, err
    assert f"placed {song.song_id} at valence +0.50, arousal -0.25" in out
    _, listing, _ = run(capsys, "library", "list", "--index", index)
    assert re.search(rf"{song.song_id}\s+0\.500\s+-0\.250 placed ", listing)
    code, out, _ = run(
        capsys,
        "library",
        "place",
        song.song_id,
        "--valence",
        "9",
        "--arousal",
        "1",
        "--scale",
        "deam",
        "--index",
        index,
    )
    assert code == 0 and "valence +1.00, arousal -1.00" in out
    code, out, _ = run(capsys, "library", "place", song.song_id, "--reset", "--index", index)
    assert code == 0 and "plays at its own mood point again" in out
    with LibraryIndex(index) as opened:
        assert next(s for s in opened.songs() if s.song_id == song.song_id) == song
    for args, message in (
        ((song.song_id, "--valence", "0.5"), "give either both --valence and --arousal, or --reset"),
        ((song.song_id, "--reset", "--valence", "0", "--arousal", "0"), "give either both"),
        ((song.song_id, "--valence", "2", "--arousal", "0"), "valence 2.0 is outside the reference scale"),
        ((song.song_id, "--valence", "0", "--arousal", "0", "--scale", "deam"), "outside its source range"),
        (("nope", "--valence", "0", "--arousal", "0"), "no song 'nope'"),
        (("nope", "--reset"), "no song 'nope'"),
    ):
        code, out, err = run(capsys, "library", "place", *args, "--index", index)
        assert code == 1 and message in one_error_line(err), (args, err)


def test_add_folder_without_audio_is_one_clear_line(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    index = tmp_path / "library.sqlite"
    code, _, err = run(capsys, "library", "add-folder", str(tmp_path / "empty"), "--index", str(index))
    assert code == 1 and "no audio files" in one_error_line(err)
    assert not index.exists()  # a typo leaves no empty index behind
    code, _, err = run(capsys, "library", "add-folder", str(tmp_path), "--scale", "reference", "--index", str(index))
    assert code == 1 and "--scale gives the scale of the --va table" in one_error_line(err)
