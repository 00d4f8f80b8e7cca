"""Issue 24 (8): each panel draws the session's snapshots by itself, with no window around it; the window
only lays the panels out and fans the pipeline worker's one ``snapshot_ready`` out to them."""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import SIGNAL

from moodsic_desktop.core.day_plan import PlanState
from moodsic_desktop.core.matcher import Decision
from moodsic_desktop.core.mood_words import WAITING_WORDS
from moodsic_desktop.core.pipeline import StepRecord
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stabilizer import Stabilized
from moodsic_desktop.core.types import Estimate, FaceBox, FaceRead, RoomEnergy
from moodsic_desktop.session.snapshot import ExpertInfo, LibraryChange, LibraryView, SessionSnapshot
from moodsic_desktop.ui.banner_area import BannerArea
from moodsic_desktop.ui.diagnostics_panel import DiagnosticsPanel
from moodsic_desktop.ui.mood_plane_chart import MoodPlaneChart
from moodsic_desktop.ui.mood_words_panel import MoodWordsPanel
from moodsic_desktop.ui.now_playing_panel import NowPlayingPanel
from moodsic_desktop.ui.preview import PreviewWidget
from moodsic_desktop.ui.session_banners import SessionBanners
from moodsic_desktop.ui.timeline_chart import MoodTimelineChart

SONGS = (
    Song("1", SongMood(0.5, 0.5), title="Open Window"),
    Song("2", SongMood(-0.5, -0.5), title="Rain"),
    Song("3", SongMood(0.6, 0.4)),
)
LIBRARY = LibraryView("test", SONGS, (0, 1, 0), ("Bright", "Dark"))
FACE = FaceRead(FaceBox(10, 10, 50, 50, 0.9), Estimate(0.6, 0.3, 0.05, 0.05, "face"), "happy", 0.8, 1.0)
ROOM = RoomEnergy(people=1, motion=0.02, arousal=0.2, var_arousal=0.04)
FACE_EXPERT = ExpertInfo("face", "fer2013", False, "cpu")


def decision_on(song: Song, started: float, cause: str = "mood moved", detail: str = "") -> Decision:
    reason = f"{cause}: {detail}" if detail else cause
    return Decision(song, True, reason, "Bright", candidates=SONGS[1:], song_started_at=started, cause=cause)


def step_at(now: float, decision: Decision | None = None, mood=(0.5, 0.4), **more) -> StepRecord:
    fused = Estimate(0.5, 0.5, 0.01, 0.01, "fused")
    stabilized = Stabilized(*mood, False, False, 0.3)
    timings = {"face": 12.0, "scene": 30.0, "room": 1.0}
    return StepRecord(now, 1, FACE.box, fused, True, fused, True, fused, stabilized, decision, timings, **more)


def snapshot(step: StepRecord | None = None, **events) -> SessionSnapshot:
    return SessionSnapshot(time.monotonic(), step, LIBRARY, False, FACE_EXPERT, None, 25.0, **events)


class FakePlayer:
    """The audio engine as the now-playing panel reads it."""

    def __init__(self, song: Song | None) -> None:
        self.current_song = song
        self.position_s = 12.0
        self.duration_s = 30.0
        self.crossfade_s = 6.0


def test_the_mood_words_draw_a_reading_and_stop_when_the_source_does(qtbot):
    panel = MoodWordsPanel(lambda: SONGS[0])
    qtbot.addWidget(panel)
    panel.show_settings(0.4, "match")
    assert panel.headline.text() == WAITING_WORDS
    now = time.monotonic()
    held = decision_on(SONGS[0], now - 10.0, "dwell", "10 s of 25 s played")
    panel.show_snapshot(snapshot(step_at(now, held, faces=(FACE,), room=ROOM)))
    assert "reading 1 person" in panel.text()
    assert panel.text().endswith("holding this song for 15 s more")  # 25 s least time, 10 s heard
    panel.show_settings(0.4, "uplift")
    assert "holding this song" in panel.text() and panel.headline.text() != WAITING_WORDS
    panel.show_reading(False)  # the source stopped
    assert panel.headline.text() == WAITING_WORDS and panel.last_step is None
    panel.show_snapshot(snapshot(step_at(now, faces=(FACE,))))  # read from one of its last frames
    assert panel.headline.text() == WAITING_WORDS
    panel.show_reading(True)
    panel.show_snapshot(snapshot(step_at(now, faces=(FACE,))))
    assert "reading 1 person" in panel.text()


def test_the_mood_words_say_a_lined_up_song_is_next(qtbot):
    """Issue 21 (1, 3): a decision on another song than the one playing is about the next song."""
    panel = MoodWordsPanel(lambda: SONGS[0])
    qtbot.addWidget(panel)
    now = time.monotonic()
    panel.show_snapshot(snapshot(step_at(now, decision_on(SONGS[1], now))))
    assert panel.text().endswith("this song plays to its end, the next one is lined up")


def test_now_playing_draws_the_songs_of_the_snapshots_and_the_engine(qtbot):
    player = FakePlayer(SONGS[0])
    panel = NowPlayingPanel(player)
    qtbot.addWidget(panel)
    panel.timer.stop()
    panel.refresh()
    assert panel.title.text() == "Open Window" and panel.reason.text() == ""  # no decision seen yet
    now = time.monotonic()
    chosen = decision_on(SONGS[0], now - 5.0, "mood moved", "0.23 closer than the last song (hysteresis 0.15)")
    panel.show_snapshot(snapshot(decisions=(chosen,)))
    # the matcher lined up the next song: the countdown goes on for the song playing
    panel.show_snapshot(snapshot(step_at(now, decision_on(SONGS[1], now))))
    panel.refresh()
    assert panel.station.text() == "Station: Bright"
    assert panel.reason.text().startswith("Why:") and "hysteresis 0.15" in panel.reason.toolTip()
    assert panel.dwell.text() in ("Stays at least 20 s more", "Stays at least 19 s more")
    assert panel.elapsed.text() == "Elapsed 0:12 / 0:30"
    assert panel.crossfade.isHidden()
    panel.song_started(SONGS[0])  # from silence: it fades in, no crossfade
    assert panel.crossfade.isHidden()
    panel.song_started(SONGS[1])
    assert not panel.crossfade.isHidden() and panel.crossfade.value() < 50
    player.current_song = None
    panel.refresh()
    assert panel.title.text() == "Nothing playing yet" and panel.dwell.text() == ""


def test_the_preview_boxes_the_faces_of_a_step_unless_private_or_stale(qtbot):
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    preview.show_snapshot(snapshot(step_at(1.0, faces=(FACE,))))
    assert preview.faces == (FACE,)
    preview.show_message("gone")
    preview.private = True
    preview.show_snapshot(snapshot(step_at(2.0, faces=(FACE,))))
    assert preview.faces == ()
    preview.private = False
    preview.show_reading(False)
    preview.show_snapshot(snapshot(step_at(3.0, faces=(FACE,))))
    assert preview.faces == ()
    preview.show_snapshot(snapshot())  # no step: nothing changes
    assert preview.faces == ()


def test_the_session_banners_say_the_news_of_a_snapshot(qtbot):
    area = BannerArea()
    qtbot.addWidget(area)
    banners = SessionBanners(area)
    banners.show_snapshot(snapshot(skipped=("Skipped “Rain”: the file is not there",)))
    assert area.text("audio-file") == "Skipped “Rain”: the file is not there"
    lost = LibraryChange(LIBRARY, True, "The music library is gone; the built-in station plays.")
    closed = PlanState(False, None, 8 * 60)
    news = snapshot(
        step_at(1.0, notices=("The face model failed; the built-in reader stands in.",)),
        library_change=lost,
        problems=("The mood reading failed (boom); it restarted and goes on.",),
        day_plan=closed,
    )
    banners.show_snapshot(news)
    assert area.text("audio-file") is None  # old news: the library's banner says why
    assert area.text("library") == lost.message and area.level("library") == "warning"
    assert area.text("pipeline") is not None and area.text("expert-replaced") is not None
    assert area.text("day-plan") == "Closed until 08:00: the music is off"
    area.hide_banner("day-plan")
    banners.show_snapshot(snapshot(day_plan=closed))
    assert area.text("day-plan") is None  # said once, again only when the plan's words change
    banners.show_snapshot(snapshot(day_plan=PlanState(True, None)))
    banners.show_snapshot(snapshot(day_plan=closed))
    assert area.text("day-plan") == "Closed until 08:00: the music is off"


def test_the_timeline_draws_the_steps_of_a_source_being_read(qtbot):
    chart = MoodTimelineChart()
    qtbot.addWidget(chart)
    chart.show_snapshot(snapshot(step_at(1.0)))
    chart.show_snapshot(snapshot(step_at(1.5)))
    chart.show_snapshot(snapshot())
    assert chart.buffered_steps == 2
    chart.show_reading(False)
    chart.show_snapshot(snapshot(step_at(2.0)))
    assert chart.buffered_steps == 2


def test_the_mood_plane_draws_the_library_the_mood_and_the_candidates(qtbot):
    chart = MoodPlaneChart()
    qtbot.addWidget(chart)
    chart.show_snapshot(snapshot())  # the first snapshot: its library
    assert sorted(s.count() for s in chart.station_series) == [1, 2]
    now = time.monotonic()
    chart.show_snapshot(snapshot(step_at(now, decision_on(SONGS[0], now))))
    chart.flush()
    assert chart.current_series.count() == 1 and chart.candidate_series.count() == 2
    fallback = LibraryView("built-in", SONGS[:1], None, None)
    chart.show_snapshot(snapshot(library_change=LibraryChange(fallback, True, "lost")))
    assert [s.count() for s in chart.station_series] == [1]
    chart.show_reading(False)
    chart.show_snapshot(snapshot(step_at(now, mood=(-0.5, -0.5))))  # read from one of the last frames
    chart.flush()
    point = chart.current_series.at(0)
    assert (round(point.x(), 2), round(point.y(), 2)) == (0.5, 0.4)


def test_diagnostics_count_the_readings_of_a_second(qtbot):
    frames = [0]
    panel = DiagnosticsPanel(lambda: 7, lambda: frames[0], lambda: "sound thread: real-time")
    qtbot.addWidget(panel)
    panel.timer.stop()
    for k in range(3):
        panel.show_snapshot(snapshot(step_at(float(k), faces=(FACE,), room=ROOM)))
    frames[0] = 5
    panel.refresh()
    text = panel.status_label.text()
    assert "Faces read 1" in text and "Room energy 1 people" in text and "face: model on cpu" in text
    assert " ms" in text and panel.audio_label.text() == "Audio underflows: 7\nSound threads: sound thread: real-time"
    assert panel.experts == (FACE_EXPERT,)
    panel.show_reading(False)
    panel.show_snapshot(snapshot(step_at(4.0, faces=(FACE,), room=ROOM)))  # after the source stopped
    panel.refresh()
    assert "Faces read 0" in panel.status_label.text() and "Room energy –" in panel.status_label.text()
    assert "Preview 0 fps" in panel.status_label.text()


def test_the_window_fans_one_signal_out_to_every_panel(open_window, qtbot):
    window = open_window()
    worker = window.pipeline_worker
    signal = SIGNAL("snapshot_ready(PyObject)")  # how PySide declares a signal of a Python type
    assert worker.receivers(signal) == len(window.panels) + 1  # the panels and the status bar's export note
    panels = {type(panel).__name__ for panel in window.panels}
    assert panels == {
        "SessionBanners", "MoodWordsPanel", "PreviewWidget", "NowPlayingPanel", "MoodTimelineChart",
        "MoodPlaneChart", "DiagnosticsPanel",
    }  # fmt: skip
    now = time.monotonic()
    steps_before = window.timeline_chart.buffered_steps
    news = replace(
        snapshot(step_at(now, decision_on(SONGS[0], now), faces=(FACE,))),
        skipped=("Skipped “Rain”: the file is not there",),
        exported=("/tmp/report.json",),
    )
    window.sources.reading.emit(True)  # as when a source starts
    worker.snapshot_ready.emit(news)  # emitted on the GUI thread here: every panel draws it at once
    assert window.banners.text("audio-file") == "Skipped “Rain”: the file is not there"
    assert window.mood_words.last_step is news.step and window.preview.faces == (FACE,)
    assert window.timeline_chart.buffered_steps == steps_before + 1
    assert window.statusBar().currentMessage() == "Session exported to /tmp/report.json"
    window.sources.reading.emit(False)
    assert window.mood_words.headline.text() == WAITING_WORDS
