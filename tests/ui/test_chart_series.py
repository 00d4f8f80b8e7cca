"""The charts' series shaping, without Qt: buffer rows from steps, bins, gaps, bands, held shading, time
ticks, station groups and trail segments, checked on their values."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilized
from moodsic_desktop.core.types import Estimate
from moodsic_desktop.ui.chart_palettes import PALETTES, STATION_COLOURS, THEMES, palette_for, station_colour
from moodsic_desktop.ui.chart_series import (
    COLUMNS,
    FACE,
    FUSED,
    HELD,
    LEGEND_LINE_CHARS,
    SCENE,
    SIGMA,
    STABLE,
    ContinuousTime,
    StepBuffer,
    band,
    bin_rows,
    column,
    gapped,
    held_area,
    legend_label,
    nearest_point,
    song_points,
    station_groups,
    step_row,
    time_label,
    time_ticks,
    timeline_points,
    trail_segments,
)

NAN = math.nan


def test_the_shaping_and_palette_modules_import_no_qt():
    code = (
        "import sys\n"
        "import moodsic_desktop.ui.chart_series, moodsic_desktop.ui.chart_palettes\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'PySide6'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def step(t, scene=None, face=None, fused=None, stable=None) -> StepRecord:
    return StepRecord(
        time=t,
        faces_found=int(face is not None),
        face_box=None,
        scene=Estimate(*scene, "scene") if scene else None,
        scene_fresh=True,
        face=Estimate(*face, "face") if face else None,
        face_fresh=True,
        fused=Estimate(*fused, "fused") if fused else None,
        stabilized=Stabilized(*stable, weight=0.5) if stable else None,
        decision=None,
    )


def test_a_step_becomes_one_row_per_dimension_with_nan_for_what_is_missing():
    full = step(
        2.5,
        scene=(0.1, 0.2, 0.0, 0.0),
        face=(0.3, -0.4, 0.0, 0.0),
        fused=(0.25, -0.1, 0.04, -0.01),
        stable=(0.2, -0.05, True, False),
    )
    row = step_row(full, 7.5)
    assert len(row) == COLUMNS == 13 and row[0] == 7.5
    assert row[column(0, SCENE)] == 0.1 and row[column(1, SCENE)] == 0.2
    assert row[column(0, FACE)] == 0.3 and row[column(1, FACE)] == -0.4
    assert row[column(0, FUSED)] == 0.25 and row[column(0, SIGMA)] == pytest.approx(0.2)
    assert row[column(1, SIGMA)] == 0.0  # a negative variance reads as none
    assert (row[column(0, STABLE)], row[column(0, HELD)], row[column(1, HELD)]) == (0.2, 1.0, 0.0)
    empty = step_row(step(3.0), 3.0)
    assert empty[0] == 3.0 and all(math.isnan(v) for i, v in enumerate(empty[1:], 1) if i % 6 != 0)
    assert empty[column(0, HELD)] == empty[column(1, HELD)] == 0.0


def test_time_continues_after_the_source_jumps_back():
    clock = ContinuousTime()
    assert [clock.advance(t) for t in (0.0, 1.0, 2.0, 0.5, 1.5)] == [0.0, 1.0, 2.0, 2.0, 3.0]
    clock.reset()
    assert clock.advance(0.25) == 0.25 and clock.offset == 0.0


def test_the_buffer_drops_old_rows_and_stays_bounded():
    buffer = StepBuffer(2, keep_s=10.0, capacity=4, max_rows=6)
    for t in range(5):
        buffer.append([t, t * 10])
    assert len(buffer) == 5 and buffer.last_time() == 4.0 and buffer.capacity == 8
    buffer.drop_before(2.0)
    assert buffer.rows()[:, 0].tolist() == [2.0, 3.0, 4.0]
    for t in range(5, 40):
        buffer.append([t, 0])
    assert len(buffer) <= 2 * 6 and buffer.capacity <= 12 and buffer.last_time() == 39.0
    assert np.all(np.diff(buffer.rows()[:, 0]) == 1.0)
    buffer.clear()
    assert len(buffer) == 0 and buffer.last_time() is None


def test_bins_average_what_is_there_and_hold_when_any_row_held():
    rows = np.full((4, COLUMNS), NAN)
    rows[:, 0] = [0.0, 0.5, 1.0, 1.5]
    rows[:, column(0, SCENE)] = [0.2, 0.4, NAN, NAN]
    rows[:, column(0, FACE)] = [0.1, NAN, 0.3, 0.5]
    rows[:, column(0, HELD)] = [0.0, 1.0, 0.0, 0.0]
    rows[:, column(1, HELD)] = 0.0
    binned = bin_rows(rows, 1.0)
    assert binned[:, 0].tolist() == [0.25, 1.25]
    assert binned[0, column(0, SCENE)] == pytest.approx(0.3) and math.isnan(binned[1, column(0, SCENE)])
    assert binned[:, column(0, FACE)].tolist() == pytest.approx([0.1, 0.4])
    assert binned[:, column(0, HELD)].tolist() == [1.0, 0.0] and binned[:, column(1, HELD)].tolist() == [0.0, 0.0]


def test_missing_values_become_one_break_point_per_gap():
    x = np.arange(8.0)
    y = np.array([NAN, 1.0, 2.0, NAN, NAN, 5.0, 6.0, NAN])
    gx, gy = gapped(x, y)
    assert gx.tolist() == [1.0, 2.0, 3.0, 5.0, 6.0]
    assert gy[:2].tolist() == [1.0, 2.0] and math.isnan(gy[2]) and gy[3:].tolist() == [5.0, 6.0]
    assert [len(a) for a in gapped(x, np.full(8, NAN))] == [0, 0]
    full = np.arange(8.0) * 2
    assert gapped(x, full)[1] is full


def test_the_band_is_centre_plus_minus_sigma_and_closes_over_gaps():
    x = np.arange(5.0)
    centre = np.array([0.0, 0.1, NAN, 0.3, 0.4])
    sigma = np.array([0.1, 0.2, 0.2, 0.1, NAN])
    bx, upper, lower = band(x, centre, sigma)
    assert bx.tolist() == [0.0, 1.0, 1.0, 3.0, 3.0]
    assert upper.tolist() == pytest.approx([0.1, 0.3, 0.1, 0.3, 0.4])
    assert lower.tolist() == pytest.approx([-0.1, -0.1, 0.1, 0.3, 0.2])


def test_held_periods_rise_to_the_top_until_the_next_step():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    hx, hy = held_area(x, np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0]))
    assert hx.tolist() == [1.0, 1.0, 3.0, 3.0, 5.0, 5.0, 5.0, 5.0]
    assert hy.tolist() == [-1.0, 1.0, 1.0, -1.0] * 2
    assert [len(a) for a in held_area(x, np.zeros(6))] == [0, 0]


def rows_of(times, value=0.5, sigma=0.1, held=0.0) -> np.ndarray:
    rows = np.zeros((len(times), COLUMNS))
    rows[:, 0] = times
    for d in range(2):
        rows[:, column(d, SCENE)] = rows[:, column(d, FACE)] = rows[:, column(d, STABLE)] = value
        rows[:, column(d, FUSED)], rows[:, column(d, SIGMA)], rows[:, column(d, HELD)] = value, sigma, held
    return rows


def test_timeline_points_are_relative_to_now_and_binned_beyond_max_points():
    few = timeline_points(rows_of([10.0, 11.0, 12.0]), window_s=60.0, max_points=10, area_points=10)
    assert len(few) == 2
    x, y = few[0].lines["stabilised"]
    assert x.tolist() == [-2.0, -1.0, 0.0] and y.tolist() == [0.5] * 3
    bx, upper, lower = few[1].band
    assert bx.tolist() == [-2.0, -1.0, 0.0] and upper.tolist() == pytest.approx([0.6] * 3)
    assert lower.tolist() == pytest.approx([0.4] * 3)
    assert [len(a) for a in (*few[0].held_upper, *few[0].held_lower)] == [0, 0, 0, 0]

    many = timeline_points(rows_of(np.arange(0.0, 60.0, 0.1), held=1.0), window_s=60.0, max_points=60, area_points=30)
    lx, _ = many[0].lines["scene"]
    assert len(lx) == 60 and lx[-1] == pytest.approx(-0.45)  # 1 s bins: the last bin's mean time is 59.45 s
    assert len(many[0].band[0]) == 30  # the areas in 2 s bins, the first one's mean time 0.95 s
    hx, hy = many[0].held_upper
    assert hy.tolist() == [-1.0, 1.0, 1.0, -1.0] and hx[0] == pytest.approx(-58.95) and hx[-1] == pytest.approx(-0.95)
    lower_x, lower_y = many[0].held_lower
    assert lower_x.tolist() == [hx[0], hx[-1]] and lower_y.tolist() == [-1.0, -1.0]

    none = timeline_points(np.empty((0, COLUMNS)), window_s=60.0, max_points=10, area_points=10)
    assert all(len(a) == 0 for d in none for line in d.lines.values() for a in line)


def test_time_labels_and_ticks():
    assert [time_label(s) for s in (0.0, 0.4, 59.6, 75.0, 3725.0)] == ["now", "now", "−1:00", "−1:15", "−1:02:05"]
    labels, values = zip(*time_ticks(180.0), strict=True)  # 30 s steps: six intervals
    assert labels == ("−3:00", "−2:30", "−2:00", "−1:30", "−1:00", "−0:30", "now")
    assert values == (-180.0, -150, -120, -90, -60, -30, 0)
    assert [value for _, value in time_ticks(100.0)] == [-100.0, -80, -60, -40, -20, 0]  # 20 s steps
    assert time_ticks(10.0)[-1] == ("now", 0) and len(time_ticks(10.0)) == 3


def songs(*points) -> list[Song]:
    return [Song(song_id=f"s{i}", mood=SongMood(v, a)) for i, (v, a) in enumerate(points)]


def test_songs_are_grouped_and_labelled_by_station():
    library = songs((0.1, 0.2), (-0.5, 0.5), (0.3, -0.3))
    groups = station_groups(library, [1, 0, 1], ["Calm", "Lively", "Empty"])
    assert [label for label, _ in groups] == ["Calm (1)", "Lively (2)", "Empty (0)"]
    assert [[s.song_id for s in g] for _, g in groups] == [["s1"], ["s0", "s2"], []]
    assert [label for label, _ in station_groups(library, [2, 0, 0])] == [
        "Station 1 (2)",
        "Station 2 (0)",
        "Station 3 (1)",
    ]
    assert station_groups(library) == [("Library", library)] and station_groups([]) == []
    with pytest.raises(ValueError, match="2 entries for 3 songs"):
        station_groups(library, [0, 1])
    with pytest.raises(ValueError, match="negative"):
        station_groups(library, [0, -1, 0])
    points = song_points(library)
    assert points.shape == (3, 2) and points.tolist() == [[0.1, 0.2], [-0.5, 0.5], [0.3, -0.3]]
    assert song_points([]).shape == (0, 2)
    assert nearest_point(points, 0.25, -0.2) == 2 and nearest_point(points, -1.0, 1.0) == 1


def test_the_trail_is_cut_into_segments_that_share_their_ends():
    trail = np.column_stack((np.arange(9.0), np.zeros(9)))
    parts = trail_segments(trail, 4)
    assert [p[:, 0].tolist() for p in parts] == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8]]
    short = trail_segments(trail[:3], 4)  # bounds 0, 0.5→0, 1, 1.5→2, 2 (halves round to even): two parts
    assert [p[:, 0].tolist() for p in short] == [[], [0, 1], [1, 2], []]
    assert all(p.shape == (0, 2) for p in trail_segments(trail[:1], 4))


def test_palettes_by_theme_and_station_colours_repeat():
    assert set(PALETTES) == set(THEMES) and palette_for("light").plot_area == "#ffffff"
    assert all(0 <= p.band_alpha <= 255 and 0 <= p.held_alpha <= 255 for p in PALETTES.values())
    with pytest.raises(ValueError, match="unknown chart theme 'sepia'"):
        palette_for("sepia")
    assert station_colour(0) == STATION_COLOURS[0] and station_colour(len(STATION_COLOURS) + 2) == STATION_COLOURS[2]


def test_a_station_told_apart_by_its_music_has_its_own_legend_line_for_that():
    assert legend_label("Calm & Neutral", 12) == "Calm & Neutral (12)"
    assert legend_label("Downcast & Low-energy, like “Rainy Window”", 2) == (
        "Downcast &amp; Low-energy,<br>like “Rainy Window” (2)"
    )
    assert legend_label("Joyful & Upbeat, livelier", 7) == "Joyful &amp; Upbeat,<br>livelier (7)"
    # A long title is shortened, its closing quote and the count kept; markup in a title stays words.
    long = legend_label("Tense & Driving, like “<Live> at the Royal Albert Hall, 1966”", 3)
    second = long.split("<br>")[1]
    assert second == "like “&lt;Live&gt; at the Royal Al…” (3)"
    assert len("like “<Live> at the Royal Al…”") == LEGEND_LINE_CHARS
