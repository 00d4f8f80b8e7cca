"""``moodsic bench``'s numbers are checked like ``analyze``'s: a value out of range is one usage line (exit 2),
never a traceback from inside the bench. The checks run before the models extra is needed."""

from __future__ import annotations

import pytest

from moodsic_desktop.cli.main import main


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--frames", "0", "must be >= 1"),
        ("--frames", "-3", "must be >= 1"),
        ("--repeats", "0", "must be >= 1"),
        ("--mc-samples", "0", "must be >= 1"),
        ("--threads", "-1", "must be >= 0"),
        ("--frames", "two", "expected a whole number"),
        ("--threads", "1.5", "expected a whole number"),
    ],
)
def test_bench_refuses_numbers_out_of_range_in_one_line(option, value, words, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["bench", "--tiny", f"{option}={value}", "--json", str(tmp_path / "bench.json")])
    assert stop.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert option in last and words in last and "Traceback" not in last
    assert not (tmp_path / "bench.json").exists()


def test_a_fetch_timeout_must_be_positive(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["models", "fetch", "clip-b32", "--timeout", "0"])
    assert stop.value.code == 2 and "--timeout" in capsys.readouterr().err
