"""Each face followed over time (``core/tracking.py``): the tracker keeps people's numbers through movement,
crossing, leaving and coming back; the smoother smooths each person on its own."""

from __future__ import annotations

import pytest

from moodsic_desktop.core.tracking import FaceTracker, PersonSmoother, match_score
from moodsic_desktop.core.types import Estimate, FaceBox


def box(x: float, y: float = 100.0, size: float = 60.0) -> FaceBox:
    return FaceBox(x, y, size, size, 0.9)


def test_a_face_that_moves_keeps_its_number():
    tracker = FaceTracker()
    numbers = [tracker.update([box(100 + 8 * i)], i / 10)[0].track for i in range(20)]
    assert numbers == [1] * 20


def test_two_people_keep_their_numbers_whatever_the_detector_order():
    tracker = FaceTracker()
    first = tracker.update([box(100), box(400)], 0.0)
    assert [f.track for f in first] == [1, 2]
    later = tracker.update([box(405), box(95)], 0.1)  # listed the other way round, each moved a little
    assert [f.track for f in later] == [2, 1]


def test_a_fast_move_without_overlap_still_follows_by_position():
    tracker = FaceTracker()
    tracker.update([box(100)], 0.0)
    moved = tracker.update([box(150)], 0.1)  # 50 px for a 60 px face: IoU 0.09, centres close
    assert moved[0].track == 1
    assert match_score(box(100), box(300)) is None  # far away: another person


def test_a_new_face_gets_a_new_number_and_a_person_gone_is_forgotten():
    tracker = FaceTracker(max_gap_s=1.0)
    tracker.update([box(100)], 0.0)
    both = tracker.update([box(100), box(500)], 0.5)
    assert [f.track for f in both] == [1, 2]
    tracker.update([box(500)], 1.0)
    assert tracker.people == 2  # person 1 was seen 1.0 s ago: still remembered
    tracker.update([box(500)], 1.6)
    assert tracker.people == 1
    back = tracker.update([box(100), box(500)], 1.7)
    assert [f.track for f in back] == [3, 2]  # numbers are never reused


def test_two_faces_never_share_a_number_and_time_going_back_starts_over():
    tracker = FaceTracker()
    tracker.update([box(100)], 0.0)
    split = tracker.update([box(95), box(110)], 0.1)  # both overlap person 1: only one can be them
    assert sorted(f.track for f in split) == [1, 2]
    assert tracker.update([box(100)], 0.0)[0].track == 1  # a new source: numbering starts again
    assert tracker.people == 1


def test_the_number_is_not_part_of_a_box_equality():
    assert box(100) == FaceTracker().update([box(100)], 0.0)[0]


def estimate(arousal: float, variance: float = 0.04) -> Estimate:
    return Estimate(0.0, arousal, variance, variance, "test")


def test_each_person_is_smoothed_on_their_own():
    smoother = PersonSmoother(time_constant_s=1.0)
    smoother.update(1, estimate(0.0), 0.0)
    smoother.update(2, estimate(0.8), 0.0)
    one = smoother.update(1, estimate(1.0), 0.1)  # a jump for person 1 is damped ...
    two = smoother.update(2, estimate(0.8), 0.1)  # ... and does not touch person 2
    assert one.arousal == pytest.approx(1.0 - pow(2.718281828, -0.1), rel=1e-6)
    assert two.arousal == pytest.approx(0.8)
    for step in range(2, 60):
        one = smoother.update(1, estimate(1.0), step / 10)
    assert one.arousal == pytest.approx(1.0, abs=0.01)  # a steady reading is reached


def test_a_face_without_a_number_or_after_a_gap_starts_fresh():
    smoother = PersonSmoother(time_constant_s=1.0, max_gap_s=1.0)
    assert smoother.update(None, estimate(0.7), 0.0).arousal == 0.7
    smoother.update(1, estimate(0.0), 0.0)
    assert smoother.update(1, estimate(0.9), 2.0).arousal == pytest.approx(0.9)  # gone 2 s: someone new
