"""The session report: settings, a timeline of steps, the song switches, the notices (a reader replaced by
its fallback, with the time) and the metrics, as JSON.

Made by ``moodsic analyze`` and by the GUI's "Export session…" (``to_json``; they write the text whole with
``atomic_files``: this module does no file IO); both feed it the pipeline's
``StepRecord``s (and, for a clip with known mood steps, their times, for the step-response metric). The
timeline can be bounded (``max_timeline``) for long live sessions; the metrics are running values
over the whole session either way; ``max_switches`` bounds the list of song changes alike. One owner thread.

Memory: the timeline keeps each step as 18 numbers and 4 small codes in flat arrays (``Timeline``, 160
bytes a step, about 0.3 MB a minute at 30 frames/s) and makes the JSON rows only when the report is
written; a dict per step took about 1 KB (2 MB a minute), which is how a long ``analyze`` grew.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

from moodsic_desktop.core import strict_json
from moodsic_desktop.core.decision_words import why_words
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.metrics import SessionMetrics
from moodsic_desktop.core.pipeline import Pipeline, StepRecord
from moodsic_desktop.core.types import Estimate

REPORT_VERSION = 1


def _estimate(estimate: Estimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {
        "valence": round(estimate.valence, 5),
        "arousal": round(estimate.arousal, 5),
        "var_valence": round(estimate.var_valence, 6),
        "var_arousal": round(estimate.var_arousal, 6),
        "source": estimate.source,
    }


def session_settings(pipeline: Pipeline, source: str, library: str) -> dict[str, Any]:
    """The settings part of a report, read from the live pipeline (so an export made after the sliders
    moved reports what is in force). Call on the pipeline's owner thread."""
    matcher, stabilizer = pipeline.matcher, pipeline.stabilizer
    return {
        "video": source,
        "library": library,
        "songs": len(matcher.songs),
        "stations": matcher.stations.describe() if matcher.stations is not None else None,
        "experts": {
            "face": pipeline.face_expert.name if pipeline.face_expert else None,
            "scene": pipeline.scene_expert.name if pipeline.scene_expert else None,
        },
        "engine": {
            "alpha": stabilizer.alpha,
            "tau": stabilizer.tau,
            "scene_only_alpha_factor": stabilizer.scene_only_alpha_factor,
            "min_dwell_s": matcher.min_dwell_s,
            "hysteresis": matcher.hysteresis,
            "recent_k": matcher.recent_k,
            "top_k": matcher.top_k,
            "widen_below": matcher.widen_below,
            "mode": matcher.mode,
            "repeat_window_s": matcher.repeat_window_s,
            "variety_reach": matcher.variety_reach,
            "pipeline": asdict(pipeline.settings),
        },
    }


def timeline_entry(step: StepRecord) -> dict[str, Any]:
    """One JSON-ready timeline row for a step (V-A in reference space, time in seconds)."""
    stabilized = step.stabilized
    return {
        "time": round(step.time, 4),
        "faces": step.faces_found,
        "faces_read": step.faces_read,
        "scene": _estimate(step.scene),
        "face": _estimate(step.face),
        "fused": _estimate(step.fused),
        "stabilized": None
        if stabilized is None
        else {
            "valence": round(stabilized.valence, 5),
            "arousal": round(stabilized.arousal, 5),
            "held_valence": stabilized.held_valence,
            "held_arousal": stabilized.held_arousal,
        },
        "song_id": step.decision.song.song_id if step.decision else None,
    }


_NAN = math.nan
_NUMBERS = 19  # time, faces found, faces read, 3 x (v, a, var_v, var_a) for scene/face/fused, stabilised v, a, held v/a
_CODES = 4  # source of scene, face and fused; song id (-1: none)
_CHUNK_STEPS = 4096


class Timeline:
    """The per-step timeline in compact form: ``append(step)`` stores a ``StepRecord``'s reported values
    as doubles and its strings (expert sources, song ids: a handful of distinct ones) as codes into one
    list of names; iterating yields the same dicts as ``timeline_entry``. ``maxlen`` keeps only the last
    steps (whole chunks of ``_CHUNK_STEPS`` are dropped, so appending stays O(1)). One owner thread."""

    def __init__(self, maxlen: int | None = None, origin_s: float = 0.0) -> None:
        self.maxlen = maxlen
        self.origin_s = origin_s  # rows' times count from here (seconds on the steps' clock)
        self._chunks: deque[tuple[array[float], array[int]]] = deque()
        self._skip = 0  # steps of the first chunk that fell out of ``maxlen``
        self._names: list[str] = []
        self._codes: dict[str, int] = {}

    def __len__(self) -> int:
        stored = sum(len(codes) // _CODES for _, codes in self._chunks)
        return stored - self._skip

    def _code(self, name: str | None) -> int:
        if name is None:
            return -1
        code = self._codes.get(name)
        if code is None:
            code = self._codes[name] = len(self._names)
            self._names.append(name)
        return code

    def append(self, step: StepRecord) -> None:
        """Store one step (the values ``timeline_entry`` reports)."""
        if not self._chunks or len(self._chunks[-1][1]) >= _CHUNK_STEPS * _CODES:
            self._chunks.append((array("d"), array("i")))
        numbers, codes = self._chunks[-1]
        numbers.extend((step.time, step.faces_found, step.faces_read))
        for estimate in (step.scene, step.face, step.fused):
            if estimate is None:
                numbers.extend((_NAN, _NAN, _NAN, _NAN))
            else:
                numbers.extend((estimate.valence, estimate.arousal, estimate.var_valence, estimate.var_arousal))
        stabilized = step.stabilized
        if stabilized is None:
            numbers.extend((_NAN, _NAN, 0.0, 0.0))
        else:
            numbers.extend((stabilized.valence, stabilized.arousal, stabilized.held_valence, stabilized.held_arousal))
        codes.extend(
            (
                self._code(step.scene.source if step.scene is not None else None),
                self._code(step.face.source if step.face is not None else None),
                self._code(step.fused.source if step.fused is not None else None),
                self._code(step.decision.song.song_id if step.decision is not None else None),
            )
        )
        self._trim()

    def _trim(self) -> None:
        if self.maxlen is None:
            return
        excess = len(self) - self.maxlen
        if excess > 0:
            self._skip += excess
        while self._chunks and self._skip >= len(self._chunks[0][1]) // _CODES:
            self._skip -= len(self._chunks.popleft()[1]) // _CODES

    def _estimate(self, numbers: array[float], at: int, code: int) -> dict[str, Any] | None:
        if code < 0:
            return None
        valence, arousal, var_valence, var_arousal = numbers[at : at + 4]
        return {
            "valence": round(valence, 5),
            "arousal": round(arousal, 5),
            "var_valence": round(var_valence, 6),
            "var_arousal": round(var_arousal, 6),
            "source": self._names[code],
        }

    def __iter__(self) -> Iterator[dict[str, Any]]:
        skip = self._skip
        for numbers, codes in self._chunks:
            for k in range(skip, len(codes) // _CODES):
                n, c = k * _NUMBERS, k * _CODES
                stab_v, stab_a, held_v, held_a = numbers[n + 15 : n + 19]
                yield {
                    "time": round(numbers[n] - self.origin_s, 4),
                    "faces": int(numbers[n + 1]),
                    "faces_read": int(numbers[n + 2]),
                    "scene": self._estimate(numbers, n + 3, codes[c]),
                    "face": self._estimate(numbers, n + 7, codes[c + 1]),
                    "fused": self._estimate(numbers, n + 11, codes[c + 2]),
                    "stabilized": None
                    if math.isnan(stab_v)
                    else {
                        "valence": round(stab_v, 5),
                        "arousal": round(stab_a, 5),
                        "held_valence": bool(held_v),
                        "held_arousal": bool(held_a),
                    },
                    "song_id": self._names[codes[c + 3]] if codes[c + 3] >= 0 else None,
                }
            skip = 0


class SessionReport:
    """Collects steps and song changes and writes the JSON report (see the module docstring).

    ``origin_s``: when the session started, on the steps' clock (seconds); the report's times count from
    it (a live session's steps carry the machine's monotonic clock; a video's start at 0)."""

    def __init__(
        self,
        settings: dict[str, Any],
        max_timeline: int | None = None,
        max_switches: int | None = None,
        step_times: Sequence[float] = (),
        origin_s: float = 0.0,
    ) -> None:
        self.settings = dict(settings)
        self.origin_s = origin_s
        self.timeline = Timeline(maxlen=max_timeline, origin_s=origin_s)
        self.switches: deque[dict[str, Any]] = deque(maxlen=max_switches)
        self.metrics = SessionMetrics(step_times)
        self.notices: list[dict[str, Any]] = []  # what changed, said once: a reader replaced by its fallback
        self.input_video: dict[str, Any] | None = None
        """What was read of a video file (``moodsic analyze``): frames read and announced, and whether and
        where it ended early; in the JSON as ``input_video`` when set."""

    def add(self, step: StepRecord) -> None:
        """One pipeline step; a song change it decided is a switch."""
        self.timeline.append(step)
        self.metrics.add(step)
        self.notices += [{"time": round(step.time - self.origin_s, 4), "text": text} for text in step.notices]
        if step.decision is not None and step.decision.switched:
            self._switch(step.time, step.decision)

    def song_changed(self, time: float, decision: Decision) -> None:
        """A song change decided outside the steps (a song's end, a skip, a ban, the library switching): the
        song of ``decision`` starts at ``time`` (seconds, the steps' clock)."""
        self.metrics.song_changed(time)
        self._switch(time, decision)

    def _switch(self, time: float, decision: Decision) -> None:
        self.switches.append(
            {
                "time": round(time - self.origin_s, 4),
                "song_id": decision.song.song_id,
                "title": decision.song.title,
                "artist": decision.song.artist,
                "station": decision.station,
                "reason": decision.reason,
                "why": why_words(decision),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "scales": "all valence/arousal values are in reference space [-1, 1]; DEAM 1..9 maps by (x - 5) / 4",
            "times": "seconds from the start of the session (a video's start for moodsic analyze)",
            "settings": self.settings,
            "timeline": list(self.timeline),
            "switches": list(self.switches),
            "notices": list(self.notices),
            "metrics": self.metrics.summary(),
            **({"input_video": self.input_video} if self.input_video is not None else {}),
        }

    def to_json(self) -> str:
        """The report as JSON text (strict: no NaN or Infinity; not ASCII-escaped), for the caller to write
        whole (``atomic_files.write_text``). Raises ``TypeError`` for settings that are not JSON."""
        return strict_json.dumps(self.to_dict(), indent=1, ensure_ascii=False)
