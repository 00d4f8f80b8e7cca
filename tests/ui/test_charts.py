"""The live charts: what each series holds after steps arrive, gaps, held shading, bounds, markers, PNGs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QTextDocumentFragment
from PySide6.QtWidgets import QApplication

from moodsic_desktop.audio.library.sources import read_deam
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilized
from moodsic_desktop.core.stations import StationModel
from moodsic_desktop.core.types import Estimate
from moodsic_desktop.ui.chart_series import STOPPED_GAP_S, legend_label
from moodsic_desktop.ui.mood_plane_chart import MoodPlaneChart
from moodsic_desktop.ui.timeline_chart import MoodTimelineChart


def estimate(valence: float, arousal: float, var_valence: float = 0.01, var_arousal: float = 0.04) -> Estimate:
    return Estimate(valence, arousal, var_valence, var_arousal, "test")


def step(
    t: float,
    scene: Estimate | None = None,
    face: Estimate | None = None,
    fused: Estimate | None = None,
    stable: tuple[float, float] | None = None,
    held: tuple[bool, bool] = (False, False),
    decision: Decision | None = None,
) -> StepRecord:
    stabilized = Stabilized(stable[0], stable[1], held[0], held[1], 0.2) if stable is not None else None
    return StepRecord(
        time=t,
        faces_found=int(face is not None),
        face_box=None,
        scene=scene,
        scene_fresh=True,
        face=face,
        face_fresh=True,
        fused=fused,
        stabilized=stabilized,
        decision=decision,
    )


def points(series) -> list[tuple[float, float]]:
    return [(p.x(), p.y()) for p in series.points()]


def near(expected) -> object:
    """pytest.approx for a list of (x, y) points."""
    return pytest.approx(np.asarray(expected, dtype=float))


def finite_points(series) -> list[tuple[float, float]]:
    return [(x, y) for x, y in points(series) if math.isfinite(y)]


def distinct_colours(image: QImage, stride: int = 5) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), stride) for y in range(0, image.height(), stride)}


@pytest.fixture
def timeline(qtbot) -> MoodTimelineChart:
    chart = MoodTimelineChart(window_s=60.0)
    qtbot.addWidget(chart)
    chart.resize(800, 460)
    return chart


@pytest.fixture
def plane(qtbot) -> MoodPlaneChart:
    chart = MoodPlaneChart()
    qtbot.addWidget(chart)
    chart.resize(640, 460)
    return chart


def song(song_id: str, valence: float, arousal: float) -> Song:
    return Song(song_id=song_id, mood=SongMood(valence, arousal), title=f"Title {song_id}")


# -- time series ----------------------------------------------------------------------------------------------


def test_each_reading_lands_in_its_own_series_relative_to_now(timeline):
    timeline.add_step(step(10.0, estimate(0.1, -0.1), estimate(0.2, -0.2), estimate(0.15, -0.15), (0.12, -0.12)))
    timeline.add_step(step(11.0, estimate(0.3, -0.3), estimate(0.4, -0.4), estimate(0.35, -0.35), (0.2, -0.2)))
    timeline.flush()
    valence, arousal = timeline.dimension("valence"), timeline.dimension("arousal")
    assert points(valence.scene) == near([(-1.0, 0.1), (0.0, 0.3)])
    assert points(valence.face) == near([(-1.0, 0.2), (0.0, 0.4)])
    assert points(valence.fused) == near([(-1.0, 0.15), (0.0, 0.35)])
    assert points(valence.stabilised) == near([(-1.0, 0.12), (0.0, 0.2)])
    assert points(arousal.scene) == near([(-1.0, -0.1), (0.0, -0.3)])
    assert points(arousal.face) == near([(-1.0, -0.2), (0.0, -0.4)])
    assert points(arousal.fused) == near([(-1.0, -0.15), (0.0, -0.35)])
    assert points(arousal.stabilised) == near([(-1.0, -0.12), (0.0, -0.2)])


def test_missing_readings_are_gaps_not_zeros(timeline):
    faces = [None, 0.5, 0.6, None, None, None, 0.7, None]
    for t, face in enumerate(faces):
        timeline.add_step(step(float(t), estimate(0.3, 0.3), None if face is None else estimate(face, -face)))
    timeline.flush()
    face = timeline.dimension("valence").face
    now = len(faces) - 1
    assert finite_points(face) == near([(1 - now, 0.5), (2 - now, 0.6), (6 - now, 0.7)])
    # One break (a NaN point) between 0.6 and 0.7; no leading or trailing breaks; nothing invented.
    ys = [y for _, y in points(face)]
    assert len(ys) == 4 and math.isnan(ys[2])
    assert 0.0 not in ys
    # A reading that never came (fused, stabilised are None throughout) leaves its series empty.
    assert timeline.dimension("valence").fused.count() == 0
    assert timeline.dimension("arousal").stabilised.count() == 0
    assert timeline.dimension("valence").band.upperSeries().count() == 0


def test_a_gap_is_drawn_as_a_break_in_the_line(timeline, qtbot):
    timeline.window_s = 30.0
    timeline.show()
    qtbot.waitExposed(timeline)
    for i in range(61):  # t = 0 … 30 s; the face is missing from 10 to 20 s (x = -20 … -10)
        t = i * 0.5
        timeline.add_step(step(t, face=None if 10 < t < 20 else estimate(0.5, 0.5)))
    timeline.flush()
    QApplication.processEvents()
    view = timeline.chart_view("valence")
    chart, series = view.chart(), timeline.dimension("valence").face
    image = view.grab().toImage()

    def face_colour_near(x: float) -> bool:
        at = view.mapFromScene(chart.mapToScene(chart.mapToPosition(QPointF(x, 0.5), series)))
        for dy in range(-3, 4):
            colour = QColor(image.pixel(at.x(), at.y() + dy))
            if colour.blue() - colour.red() > 60:
                return True
        return False

    assert face_colour_near(-25.0) and face_colour_near(-5.0)
    assert not face_colour_near(-15.0)


def test_held_periods_are_shaded_until_the_next_step(timeline):
    for t in range(10):
        held_valence = 3 <= t <= 5
        timeline.add_step(step(float(t), fused=estimate(0.1, 0.1), stable=(0.1, 0.1), held=(held_valence, False)))
    timeline.flush()
    held = timeline.dimension("valence").held
    # Held at t = 3, 4, 5 covers 3 s … 6 s; now = 9 s.
    assert points(held.upperSeries()) == near([(-6.0, -1.0), (-6.0, 1.0), (-3.0, 1.0), (-3.0, -1.0)])
    assert [y for _, y in points(held.lowerSeries())] == [-1.0, -1.0]
    assert timeline.dimension("arousal").held.upperSeries().count() == 0


def test_two_held_periods_give_two_bands(timeline):
    pattern = [False, True, True, False, False, True, False]
    for t, held in enumerate(pattern):
        timeline.add_step(step(float(t), fused=estimate(0.0, 0.0), stable=(0.0, 0.0), held=(False, held)))
    timeline.flush()
    upper = points(timeline.dimension("arousal").held.upperSeries())
    raised = [x for x, y in upper if y == 1.0]
    assert raised == pytest.approx([-5.0, -3.0, -1.0, 0.0])


def test_band_is_fused_plus_and_minus_sigma(timeline):
    variances = [(0.01, 0.04), (0.09, 0.0), (0.25, 0.16)]
    for t, (var_v, var_a) in enumerate(variances):
        timeline.add_step(step(float(t), fused=estimate(0.2 * t, -0.1 * t, var_v, var_a)))
    timeline.flush()
    for name, sign, index in (("valence", 0.2, 0), ("arousal", -0.1, 1)):
        band = timeline.dimension(name).band
        fused = [sign * t for t in range(3)]
        sigma = [math.sqrt(v[index]) for v in variances]
        xs = [-2.0, -1.0, 0.0]
        assert points(band.upperSeries()) == near(list(zip(xs, np.add(fused, sigma), strict=True)))
        assert points(band.lowerSeries()) == near(list(zip(xs, np.subtract(fused, sigma), strict=True)))


def test_band_has_no_width_across_a_gap(timeline):
    for t in range(6):
        fused = None if t in (2, 3) else estimate(0.1 * t, 0.0, 0.04, 0.04)
        timeline.add_step(step(float(t), fused=fused))
    timeline.flush()
    band = timeline.dimension("valence").band
    # Readings at x = -5, -4, -1, 0 (sigma 0.2); across the gap both edges follow the fused line.
    assert points(band.upperSeries()) == near([(-5, 0.2), (-4, 0.3), (-4, 0.1), (-1, 0.4), (-1, 0.6), (0, 0.7)])
    assert points(band.lowerSeries()) == near([(-5, -0.2), (-4, -0.1), (-4, 0.1), (-1, 0.4), (-1, 0.2), (0, 0.3)])


def test_points_older_than_the_window_are_dropped(timeline):
    timeline.window_s = 10.0
    for t in range(31):
        timeline.add_step(step(float(t), estimate(t / 100, 0.0), fused=estimate(0.0, 0.0), stable=(0.0, 0.0)))
    timeline.flush()
    assert timeline.buffered_steps == 11
    scene = points(timeline.dimension("valence").scene)
    assert [x for x, _ in scene] == pytest.approx([float(x) for x in range(-10, 1)])
    assert scene[0][1] == pytest.approx(0.20)
    arousal = timeline.dimension("arousal")
    for series in (arousal.scene, arousal.fused, arousal.stabilised, arousal.band.upperSeries()):
        assert [x for x, _ in points(series)] == pytest.approx([float(x) for x in range(-10, 1)])


def test_time_that_jumps_back_keeps_scrolling(timeline):
    for t in (100.0, 101.0, 102.0, 0.0, 1.0):  # a looping video file starts again at 0
        timeline.add_step(step(t, estimate(t / 1000, 0.0)))
    timeline.flush()
    xs = [x for x, _ in points(timeline.dimension("valence").scene)]
    assert xs == sorted(xs) and len(xs) == 5 and xs[-1] == 0.0


def test_clear_empties_everything(timeline):
    for t in range(5):
        timeline.add_step(
            step(float(t), estimate(0.1, 0.1), fused=estimate(0.1, 0.1), stable=(0.1, 0.1), held=(True, True))
        )
    timeline.clear()
    assert timeline.buffered_steps == 0
    for name in ("valence", "arousal"):
        series = timeline.dimension(name)
        assert all(line.count() == 0 for line in series.lines().values())
        assert series.band.upperSeries().count() == 0 and series.held.upperSeries().count() == 0


def test_redraws_are_coalesced_by_the_timer(timeline, qtbot):
    timeline.show()
    qtbot.waitExposed(timeline)
    for t in range(20):
        timeline.add_step(step(t * 0.03, estimate(0.1, 0.1)))
    scene = timeline.dimension("valence").scene
    assert scene.count() == 0  # nothing drawn synchronously
    qtbot.waitUntil(lambda: scene.count() == 20)


def test_ten_thousand_steps_stay_bounded(qtbot):
    chart = MoodTimelineChart(window_s=60.0, max_points=200)
    qtbot.addWidget(chart)
    rows_in_window = 60 * 30 + 1
    for i in range(10_000):  # 333 s at 30 steps per second
        t = i / 30
        face = None if i % 7 == 0 else estimate(math.sin(t), math.cos(t))
        chart.add_step(step(t, estimate(0.1, 0.1), face, estimate(0.1, 0.1), (0.1, 0.1), (i % 90 < 30, False)))
        if i % 1000 == 999:
            chart.flush()
            assert chart.buffered_steps <= rows_in_window
    chart.flush()
    assert chart.buffered_steps == rows_in_window
    for name in ("valence", "arousal"):
        series = chart.dimension(name)
        for line in series.lines().values():
            assert 0 < line.count() <= chart.max_points + 1
            assert min(p.x() for p in line.points()) >= -60.0
        assert 0 < series.band.upperSeries().count() <= chart.max_points + 1
        assert series.held.upperSeries().count() <= 4 * (chart.max_points // 2 + 1)


def test_the_buffer_stays_bounded_even_without_redraws(qtbot):
    chart = MoodTimelineChart(window_s=20.0)
    qtbot.addWidget(chart)  # never shown: the timer never redraws
    for i in range(10_000):
        chart.add_step(step(i / 30, estimate(0.1, 0.1)))
    assert chart.buffered_steps <= 4 * (20 * 30 + 1) + 1024


def test_timeline_png_is_written_and_not_blank(timeline, tmp_path):
    for i in range(300):
        t = i / 10
        timeline.add_step(
            step(
                t,
                estimate(math.sin(t), 0.2),
                estimate(0.5, math.cos(t)),
                estimate(0.3, 0.1),
                (0.3, 0.1),
                (i > 200, False),
            )
        )
    path = timeline.save_png(tmp_path / "export" / "timeline.png")
    assert path == tmp_path / "export" / "timeline.png"
    assert [p.name for p in path.parent.iterdir()] == ["timeline.png"]  # written whole: no temporary file left
    image = QImage(str(path))
    assert not image.isNull() and image.width() >= 400
    assert len(distinct_colours(image)) > 10


# -- valence-arousal plane ---------------------------------------------------------------------------------------


def test_one_scatter_series_per_station(plane):
    songs = [song(str(i), (i % 10) / 10 - 0.5, (i // 10) / 10 - 0.5) for i in range(30)]
    station_of = [i % 3 for i in range(30)]
    station_of[0] = 2  # uneven counts: 9, 10, 11
    plane.set_library(songs, station_of, ["Calm", "Bright", "Tense"])
    series = plane.station_series
    assert [s.count() for s in series] == [9, 10, 11]
    assert [s.name() for s in series] == ["Calm (9)", "Bright (10)", "Tense (11)"]
    assert points(series[2])[0] == pytest.approx((songs[0].valence, songs[0].arousal))
    assert len({s.brush().color().name() for s in series}) == 3
    # A new library replaces the old one.
    plane.set_library(songs[:4])
    assert [(s.name(), s.count()) for s in plane.station_series] == [("Library", 4)]


def test_the_legend_keeps_what_tells_two_stations_apart_and_their_counts(qtbot):
    """The window's plane at 1366x768 is about 808x330; Qt Charts gives its legend about 40 % of that and
    cuts a line too wide at its end: "Downcast & Low-energy, like “Rainy Wind…" lost the title and the count."""
    chart = MoodPlaneChart()
    qtbot.addWidget(chart)
    chart.resize(808, 330)
    chart.show()
    names = ["Joyful & Upbeat", "Downcast & Low-energy, like “Rainy Window”", "Downcast & Low-energy, like “Blue Hour”"]
    chart.set_library([song(str(i), -0.5 + i / 10, 0.1) for i in range(6)], [i % 3 for i in range(6)], names)
    legend = chart.chart().legend()
    metrics = QFontMetricsF(legend.font())
    labels = [QTextDocumentFragment.fromHtml(s.name()).toPlainText() for s in chart.station_series]
    widest = max(metrics.horizontalAdvance(line) for label in labels for line in label.splitlines())

    def legend_width(width: int) -> float:
        chart.resize(width, 330)
        QApplication.processEvents()
        return legend.geometry().width()

    beside_text = legend_width(2400) - widest  # the marker, its gap and the legend's margins, with room to spare
    assert widest <= legend_width(808) - beside_text  # so no line is cut
    assert labels == [
        "Joyful & Upbeat (2)",
        "Downcast & Low-energy,\nlike “Rainy Window” (2)",
        "Downcast & Low-energy,\nlike “Blue Hour” (2)",
    ]


def test_station_names_default_and_lengths_must_match(plane):
    songs = [song("a", 0.1, 0.1), song("b", -0.1, 0.2)]
    plane.set_library(songs, [1, 1])
    assert [(s.name(), s.count()) for s in plane.station_series] == [("Station 1 (0)", 0), ("Station 2 (2)", 2)]
    with pytest.raises(ValueError, match="station_of"):
        plane.set_library(songs, [0])


def test_the_real_library_by_station(plane, deam_fixture):
    songs = read_deam(deam_fixture).songs
    valence = np.array([s.valence for s in songs])
    arousal = np.array([s.arousal for s in songs])
    model = StationModel.fit(valence, arousal, n_stations=5)
    station_of = model.predict(valence, arousal)
    plane.set_library(songs, station_of, model.names)
    series = plane.station_series
    assert len(series) == 5
    assert [s.count() for s in series] == [int(np.sum(station_of == k)) for k in range(5)]
    assert sum(s.count() for s in series) == len(songs) > 1500
    labels = [legend_label(name, s.count()) for s, name in zip(series, model.names, strict=True)]
    assert [s.name() for s in series] == labels


def test_markers_move(plane):
    library = [song(str(i), i / 10 - 0.5, 0.5 - i / 10) for i in range(10)]
    plane.set_library(library)
    plane.set_playing(library[3])
    assert points(plane.playing_series) == near([(library[3].valence, library[3].arousal)])
    plane.set_playing(library[7])
    assert points(plane.playing_series) == near([(library[7].valence, library[7].arousal)])
    plane.set_playing(None)
    assert plane.playing_series.count() == 0

    plane.set_candidates(library[:3])
    assert points(plane.candidate_series) == near([(s.valence, s.arousal) for s in library[:3]])
    plane.set_candidates([])
    assert plane.candidate_series.count() == 0

    plane.set_current(0.25, -0.5)
    plane.set_current(0.3, -0.4)
    plane.flush()
    assert points(plane.current_series) == near([(0.3, -0.4)])
    plane.set_current(float("nan"), 0.0)  # ignored
    plane.clear_trail()
    assert plane.current_series.count() == 0
    assert all(line.count() == 0 for line in plane.trail_series)


def test_trail_keeps_the_recent_points_in_order(qtbot):
    plane = MoodPlaneChart(trail_length=60)
    qtbot.addWidget(plane)
    path = [(math.cos(i / 20) * 0.8, math.sin(i / 20) * 0.8) for i in range(150)]
    for v, a in path:
        plane.set_current(v, a)
    plane.flush()
    trail: list[tuple[float, float]] = []
    for line in plane.trail_series:  # segments share their end points
        for point in points(line):
            if not trail or point != trail[-1]:
                trail.append(point)
    assert trail == near(path[-60:])
    assert points(plane.current_series) == near([path[-1]])


def test_add_step_follows_the_decision(plane):
    library = [song(str(i), i / 10 - 0.5, 0.0) for i in range(10)]
    plane.set_library(library)
    decision = Decision(library[4], True, "closest", None, candidates=(library[5], library[6]))
    plane.add_step(step(1.0, fused=estimate(0.0, 0.0), stable=(-0.1, 0.05), decision=decision))
    plane.flush()
    assert points(plane.current_series) == near([(-0.1, 0.05)])
    assert points(plane.playing_series) == near([(library[4].valence, 0.0)])
    assert points(plane.candidate_series) == near([(library[5].valence, 0.0), (library[6].valence, 0.0)])


def test_plane_png_is_written_and_not_blank(plane, tmp_path):
    library = [song(str(i), math.cos(i) * 0.8, math.sin(i * 1.3) * 0.8) for i in range(200)]
    plane.set_library(library, [i % 4 for i in range(200)], ["A", "B", "C", "D"])
    plane.set_current(0.2, 0.3)
    plane.set_playing(library[0])
    path = plane.save_png(tmp_path / "plane.png")
    image = QImage(str(path))
    assert not image.isNull() and image.width() >= 300
    assert len(distinct_colours(image)) > 10


def test_unknown_theme_is_refused(qtbot):
    with pytest.raises(ValueError, match="theme"):
        MoodPlaneChart(theme="neon")
    light = MoodTimelineChart(theme="light")
    qtbot.addWidget(light)


def test_a_stopped_period_is_a_gap_not_a_straight_line(timeline):
    """Issue 21 (9): no step for a while (the source stopped), then steps again: the lines break there."""
    for t in [0.0, 1.0, 2.0, 30.0, 31.0, 32.0]:
        timeline.add_step(step(t, estimate(0.3, 0.3), fused=estimate(0.3, 0.3), stable=(0.1 if t < 10 else 0.6, 0.0)))
    timeline.flush()
    stable = points(timeline.dimension("valence").stabilised)
    ys = [y for _, y in stable]
    assert len(ys) == 7 and math.isnan(ys[3])  # one break between 2 s and 30 s, just after the last reading
    assert stable[3][0] == pytest.approx(2.0 + STOPPED_GAP_S / 2 - 32.0)
    assert finite_points(timeline.dimension("valence").scene) == near([(t - 32.0, 0.3) for t in (0, 1, 2, 30, 31, 32)])
    assert math.isnan(points(timeline.dimension("valence").scene)[3][1])


def test_a_held_step_before_a_stop_is_not_shaded_across_the_stopped_time(timeline):
    """The music held at the last reading, then the source stopped for 40 s: the shading ends just after that
    reading (it reached half-way across the stopped time, as if the mood had been read and held then)."""
    for t in [0.0, 1.0, 2.0, 42.0, 43.0]:
        timeline.add_step(step(t, fused=estimate(0.1, 0.1), stable=(0.1, 0.1), held=(t == 2.0, False)))
    timeline.flush()
    upper = points(timeline.dimension("valence").held.upperSeries())
    assert upper == near([(-41.0, -1.0), (-41.0, 1.0), (-40.0, 1.0), (-40.0, -1.0)])
