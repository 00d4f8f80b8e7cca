"""The session report: settings, a timeline of steps, the song switches and the metrics, as JSON.

Written by ``moodsic analyze`` and by the GUI's "Export session…"; both feed it the pipeline's
``StepRecord``s (and, for a clip with known mood steps, their times, for the step-response metric). The
timeline can be bounded (``max_timeline``) for long live sessions; the metrics are running values
over the whole session either way; ``max_switches`` bounds the list of song changes alike. One owner thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from moodsic_desktop.core import strict_json
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
            "pipeline": asdict(pipeline.settings),
        },
    }


def timeline_entry(step: StepRecord) -> dict[str, Any]:
    """One JSON-ready timeline row for a step (V-A in reference space, time in seconds)."""
    stabilized = step.stabilized
    return {
        "time": round(step.time, 4),
        "faces": step.faces_found,
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


class SessionReport:
    """Collects steps and writes the JSON report (see the module docstring)."""

    def __init__(
        self,
        settings: dict[str, Any],
        max_timeline: int | None = None,
        max_switches: int | None = None,
        step_times: Sequence[float] = (),
    ) -> None:
        self.settings = dict(settings)
        self.timeline: deque[dict[str, Any]] = deque(maxlen=max_timeline)
        self.switches: deque[dict[str, Any]] = deque(maxlen=max_switches)
        self.metrics = SessionMetrics(step_times)

    def add(self, step: StepRecord) -> None:
        self.timeline.append(timeline_entry(step))
        self.metrics.add(step)
        decision = step.decision
        if decision is not None and decision.switched:
            self.switches.append(
                {
                    "time": round(step.time, 4),
                    "song_id": decision.song.song_id,
                    "title": decision.song.title,
                    "artist": decision.song.artist,
                    "station": decision.station,
                    "reason": decision.reason,
                }
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "scales": "all valence/arousal values are in reference space [-1, 1]; DEAM 1..9 maps by (x - 5) / 4",
            "settings": self.settings,
            "timeline": list(self.timeline),
            "switches": list(self.switches),
            "metrics": self.metrics.summary(),
        }

    def write(self, path: str | Path) -> Path:
        """Write the report as JSON (UTF-8); the file is replaced only once it is complete."""
        path = Path(path)
        temporary = path.with_name(path.name + ".part")
        temporary.write_text(strict_json.dumps(self.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)
        return path
