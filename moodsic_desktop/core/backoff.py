"""How long to wait between tries to reopen a source that is gone: 1 s, then doubling, at most 30 s.

Pure arithmetic, no clock: the caller waits (on its own, injectable, clock). Not thread-safe; one owner.
"""

from __future__ import annotations

FIRST_DELAY_S = 1.0
LONGEST_DELAY_S = 30.0


class RetryBackoff:
    """The delays, in seconds, between tries: ``first_s``, then doubled each time, never over ``longest_s``
    (1, 2, 4, 8, 16, 30, 30, … by default). ``reset`` starts over after a success."""

    def __init__(self, first_s: float = FIRST_DELAY_S, longest_s: float = LONGEST_DELAY_S) -> None:
        if not 0.0 < first_s <= longest_s:
            raise ValueError(f"need 0 < first_s <= longest_s, got {first_s} and {longest_s}")
        self.first_s = first_s
        self.longest_s = longest_s
        self._next_s = first_s

    def next_delay(self) -> float:
        """Seconds to wait before the next try (each call doubles the one after, up to ``longest_s``)."""
        delay = self._next_s
        self._next_s = min(self._next_s * 2.0, self.longest_s)
        return delay

    def reset(self) -> None:
        """The next delay is ``first_s`` again."""
        self._next_s = self.first_s
