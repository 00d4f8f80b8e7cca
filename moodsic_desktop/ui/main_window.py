"""The main window: the source row, the mood in words, preview, now playing, the owner's controls, the live
charts, and a Diagnostics view (off by default). Everything fits a 1280 x 720 screen: the left column
scrolls when it must, and text that changes is elided on lines of fixed height.

The parts live in their own modules (``source_bar``, ``music_controls``, ``window_menus``, and the panels
that draw the session: ``session_banners``, ``mood_words_panel``, ``preview``, ``now_playing_panel``, the two
charts, ``diagnostics_panel``); ``MainWindow`` lays them out and wires them to the workers and the audio
engine. The pipeline worker's one ``snapshot_ready`` signal fans out to every panel's ``show_snapshot``, and
each panel keeps what it draws from between snapshots; the source control's ``reading`` tells the panels
that draw readings whether a source is read. The source's lifecycle (the capture worker, its banners and
preview pictures) is ``source_control``'s.

The GUI thread only draws and forwards: frames are read on the capture worker's thread, the models run
on the pipeline worker's thread, and the audio engine mixes on its own threads (see ``workers.py``).
Every method here runs on the GUI thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.library.schema import default_index_path
from moodsic_desktop.core.day_plan import DayPlan
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.settings_schema import AUDIO_DEVICE, DAY_PLAN, FUSION, LOOP_VIDEO, MODE, PRIVACY, TAU
from moodsic_desktop.core.song import Song
from moodsic_desktop.session.assembly import ExpertNotes
from moodsic_desktop.session.engine_notices import EngineNotices
from moodsic_desktop.session.playback import PlaybackSession
from moodsic_desktop.session.snapshot import SessionSnapshot
from moodsic_desktop.ui.autostart_toggle import AutostartToggle
from moodsic_desktop.ui.banner_area import BannerArea
from moodsic_desktop.ui.day_plan_dialog import DayPlanDialog
from moodsic_desktop.ui.diagnostics_panel import DiagnosticsPanel
from moodsic_desktop.ui.dialog_folders import DialogFolders
from moodsic_desktop.ui.engine_bridge import EngineBridge
from moodsic_desktop.ui.library_dialog import LibraryTools
from moodsic_desktop.ui.models_dialog import ModelsDialog
from moodsic_desktop.ui.mood_plane_chart import MoodPlaneChart
from moodsic_desktop.ui.mood_words_panel import MoodWordsPanel
from moodsic_desktop.ui.music_controls import MusicControls
from moodsic_desktop.ui.now_playing_panel import NowPlayingPanel
from moodsic_desktop.ui.preview import PreviewWidget
from moodsic_desktop.ui.session_banners import SessionBanners
from moodsic_desktop.ui.settings import SettingsStore, UserSettings, WindowState
from moodsic_desktop.ui.settings_history import (
    SettingsHistory,
    ask_to_reset,
    changed_names,
    changed_values,
    keep_unrecorded,
)
from moodsic_desktop.ui.source_bar import SourceBar
from moodsic_desktop.ui.source_control import SourceControl
from moodsic_desktop.ui.timeline_chart import MoodTimelineChart
from moodsic_desktop.ui.wheel_guard import guard_wheel
from moodsic_desktop.ui.window_menus import WindowMenus
from moodsic_desktop.ui.workers import LatestSlot, PipelineWorker, TimedFrame, start_in_thread

log = logging.getLogger(__name__)

LEFT_MIN_WIDTH = 380  # pixels
CHART_MIN_HEIGHT = 200  # the mood plane's least height (pixels); the timeline's two charts take 150 each
SESSION_TIMELINE_STEPS = 20_000  # ~11 minutes at 30 steps/s kept for "Export session…"
SESSION_SWITCHES = 10_000  # about a week of song changes


class SnapshotPanel(Protocol):
    """A part of the window that draws the session's snapshots: the pipeline worker's ``snapshot_ready`` is
    connected to its ``show_snapshot`` (a method of a QObject on the GUI thread: the call is queued there)."""

    def show_snapshot(self, snapshot: SessionSnapshot) -> None: ...


class ReadingPanel(SnapshotPanel, Protocol):
    """A panel that draws readings: ``show_reading(False)`` once the source stopped or its picture is lost
    (a step drawn after that would be read from its last frames), ``show_reading(True)`` when pictures come."""

    def show_reading(self, reading: bool) -> None: ...


class MainWindow(QMainWindow):
    """Moodsic's main window. ``library`` and ``pipeline`` come from ``moodsic_desktop.session.assembly``; the
    window creates the workers and owns ``engine`` (closing the window fades the music out and stops every
    thread). The engine tells ``bridge`` (for the window) and ``notices`` (for the session) of its songs."""

    def __init__(
        self,
        library: MusicLibrary,
        pipeline: Pipeline,
        engine: AudioEngine,
        bridge: EngineBridge,
        notices: EngineNotices,
        settings_store: SettingsStore,
        window_state: WindowState,
        settings: UserSettings,
        close_fade_s: float = 1.0,
        expert_notes: ExpertNotes | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Moodsic")
        self.setAcceptDrops(True)
        self.library = library
        self.engine = engine
        self.bridge = bridge
        self.settings_store = settings_store
        self.window_state = window_state
        self.dialog_folders = DialogFolders(window_state)  # where each file dialog starts
        self.settings = settings
        self.close_fade_s = close_fade_s
        self.expert_notes = expert_notes or ExpertNotes()  # what assembly.select_experts said about the experts
        self._closing = False
        self._closed_down = False
        self._frames: LatestSlot[TimedFrame] = LatestSlot()  # the capture worker's newest frame, for the pipeline
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self._save_settings)
        self.models_dialog: ModelsDialog | None = None
        self.history = SettingsHistory(self._restore_settings, self)  # Edit → Undo for every settings change

        self.report = SessionReport(  # its times count from now: the session clock is the monotonic one
            {"library": library.origin},
            max_timeline=SESSION_TIMELINE_STEPS,
            max_switches=SESSION_SWITCHES,
            origin_s=time.monotonic(),
        )
        # the session owns the pipeline, what plays (its programme) and the index writes; it lives on the pipeline
        # worker's thread from here on: the window reads only the snapshots it publishes
        self.session = PlaybackSession(
            pipeline, library, audio=engine, report=self.report, day_plan=settings.plan, notices=notices
        )
        first = self.session.snapshot()  # taken before the worker starts: from here on, it owns the session
        self._build_ui()
        for panel in self.panels:
            panel.show_snapshot(first)
        self._start_pipeline_worker()
        self._connect_settings()  # before the settings are shown: showing them pushes them to the workers
        with self.history.paused():  # the saved settings shown: not a change to undo
            self._apply_settings_to_widgets(settings)
        self._connect()
        self.diagnostics.show_expert_notes(self.expert_notes)
        self.session_banners.show_expert_notes(self.expert_notes, self.open_models_dialog)
        self.window_state.restore_layout(self, self._splitters())

    # ------------------------------------------------------------------------------------------ building
    def _build_ui(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 8, 8, 4)
        self.source_bar = SourceBar()
        outer.addWidget(self.source_bar)
        self.banners = BannerArea()
        outer.addWidget(self.banners)
        self.session_banners = SessionBanners(self.banners, self)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        self.mood_words = MoodWordsPanel(lambda: self.engine.current_song)
        left_layout.addWidget(self.mood_words)
        self.preview = PreviewWidget()
        left_layout.addWidget(self.preview, 1)
        self.now_playing = NowPlayingPanel(self.engine)
        left_layout.addWidget(self.now_playing)
        self.controls = MusicControls()
        left_layout.addWidget(self.controls)
        self.diagnostics = DiagnosticsPanel(
            lambda: self.engine.underflow_count,
            lambda: self.preview.frames_shown,
            lambda: self.engine.thread_priorities,
        )
        left_layout.addWidget(self.diagnostics)
        self.left_column = left
        scroll = QScrollArea()  # on a small screen the column scrolls rather than pushing the window off it
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(LEFT_MIN_WIDTH)
        self.left_scroll = scroll

        charts = QSplitter(Qt.Orientation.Vertical)
        self.timeline_chart = MoodTimelineChart()
        self.plane_chart = MoodPlaneChart()
        self.plane_chart.setMinimumHeight(CHART_MIN_HEIGHT)
        charts.addWidget(self.timeline_chart)
        charts.addWidget(self.plane_chart)
        charts.setChildrenCollapsible(False)
        self.charts_splitter = charts

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(charts)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)
        # what the pipeline worker's snapshot_ready fans out to; the ones that draw readings hear of the source
        self.reading_panels: tuple[ReadingPanel, ...] = (
            self.mood_words, self.preview, self.timeline_chart, self.plane_chart, self.diagnostics,
        )  # fmt: skip
        self.panels: tuple[SnapshotPanel, ...] = (self.session_banners, self.now_playing, *self.reading_panels)
        self._show_mood_words()
        self.sources = SourceControl(  # the source's lifecycle: the capture worker, its banners and preview
            self, self.source_bar, self.banners, self.preview, self._frames, lambda: self.settings,
            lambda: self.pipeline_worker, self.dialog_folders,
        )  # fmt: skip
        self.sources.started.connect(self._remember_source)

        # the same library index as `moodsic library`: the one the songs came from, else music/library.sqlite
        index_path = self.library.index_path or default_index_path()
        self.library_tools = LibraryTools(self, index_path, folders=self.dialog_folders)
        self.library_tools.changed.connect(self._library_changed)  # what changed there plays at once
        self.menus = WindowMenus(self, self.menuBar(), self.library_tools, self.history.stack)
        self.autostart = AutostartToggle(self.menus.autostart_action, self.menus.settings_menu, self.banners)
        guard_wheel(self)  # a wheel notch over a slider or list scrolls the column; it changes nothing

        self.source_bar.fill(self.settings.last_source)
        self.controls.fill_devices(self._output_devices())
        self._fit_to_screen(1400, 900)

    def _output_devices(self) -> list[Any]:
        try:
            return list(self.engine.list_output_devices())
        except Exception:
            log.warning("cannot list audio devices", exc_info=True)
            return []

    def _fit_to_screen(self, width: int, height: int) -> None:
        """The first-run size: ``width`` x ``height`` pixels, or the screen's available area when smaller."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width())
            height = min(height, available.height())
            self.move(available.topLeft())
        self.resize(width, height)
        self.splitter.setSizes([2 * width // 5, 3 * width // 5])  # the first run's split; later, the saved one

    def open_models_dialog(self) -> None:
        """Settings → Mood readers…: the readers in use and one click to install, import or remove a model
        (used from the next start). Non-modal."""
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(parent=self, folders=self.dialog_folders)
        elif self.models_dialog.isVisible():
            self.models_dialog.raise_()  # already open behind the window: bring it forward
        # the experts now (a model that kept failing has been replaced by the built-in reader)
        in_use = {expert.role: expert.name for expert in self.diagnostics.experts}
        self.models_dialog.face_in_use = in_use.get("face")
        self.models_dialog.scene_in_use = in_use.get("scene")
        self.models_dialog.refresh()
        self.models_dialog.show()

    def open_day_plan_dialog(self) -> None:
        """Settings → Day plan…: opening hours and parts of the day; OK applies the plan at once and saves it."""
        self.day_plan_dialog = DayPlanDialog(self.settings.plan, parent=self)
        self.day_plan_dialog.accepted_plan.connect(self._day_plan_changed)
        self.day_plan_dialog.open()

    def _day_plan_changed(self, plan: DayPlan) -> None:
        self._setting_changed(DAY_PLAN.name, plan.to_json())

    # ------------------------------------------------------------------------------------------ wiring
    def _connect_settings(self) -> None:
        """Every control's change to the one slot (``_setting_changed``)."""
        for panel in (self.controls, self.diagnostics, self.source_bar):
            panel.changed.connect(self._setting_changed)

    def _connect(self) -> None:
        controls, menus = self.controls, self.menus
        menus.open_action.triggered.connect(self.sources.open_dialog)
        menus.export_action.triggered.connect(self.export_session_dialog)
        menus.quit_action.triggered.connect(self.close)
        menus.reset_action.triggered.connect(self.reset_to_defaults)
        menus.models_action.triggered.connect(self.open_models_dialog)
        menus.day_plan_action.triggered.connect(self.open_day_plan_dialog)
        menus.diagnostics_action.toggled.connect(self._show_diagnostics)
        controls.skip_button.clicked.connect(self._skip)
        controls.ban_button.clicked.connect(self._ban)
        self.banners.detailed.connect(self.diagnostics.show_detail)  # a banner's technical parts go there
        for panel in self.reading_panels:
            self.sources.reading.connect(panel.show_reading)
        self.bridge.started.connect(self.now_playing.song_started)
        self.bridge.started.connect(self.plane_chart.set_playing)
        self.bridge.status.connect(self._audio_status)

    def _show_diagnostics(self, shown: bool) -> None:
        """View → Diagnostics: the panel at the foot of the left column, scrolled to when it is turned on (at
        1366 x 768 it opened below the fold, and nothing seemed to happen)."""
        self.diagnostics.setVisible(shown)
        if shown:  # once the column has grown by it (its layout is redone when the event loop next runs)
            QTimer.singleShot(0, lambda: self.left_scroll.verticalScrollBar().setValue(self.diagnostics.y()))

    # ------------------------------------------------------------------------------------------ settings
    # The settings road (ARCHITECTURE.md): a control's changed(name, value) → _setting_changed → _apply →
    # the pipeline worker's apply (the engine's part at once, the session's between frames) and the saved
    # settings. Undo, redo and a reset send their values down the same road.
    def _apply_settings_to_widgets(self, settings: UserSettings) -> None:
        """Show every setting of ``settings`` in the controls and pass them all on (the start)."""
        values = asdict(settings)
        self._show_values(values)
        del values[AUDIO_DEVICE.name]  # the engine opened the saved output already (ui.app): not again
        self._apply(values)

    def _show_values(self, values: dict[str, Any]) -> None:
        """Set the controls of the settings in ``values`` to them, without a change signal."""
        self.controls.show_values(values)
        panels = (self.diagnostics, self.source_bar)
        for panel in panels:
            panel.blockSignals(True)  # their controls move; the panels say no change
        if FUSION.name in values:
            fusion_combo = self.diagnostics.fusion_combo
            fusion_combo.setCurrentIndex(max(fusion_combo.findData(values[FUSION.name]), 0))
        if LOOP_VIDEO.name in values:
            self.source_bar.loop_check.setChecked(values[LOOP_VIDEO.name])
        for panel in panels:
            panel.blockSignals(False)

    def _setting_changed(self, name: str, value: Any) -> None:
        """The one slot for every control: the owner changed the setting ``name`` (core.settings_schema)."""
        self._apply({name: value})

    def _apply(self, changes: dict[str, Any]) -> None:
        """Pass ``changes`` (values by setting name) on to their targets, keep them and record them for Undo."""
        self.pipeline_worker.apply(changes)  # the engine's and the session's; the window's own are below
        if PRIVACY.name in changes:
            self.sources.show_privacy(changes[PRIVACY.name])
        if LOOP_VIDEO.name in changes:
            self.sources.set_loop(changes[LOOP_VIDEO.name])
        self._change(**changes)
        if TAU.name in changes or MODE.name in changes:
            self._show_mood_words()

    def _change(self, **values: Any) -> None:
        before, self.settings = self.settings, UserSettings(**{**asdict(self.settings), **values})
        if self.history.record(before, self.settings):  # the reset banner's Undo would undo this one now
            self.banners.hide_banner("settings-reset")
        self._save_timer.start()

    def _restore_settings(self, settings: UserSettings) -> None:
        """Edit → Undo / Redo: the settings that differ from ``settings`` (not the source) go back to it,
        shown and passed on; then saved."""
        changes = changed_values(self.settings, keep_unrecorded(settings, self.settings))
        self._show_values(changes)
        self._apply(changes)
        self.banners.hide_banner("settings-reset")

    def _save_settings(self) -> None:
        try:
            self.settings_store.save(self.settings)
        except OSError as error:
            self.banners.show_banner("settings", f"Settings could not be saved: {error}", "warning")

    def reset_to_defaults(self) -> None:
        """Settings → Reset to defaults…: asks first, puts every setting back to its default (the window keeps
        its place and size, the source stays), says which changed, and can be undone."""
        before = self.settings
        defaults = keep_unrecorded(UserSettings(), before)
        names = changed_names(before, defaults)
        if not names:
            self.statusBar().showMessage("Every setting is at its default already.", 8000)
            return
        if not ask_to_reset(self, names):
            return
        with self.history.paused():
            self._restore_settings(defaults)
        self.history.record(before, self.settings, "Reset to defaults")
        self._save_settings()
        said = f"Back to their defaults: {', '.join(names)}."
        self.banners.show_banner("settings-reset", said, "info", button=("Undo", self.history.stack.undo))

    # the pipeline worker is looked up at each press: a restarted worker replaces self.pipeline_worker
    def _library_changed(self) -> None:
        self.pipeline_worker.reload_library(self.library_tools.index_path)

    def _skip(self) -> None:
        self.pipeline_worker.skip()

    def _ban(self) -> None:
        """Never play the song the owner hears (the engine's, not the session's next choice near a song's
        end); a banner names it, with Undo: a press by mistake loses nothing."""
        song = self.engine.current_song
        if song is None:
            return
        self.pipeline_worker.ban(song.song_id)
        self.banners.hide_banner("ban")  # a new banner: its Undo is for this song
        said = f"“{song.display_name}” will not play again."  # a built-in piece's ban is not in the library's list
        self.banners.show_banner("ban", said, "info", button=("Undo", partial(self._unban, song)))

    def _unban(self, song: Song) -> None:
        self.pipeline_worker.unban(song.song_id)
        self.banners.hide_banner("ban")

    # ------------------------------------------------------------------------------------------ sources
    @property
    def running(self) -> bool:
        """True while a source is read (see ``ui/source_control.py``)."""
        return self.sources.running

    def start_source(self, spec: str | int) -> None:
        """Start reading a camera or a video file (stopping the current source first)."""
        self.sources.start(spec)

    def stop_source(self) -> None:
        """Stop reading frames; the music carries on."""
        self.sources.stop()

    def _remember_source(self, spec: str) -> None:
        self._change(last_source=spec)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.start_source(files[0])
            event.acceptProposedAction()

    # ------------------------------------------------------------------------------------------ updates
    def _show_exported(self, snapshot: SessionSnapshot) -> None:
        """The pipeline worker's snapshot_ready, queued here: where the session report was written."""
        for path in snapshot.exported:
            self.statusBar().showMessage(f"Session exported to {path}", 8000)

    def _show_mood_words(self) -> None:
        if hasattr(self, "mood_words"):  # not while the window is being built
            self.mood_words.show_settings(self.settings.tau, self.settings.mode)

    def _audio_status(self, status: str) -> None:
        """A warning while there is no sound; a note while sound plays but not as chosen (a device failed
        and another one took over, or the chosen one is missing); nothing on a plain "Playing through …"."""
        if not self.engine.sound_ok:
            self.banners.show_banner("audio", status, "warning")
        elif self.engine.sound_as_chosen:
            self.banners.hide_banner("audio")
        else:
            self.banners.show_banner("audio", status, "info")
        self.diagnostics.audio_label.setToolTip(status)

    def _start_pipeline_worker(self) -> None:
        """A new pipeline worker on its own thread, over the same ``PlaybackSession`` (its pipeline, library
        guard and report go on).

        Worker signals connect to methods of this window only, never to lambdas: PySide calls a lambda on
        the emitting (worker) thread, while a method of a QObject is queued to the GUI thread."""
        worker = PipelineWorker(self.session, self._frames, self.engine)
        for panel in self.panels:  # the one signal, fanned out: each panel draws what it shows
            worker.snapshot_ready.connect(panel.show_snapshot)
        worker.snapshot_ready.connect(self._show_exported)
        worker.finished.connect(self._pipeline_finished)
        self.pipeline_worker = worker
        self._pipeline_thread = start_in_thread(worker, "moodsic-pipeline")

    def _pipeline_finished(self) -> None:
        if self._closing or self.sender() is not self.pipeline_worker:
            return
        log.error("the pipeline worker ended unexpectedly; restarting it")
        self.banners.show_banner("pipeline", "The mood reading stopped unexpectedly and was restarted.", "warning")
        self._pipeline_thread.wait()
        self._start_pipeline_worker()  # the session keeps its pipeline, settings and library guard

    # ------------------------------------------------------------------------------------------ export
    def export_session_dialog(self) -> None:
        proposed = self.dialog_folders.export_path()
        path, _ = QFileDialog.getSaveFileName(self, "Export session", proposed, "JSON (*.json)")
        if path:
            self.dialog_folders.remember("export", path)
            self.export_session(Path(path))

    def export_session(self, path: Path) -> None:
        """Write the session report (JSON, on the pipeline thread) and a PNG of each chart beside it; the
        status bar says where once the report is written."""
        self.pipeline_worker.export(path)
        self.timeline_chart.save_png(path.with_name(path.stem + "-timeline.png"))
        self.plane_chart.save_png(path.with_name(path.stem + "-mood-plane.png"))

    # ------------------------------------------------------------------------------------------ closing
    @property
    def closed_down(self) -> bool:
        """True once closing has faded the music out and stopped every worker."""
        return self._closed_down

    def _splitters(self) -> dict[str, QSplitter]:
        """The splitters whose sizes are kept, by their key in the window state."""
        return {"splitter": self.splitter, "charts-splitter": self.charts_splitter}

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed_down:
            event.accept()
            return
        if not self._closing:
            self._closing = True
            self.window_state.save_layout(self, self._splitters())
            self._save_timer.stop()
            self._save_settings()
            self.pipeline_worker.submit(self.session.closing)  # no music starts while it fades out
            self.stop_source()
            self.engine.stop(fade_s=self.close_fade_s)
            QTimer.singleShot(round(self.close_fade_s * 1000) + 100, self._shut_down)
        event.ignore()

    def _shut_down(self) -> None:
        """After the music faded: stop the pipeline worker, close the engine, and close the window (once a
        model download the user started has stopped: it is cancelled, its partial file kept)."""
        if self.models_dialog is not None and self.models_dialog.downloading():
            self.models_dialog.cancel_download()
            QTimer.singleShot(100, self._shut_down)
            return
        self.now_playing.timer.stop()  # they read the engine, closed below
        self.diagnostics.timer.stop()
        self.library_tools.shut_down()
        self.pipeline_worker.stop()
        self._pipeline_thread.quit()
        self._pipeline_thread.wait()
        self.engine.close()
        self.session.close()
        self._closed_down = True
        self.close()
