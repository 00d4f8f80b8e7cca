"""A session report told as a short story: for each song, when it played, how the room felt meanwhile, and
why it was chosen, in plain words. ``moodsic analyze`` prints it before the metrics.

Works on the report's JSON rows (``SessionReport.to_dict``): the timeline (times in seconds from the
session's start, stabilised V-A in reference units) and the switches (every song change). Pure; any
thread.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from moodsic_desktop.core.mood_words import feeling_words

MOOD_BUCKET_S = 2.0  # the mood is named from its mean over buckets of this many seconds
MIN_MOOD_S = 4.0  # a mood that lasts less than this (seconds) is left out of the story, unless it is the only one


def clock(seconds: float) -> str:
    """``seconds`` as minutes and seconds ("1:05")."""
    whole = max(round(seconds), 0)
    return f"{whole // 60}:{whole % 60:02d}"


def mood_runs(rows: Iterable[Mapping[str, Any]], start: float, end: float) -> list[str]:
    """How the room felt between ``start`` and ``end`` (seconds): the feeling words of each
    ``MOOD_BUCKET_S`` bucket's mean stabilised mood, the same words in a row told once, and a mood shorter
    than ``MIN_MOOD_S`` left out (unless none is longer)."""
    buckets: dict[int, list[tuple[float, float]]] = {}
    for row in rows:
        stabilized = row.get("stabilized")
        if stabilized is not None and start <= row["time"] < end:
            key = int((row["time"] - start) // MOOD_BUCKET_S)
            buckets.setdefault(key, []).append((stabilized["valence"], stabilized["arousal"]))
    runs: list[list[Any]] = []  # [words, seconds]
    for key in sorted(buckets):
        points = buckets[key]
        words = feeling_words(sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
        if runs and runs[-1][0] == words:
            runs[-1][1] += MOOD_BUCKET_S
        else:
            runs.append([words, MOOD_BUCKET_S])
    lasting = [words for words, seconds in runs if seconds >= MIN_MOOD_S] or [words for words, _ in runs[:1]]
    told: list[str] = []
    for words in lasting:
        if not told or told[-1] != words:
            told.append(words)
    return told


def story_lines(timeline: Sequence[Mapping[str, Any]], switches: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per song of ``switches``: its time span, the room's moods meanwhile, the song (title,
    station) and why it plays. The last song runs to the timeline's last row."""
    end_s = timeline[-1]["time"] if timeline else 0.0
    lines = []
    for k, switch in enumerate(switches):
        start = switch["time"]
        end = switches[k + 1]["time"] if k + 1 < len(switches) else max(end_s, start)
        moods = ", then ".join(word.lower() if i else word for i, word in enumerate(mood_runs(timeline, start, end)))
        title = switch.get("title") or f"song {switch['song_id']}"
        station = f" ({switch['station']})" if switch.get("station") else ""
        why = switch.get("why") or switch.get("reason") or ""
        span = f"{clock(start)}–{clock(end) if math.isfinite(end) else '…'}"
        lines.append(f"{span}  {moods or 'Not read yet'} → “{title}”{station}. Why: {why}")
    return lines
