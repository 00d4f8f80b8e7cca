"""One check for a value that must be one of a fixed set of words (``core.choices.FixedChoice``), and no
second copy of it anywhere in the program."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Literal, get_args

import pytest

from moodsic_desktop.core.choices import FixedChoice

PACKAGE = Path(__file__).resolve().parents[2] / "moodsic_desktop"

Colour = Literal["red", "green", "blue"]
COLOURS: tuple[Colour, ...] = get_args(Colour)


def test_a_word_of_the_set_is_given_back():
    choose = FixedChoice("colour", COLOURS)
    assert [choose(word) for word in COLOURS] == list(COLOURS)
    assert choose("".join(["gr", "een"])) is COLOURS[1]  # the set's own string, whatever string came in


@pytest.mark.parametrize("value", ["purple", "Red", " red", ""])
def test_any_other_word_is_refused_naming_what_and_every_choice(value):
    with pytest.raises(ValueError) as refused:
        FixedChoice("colour", COLOURS)(value)
    assert str(refused.value) == f"unknown colour {value!r}; expected one of red, green, blue"


def test_a_value_that_is_not_a_string_is_refused_too():
    with pytest.raises(ValueError, match="unknown colour None"):
        FixedChoice("colour", COLOURS)(None)  # type: ignore[arg-type]  # a JSON null in a settings file


def test_an_empty_set_is_a_mistake_of_the_program():
    with pytest.raises(ValueError, match="at least one word"):
        FixedChoice("colour", ())


def test_no_module_checks_a_fixed_choice_by_hand():
    """``if x not in CHOICES: raise ValueError(...)`` (or a loop that returns the match) is what FixedChoice
    does; a module that writes it again is found by the message every copy carried."""
    copies = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "choices.py" and path.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "expected one of" in node.value:
                copies.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert copies == [], "use core.choices.FixedChoice"
