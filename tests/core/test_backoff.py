"""The waits between tries to reopen a source: 1 s doubling to at most 30 s, and again from 1 s after reset."""

from __future__ import annotations

import pytest

from moodsic_desktop.core.backoff import RetryBackoff


def test_the_delays_double_up_to_the_longest_and_start_over_after_reset():
    backoff = RetryBackoff()
    assert [backoff.next_delay() for _ in range(8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0
    short = RetryBackoff(0.25, 0.6)
    assert [short.next_delay() for _ in range(4)] == [0.25, 0.5, 0.6, 0.6]


@pytest.mark.parametrize(("first", "longest"), [(0.0, 30.0), (-1.0, 30.0), (5.0, 2.0)])
def test_impossible_delays_are_refused(first, longest):
    with pytest.raises(ValueError, match="first_s"):
        RetryBackoff(first, longest)
