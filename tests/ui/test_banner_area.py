"""Issue 21 (6): library messages in plain words for the window's banners."""

from __future__ import annotations

import pytest

from moodsic_desktop.ui.banner_area import plain_message


@pytest.mark.parametrize(
    ("message", "plain"),
    [
        (
            "No sound: no audio output works (default device: Error querying device -1). Playing silently; "
            "Moodsic keeps trying to open it (first after 5 s).",
            "No sound: no audio output works. Playing silently; Moodsic keeps trying to open it (first after 5 s).",
        ),
        ("Skipped “Rain”: [Errno -2] No such file or directory", "Skipped “Rain”: the file is not there"),
        ("Error querying device -1", "the sound device could not be found"),
        ("The video has ended.", "The video has ended."),
    ],
)
def test_technical_parts_are_left_out_and_common_errors_said_in_words(message, plain):
    assert plain_message(message) == plain
    for jargon in ("Errno", "querying", "-1", "-2"):
        assert jargon not in plain_message(message)
