"""One check for a value that must be one of a fixed set of words: a music mode, a fusion mode, a song's mood
source, an ONNX device, a face reader's uncertainty, an image fit. Each set is a ``Literal`` type's values;
the words are stored as plain strings in settings files, the library index and reports and typed on the
command line, so the edges check them once with their ``FixedChoice`` and carry the ``Literal`` from there.

Pure and stateless; any thread.
"""

from __future__ import annotations

from typing import Generic, TypeVar

Word = TypeVar("Word", bound=str)


class FixedChoice(Generic[Word]):
    """``choice(value)``: ``value`` (any value: a word read from a file, a setting) as one of ``words`` (typed
    as their ``Literal``), or ``ValueError`` ("unknown {what} 'x'; expected one of a, b, c") naming what was
    asked for and every word allowed."""

    def __init__(self, what: str, words: tuple[Word, ...]) -> None:
        if not words:
            raise ValueError(f"a choice of {what} needs at least one word")
        self.what = what
        self.words = words

    def __call__(self, value: object) -> Word:
        for word in self.words:
            if value == word:
                return word
        raise ValueError(f"unknown {self.what} {value!r}; expected one of {', '.join(self.words)}")

    def __repr__(self) -> str:
        return f"FixedChoice({self.what!r}, {self.words!r})"


__all__ = ["FixedChoice"]
