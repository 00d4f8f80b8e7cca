"""``moodsic models verify`` with a damaged ``manifest.json``: a failure, never "all models verified"."""

from __future__ import annotations

import pytest

from moodsic_desktop.cli.main import main


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{ not json", "is damaged"),
        ("[1, 2]", "is damaged"),
        ('{"schema_version": 99, "models": []}', "schema version 99"),
        ('{"schema_version": 1, "models": {"a": 1}}', "is damaged"),
        ("[" * 100_000 + "]" * 100_000, "is damaged"),
        ("\udcff".encode("utf-8", "surrogateescape").decode("latin-1"), "is damaged"),
    ],
)
def test_verify_fails_on_a_damaged_manifest(tmp_path, capsys, text, words):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "manifest.json").write_text(text, encoding="latin-1")
    assert main(["models", "verify", "--dir", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert words in out and "all models verified" not in out
    assert out.rstrip().endswith("1 problem(s) found")
    assert (folder / "manifest.json").read_text(encoding="latin-1") == text  # left as it was


def test_verify_of_an_empty_folder_still_passes(tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    assert main(["models", "verify", "--dir", str(folder)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("all models verified")
