"""The pipeline follows people (``core/tracking.py``) and joins the room's energy on arousal."""

from __future__ import annotations

import numpy as np
import pytest

from moodsic_desktop.core.matcher import Matcher
from moodsic_desktop.core.pipeline import Pipeline, PipelineSettings
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilizer
from moodsic_desktop.core.types import Estimate, FaceBox, FaceRead, RoomEnergy, RoomEnergyReader

FRAME = np.zeros((200, 400, 3), np.uint8)
SONGS = [Song("low", SongMood(-0.8, -0.8)), Song("mid", SongMood(0.0, 0.0)), Song("high", SongMood(0.8, 0.8))]


class Detector:
    def __init__(self, faces):
        self.faces = faces

    def detect(self, frame):
        return list(self.faces)


class PerPersonExpert:
    """Reads every face in one call; the arousal of each face is looked up by the face's position."""

    name = "per-person double"
    is_fallback = False
    device = "CPU"

    def __init__(self):
        self.arousal = {}
        self.tracks_seen = []

    def read_faces(self, frame, faces, now):
        self.tracks_seen.append([face.track for face in faces])
        return [FaceRead(f, Estimate(0.0, self.arousal[f.x], 0.04, 0.04, self.name)) for f in faces]

    def estimate(self, frame, face, now):
        return self.read_faces(frame, [face], now)[0].estimate

    def reset(self):
        pass


class Meter:
    name = "room double"

    def __init__(self, energy=None, error=None):
        self.energy, self.error, self.calls, self.resets = energy, error, [], 0

    def measure(self, frame, faces, now):
        self.calls.append(len(faces))
        if self.error:
            raise self.error
        return self.energy

    def reset(self):
        self.resets += 1


def pipeline(faces, expert, room=None, **settings):
    return Pipeline(
        Detector(faces),
        expert,
        None,
        Stabilizer(alpha=0.5, tau=0.4),
        Matcher(SONGS, min_dwell_s=5.0),
        PipelineSettings(**settings),
        room_energy=room,
    )


LEFT, RIGHT = FaceBox(20, 50, 80, 80, 0.9), FaceBox(300, 50, 80, 80, 0.9)


def test_faces_reach_the_expert_numbered_and_each_person_is_smoothed_alone():
    expert = PerPersonExpert()
    expert.arousal = {LEFT.x: 0.0, RIGHT.x: 0.5}
    run = pipeline([LEFT, RIGHT], expert)
    run.process(FRAME, 0.0)
    expert.arousal[LEFT.x] = 1.0  # the left person suddenly reads excited
    step = run.process(FRAME, 0.1)
    assert expert.tracks_seen == [[1, 2], [1, 2]]
    by_track = {read.box.track: read.estimate.arousal for read in step.faces}
    assert by_track[1] == pytest.approx(1.0 - np.exp(-0.1 / 0.3), rel=1e-6)  # damped: 0.3 s time constant
    assert by_track[2] == pytest.approx(0.5)  # the other person's reading is untouched


def test_the_room_energy_is_measured_on_the_face_frames_and_joined_on_arousal():
    expert = PerPersonExpert()
    expert.arousal = {LEFT.x: 0.0}
    lively = RoomEnergy(people=1, motion=0.2, arousal=0.9, var_arousal=0.04)
    meter = Meter(lively)
    assert isinstance(meter, RoomEnergyReader)
    step = pipeline([LEFT], expert, meter).process(FRAME, 0.0)
    assert meter.calls == [1] and step.room == lively and "room" in step.timings_ms
    assert step.face.arousal == pytest.approx(0.0)
    assert step.fused.arousal == pytest.approx(0.45, abs=1e-3)  # equal variances: half way
    assert step.fused.valence == pytest.approx(step.face.valence)
    faces_only = pipeline([LEFT], expert, Meter(lively), fusion_mode="face").process(FRAME, 0.0)
    assert faces_only.fused.arousal == pytest.approx(0.0)  # one expert alone means that expert alone


def test_a_failing_room_meter_is_skipped_and_reset_with_the_pipeline():
    expert = PerPersonExpert()
    expert.arousal = {LEFT.x: 0.3}
    meter = Meter(error=RuntimeError("broken"))
    run = pipeline([LEFT], expert, meter)
    step = run.process(FRAME, 0.0)
    assert step.room is None and "room double" in step.errors
    assert step.fused.arousal == pytest.approx(0.3)
    run.reset()
    assert meter.resets == 1
