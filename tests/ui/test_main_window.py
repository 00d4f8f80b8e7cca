"""The main window end to end (offscreen): real MediaPipe, real workers, the audio engine on a null output."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QPushButton

from moodsic_desktop.audio.library.sources import read_deam
from moodsic_desktop.audio.output import NullBackend
from moodsic_desktop.ui.app import create_window
from moodsic_desktop.ui.preview import EMPTY_TEXT, UNREADABLE_TEXT
from moodsic_desktop.ui.settings import SettingsStore, UserSettings
from tests.ui.conftest import WAIT_MS


def current_song_id(window):
    song = window.engine.current_song
    return song.song_id if song else None


def test_window_opens_in_a_friendly_empty_state(open_window):
    window = open_window()
    assert window.windowTitle() == "Moodsic"
    assert not window.running and not window.preview.has_image
    assert window.preview._message == EMPTY_TEXT
    assert window.banners.text("models") is None  # nothing for the owner to do: no developer text on top
    experts = window.diagnostics.experts_label.text()  # the expert detail is in Diagnostics
    assert "face: fer2013-mini-xception (ONNX) on CPU — licence MIT" in experts  # the model in the box
    assert "built-in scene reader" in experts and "models folder" in experts
    assert window.controls.alpha_slider.value() == 30 and window.controls.dwell_slider.value() == 25
    assert "settles in ~2.8 s" in window.controls.alpha_label.text()  # the time constant of α 0.30
    assert window.mood_words.headline.text() == "Waiting for a picture"
    assert window.now_playing.title.text() == "Nothing playing yet"
    assert window.plane_chart.station_series  # the library's songs are on the plane


def test_video_runs_end_to_end_and_the_music_follows_the_mood(open_window, mood_video, playable_library, qtbot):
    songs = {s.song_id: s for s in read_deam(playable_library).songs}
    window = open_window(str(mood_video), UserSettings(alpha=0.9, min_dwell_s=3.0, crossfade_s=1.0, loop_video=False))
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: current_song_id(window) is not None, timeout=WAIT_MS)
    first = current_song_id(window)
    qtbot.waitUntil(lambda: window.now_playing.title.text() == songs[first].title, timeout=WAIT_MS)
    assert window.now_playing.reason.text().startswith("Why: The closest song to the room's mood")  # plain words
    assert "first pick" in window.now_playing.reason.toolTip()  # the matcher's own words behind them
    # the bright half of the clip brings a brighter song, shown in the now-playing panel
    qtbot.waitUntil(
        lambda: (
            current_song_id(window) not in (None, first)
            and songs[current_song_id(window)].valence > songs[first].valence
        ),
        timeout=WAIT_MS,
    )
    later = current_song_id(window)
    qtbot.waitUntil(lambda: window.now_playing.title.text() == songs[later].title, timeout=WAIT_MS)
    assert window.report.metrics.steps > 20
    assert "fps" in window.diagnostics.status_label.text()


def test_sliders_reach_the_stabiliser_and_matcher_while_running(open_window, mood_video, qtbot):
    window = open_window(str(mood_video))
    qtbot.waitUntil(lambda: window.report.metrics.steps > 3, timeout=WAIT_MS)
    pipeline = window.session.pipeline
    window.controls.alpha_slider.setValue(75)
    window.controls.tau_slider.setValue(15)
    window.controls.dwell_slider.setValue(90)
    window.controls.mode_combo.setCurrentIndex(window.controls.mode_combo.findData("calm"))
    window.diagnostics.fusion_combo.setCurrentIndex(window.diagnostics.fusion_combo.findData("scene"))
    qtbot.waitUntil(
        lambda: (
            (pipeline.stabilizer.alpha, pipeline.stabilizer.tau, pipeline.matcher.min_dwell_s) == (0.75, 0.15, 90.0)
        ),
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(
        lambda: pipeline.matcher.mode == "calm" and pipeline.settings.fusion_mode == "scene", timeout=WAIT_MS
    )
    window.controls.crossfade_slider.setValue(12)
    window.controls.volume_slider.setValue(40)
    assert window.engine.crossfade_s == 12.0 and window.engine.volume == pytest.approx(0.4)
    # the settings are saved for the next run
    qtbot.waitUntil(lambda: SettingsStore().load()[0].alpha == 0.75, timeout=WAIT_MS)


def test_skip_and_ban(open_window, mood_video, qtbot):
    window = open_window(str(mood_video), UserSettings(crossfade_s=0.0, min_dwell_s=600.0))
    qtbot.waitUntil(lambda: current_song_id(window) is not None, timeout=WAIT_MS)
    first = current_song_id(window)
    window.controls.skip_button.click()
    qtbot.waitUntil(lambda: current_song_id(window) not in (None, first), timeout=WAIT_MS)
    second = current_song_id(window)
    qtbot.waitUntil(lambda: "You skipped the last song" in window.now_playing.reason.text(), timeout=WAIT_MS)
    window.controls.ban_button.click()
    qtbot.waitUntil(lambda: current_song_id(window) not in (None, second), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.session.pipeline.matcher.is_banned(second), timeout=WAIT_MS)


def test_a_song_banned_by_mistake_comes_back_with_undo(open_window, mood_video, qtbot):
    window = open_window(str(mood_video), UserSettings(crossfade_s=0.0, min_dwell_s=600.0))
    qtbot.waitUntil(lambda: window.engine.current_song is not None, timeout=WAIT_MS)
    heard = window.engine.current_song
    window.controls.ban_button.click()
    assert f"“{heard.display_name}” will not play again" in window.banners.text("ban")
    matcher = window.session.pipeline.matcher
    qtbot.waitUntil(lambda: matcher.is_banned(heard.song_id), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: current_song_id(window) not in (None, heard.song_id), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "You said never to play the last song" in window.now_playing.reason.text(), timeout=WAIT_MS)
    undo = [button for button in window.banners.findChildren(QPushButton) if button.text() == "Undo"]
    assert len(undo) == 1
    undo[0].click()
    assert window.banners.text("ban") is None
    qtbot.waitUntil(lambda: not matcher.is_banned(heard.song_id), timeout=WAIT_MS)


def test_unreadable_file_gives_a_message_and_the_window_goes_on(open_window, tmp_path, mood_video, qtbot):
    bad = tmp_path / "holiday.mp4"
    bad.write_text("not a video")
    window = open_window(str(bad))
    qtbot.waitUntil(lambda: window.banners.text("source") is not None, timeout=WAIT_MS)
    assert "holiday.mp4" in window.banners.text("source")
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT_MS)
    assert window.preview._message == UNREADABLE_TEXT  # not "No camera or video yet."
    window.start_source(str(mood_video))  # the window still works
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)
    assert window.banners.text("source") is None


def test_worker_exception_is_shown_and_the_worker_goes_on(open_window, mood_video, qtbot):
    window = open_window(str(mood_video))
    qtbot.waitUntil(lambda: current_song_id(window) is not None, timeout=WAIT_MS)
    playing = current_song_id(window)
    real_process = window.session.pipeline.process
    calls = {"n": 0}

    def failing_once(frame, now):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated model crash")
        return real_process(frame, now)

    window.session.pipeline.process = failing_once
    qtbot.waitUntil(lambda: window.banners.text("pipeline") is not None, timeout=WAIT_MS)
    assert "simulated model crash" in window.banners.text("pipeline")
    steps = window.report.metrics.steps
    qtbot.waitUntil(lambda: window.report.metrics.steps > steps + 5, timeout=WAIT_MS)
    assert window.pipeline_worker.failures == 1
    assert current_song_id(window) == playing  # the music kept playing through it


def test_export_session_writes_report_and_charts(open_window, mood_video, tmp_path, qtbot):
    import json

    from PySide6.QtGui import QImage

    window = open_window(str(mood_video))
    qtbot.waitUntil(lambda: window.report.metrics.steps > 10, timeout=WAIT_MS)
    window.controls.alpha_slider.setValue(55)
    window.controls.skip_button.click()  # a skip is a song change of the report too (issue 21)
    qtbot.waitUntil(lambda: len(window.report.switches) >= 2, timeout=WAIT_MS)
    target = tmp_path / "export" / "session.json"
    target.parent.mkdir()
    window.export_session(target)
    # (not qtbot.waitSignal: its slot would run on the worker thread that emits)
    qtbot.waitUntil(lambda: "Session exported" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    report = json.loads(target.read_text())
    assert set(report) >= {"settings", "timeline", "switches", "metrics"} and report["timeline"]
    settings = report["settings"]
    assert settings["engine"]["alpha"] == 0.55  # what was in force at the export
    assert settings["video"] == str(mood_video) and settings["songs"] == 24
    assert settings["experts"]["face"] == "fer2013-mini-xception (ONNX)"
    # times from the session's start (seconds since the window opened), not the machine's boot
    assert 0.0 <= report["timeline"][0]["time"] < 60.0 and 0.0 <= report["switches"][0]["time"] < 60.0
    assert any(s["reason"] == "skipped by the user" for s in report["switches"])
    for name in ("session-timeline.png", "session-mood-plane.png"):
        image = QImage(str(target.parent / name))
        assert not image.isNull() and image.width() > 100


def test_closing_stops_every_thread_and_fades_out(open_window, mood_video, qtbot):
    from moodsic_desktop.ui.workers import running_threads

    window = open_window(str(mood_video))
    qtbot.waitUntil(lambda: current_song_id(window) is not None, timeout=WAIT_MS)
    assert set(running_threads()) == {"moodsic-pipeline", "moodsic-capture"}
    window.close()
    qtbot.waitUntil(lambda: window.closed_down, timeout=WAIT_MS)
    assert running_threads() == []
    assert not [t.name for t in threading.enumerate() if t.name.startswith("moodsic-")]  # the audio threads too


def test_plays_and_bans_are_kept_in_the_library_index(qtbot, tmp_path, monkeypatch, playable_library, mood_video):
    from moodsic_desktop.audio.library.importers import RatedImporter
    from moodsic_desktop.audio.library.index import LibraryIndex

    monkeypatch.setenv("MOODSIC_HOME", str(tmp_path / "home"))
    index_path = tmp_path / "home" / "music" / "library.sqlite"
    index_path.parent.mkdir(parents=True)
    with LibraryIndex(index_path) as index:
        RatedImporter(index).import_deam(playable_library)
    window = create_window(str(mood_video), None, backend=NullBackend(), close_fade_s=0.1)
    try:
        assert window.library.index_path == index_path
        qtbot.waitUntil(lambda: current_song_id(window) is not None, timeout=WAIT_MS)
        played = current_song_id(window)
        window.controls.ban_button.click()
        qtbot.waitUntil(lambda: current_song_id(window) not in (None, played), timeout=WAIT_MS)
    finally:
        window.close()
        qtbot.waitUntil(lambda: window.closed_down, timeout=WAIT_MS)
        window.deleteLater()
    with LibraryIndex(index_path, create=False) as index:
        assert played in index.banned_ids()
        assert played in [play.song_id for play in index.recent_plays(10)]


def test_installed_models_are_used_and_their_licence_shown(qtbot, tmp_path_factory, monkeypatch, mood_video):
    pytest.importorskip("torch", reason="exporting the test models needs the models extra")
    from moodsic_desktop.perception.model_store import make_entry, register_model
    from tests import model_files

    home = tmp_path_factory.mktemp("home-with-models")
    monkeypatch.setenv("MOODSIC_HOME", str(home))
    folder = home / "models"
    folder.mkdir()
    face = model_files.install({"model": model_files.emonet_onnx(tmp_path_factory)}, folder)
    register_model(make_entry("emonet-8", "emonet", face, folder, licence="CC BY-NC-ND 4.0"), folder)
    window = create_window(str(mood_video), None, backend=NullBackend(), close_fade_s=0.1)
    try:
        experts = window.diagnostics.experts_label.text()
        assert "face: emonet-8 (ONNX) on CPU — licence CC BY-NC-ND 4.0, non-commercial use only" in experts
        assert "non-commercial use only" in window.banners.text("models")  # the owner is told in plain words
        assert not window.session.pipeline.face_expert.is_fallback and window.session.pipeline.scene_expert.is_fallback
        qtbot.waitUntil(lambda: "face: model on CPU" in window.diagnostics.status_label.text(), timeout=WAIT_MS)
    finally:
        window.close()
        qtbot.waitUntil(lambda: window.closed_down, timeout=WAIT_MS)
        window.deleteLater()


def test_reset_to_defaults_asks_says_what_was_reset_keeps_the_source_and_can_be_undone(
    open_window, mood_video, qtbot, monkeypatch
):
    from PySide6.QtWidgets import QMessageBox

    answers, asked = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes], []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: (asked.append(args[2]), answers.pop(0))[1])
    window = open_window(
        None, UserSettings(alpha=0.8, tau=0.1, min_dwell_s=90.0, mode="calm", last_source=str(mood_video))
    )
    settings_menu = window.menus.reset_action.associatedObjects()[0]
    assert settings_menu.actions()[0] is not window.menus.reset_action  # not the first item of Settings
    assert window.controls.alpha_slider.value() == 80 and window.controls.mode_combo.currentData() == "calm"
    window.menus.reset_action.trigger()  # answered No: nothing changes
    assert window.controls.alpha_slider.value() == 80 and window.banners.text("settings-reset") is None
    assert "How fast the music reacts" in asked[0] and "Crossfade" not in asked[0]  # it names what would change
    window.menus.reset_action.trigger()  # answered Yes
    defaults = UserSettings()
    assert window.controls.alpha_slider.value() == round(defaults.alpha * 100)
    assert window.controls.dwell_slider.value() == round(defaults.min_dwell_s)
    assert window.controls.mode_combo.currentData() == defaults.mode
    said = window.banners.text("settings-reset")
    assert "How fast the music reacts" in said and "The music should" in said and "Crossfade" not in said
    saved, problem = SettingsStore().load()
    assert problem is None and saved.alpha == defaults.alpha and saved.last_source == str(mood_video)
    qtbot.waitUntil(lambda: window.session.pipeline.stabilizer.alpha == defaults.alpha, timeout=WAIT_MS)
    window.menus.undo_action.trigger()  # Edit → Undo takes the whole reset back
    assert window.controls.alpha_slider.value() == 80 and window.controls.dwell_slider.value() == 90
    assert window.controls.mode_combo.currentData() == "calm" and window.banners.text("settings-reset") is None
    qtbot.waitUntil(lambda: SettingsStore().load()[0].alpha == 0.8, timeout=WAIT_MS)
    assert window.settings.last_source == str(mood_video)


def test_a_video_dropped_on_the_window_starts(open_window, mood_video, qtbot):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    window = open_window()
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(mood_video))])
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)
    assert window.running and window.source_bar.source_combo.currentData() == str(mood_video)
    qtbot.waitUntil(lambda: window.preview.has_image, timeout=WAIT_MS)


def test_view_diagnostics_scrolls_the_panel_into_view(open_window, qtbot):
    window = open_window()
    window.resize(1366, 640)  # the café PC's 1366 x 768, less the banners above: the left column scrolls
    qtbot.wait(50)
    scroll, panel = window.left_scroll, window.diagnostics
    assert not panel.isVisible() and scroll.verticalScrollBar().value() == 0

    window.menus.diagnostics_action.trigger()

    def in_view() -> bool:  # the whole panel, or its top part when it is taller than the column
        top, seen = panel.mapTo(scroll.viewport(), panel.rect().topLeft()).y(), scroll.viewport().height()
        scrolled = scroll.verticalScrollBar().value() > 0
        return panel.isVisible() and scrolled and top >= 0 and top + min(panel.height(), seen) <= seen

    qtbot.waitUntil(in_view, timeout=WAIT_MS)  # not below the fold, where nothing seemed to happen
    window.menus.diagnostics_action.trigger()
    assert not panel.isVisible()
