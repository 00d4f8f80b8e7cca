"""The main window: the source row, the mood in words, preview, now playing, the owner's controls, the live
charts, and a Diagnostics view (off by default). Everything fits a 1280 x 720 screen: the left column
scrolls when it must, and text that changes is elided on lines of fixed height.

The parts live in their own modules (``source_bar``, ``music_controls``, ``diagnostics_panel``,
``window_menus``, ``widgets``, the charts); ``MainWindow`` lays them out and wires them to the workers and
the audio engine, and draws the snapshots the pipeline worker publishes (through ``live_view``). The
source's lifecycle (the capture worker, its banners and preview pictures) is ``source_control``'s.

The GUI thread only draws and forwards: frames are read on the capture worker's thread, the models run
on the pipeline worker's thread, and the audio engine mixes on its own threads (see ``workers.py``).
Every method here runs on the GUI thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.library.schema import default_index_path
from moodsic_desktop.core.day_plan import DayPlan
from moodsic_desktop.core.library import MusicLibrary, Song
from moodsic_desktop.core.pipeline import Pipeline
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.session.assembly import ExpertNotes
from moodsic_desktop.session.playback import PlaybackSession
from moodsic_desktop.session.snapshot import LibraryView, SessionSnapshot
from moodsic_desktop.ui.autostart_toggle import AutostartToggle
from moodsic_desktop.ui.day_plan_dialog import DayPlanDialog
from moodsic_desktop.ui.diagnostics_panel import DiagnosticsPanel
from moodsic_desktop.ui.engine_bridge import EngineBridge
from moodsic_desktop.ui.library_dialog import LibraryTools
from moodsic_desktop.ui.live_view import LiveView
from moodsic_desktop.ui.models_dialog import ModelsDialog
from moodsic_desktop.ui.mood_plane_chart import MoodPlaneChart
from moodsic_desktop.ui.music_controls import MusicControls
from moodsic_desktop.ui.settings import SettingsStore, UserSettings, WindowState
from moodsic_desktop.ui.settings_history import SettingsHistory, ask_to_reset, changed_names, keep_unrecorded
from moodsic_desktop.ui.source_bar import SourceBar
from moodsic_desktop.ui.source_control import SourceControl
from moodsic_desktop.ui.timeline_chart import MoodTimelineChart
from moodsic_desktop.ui.wheel_guard import guard_wheel
from moodsic_desktop.ui.widgets import (
    BannerArea,
    MoodWordsPanel,
    NowPlayingPanel,
    PreviewWidget,
)
from moodsic_desktop.ui.window_menus import WindowMenus
from moodsic_desktop.ui.workers import LatestSlot, PipelineWorker, TimedFrame, start_in_thread

log = logging.getLogger(__name__)

LEFT_MIN_WIDTH = 380  # pixels
CHART_MIN_HEIGHT = 200  # the mood plane's least height (pixels); the timeline's two charts take 150 each
STATUS_PERIOD_MS = 1000
PANEL_PERIOD_MS = 250
SESSION_TIMELINE_STEPS = 20_000  # ~11 minutes at 30 steps/s kept for "Export session…"
SESSION_SWITCHES = 10_000  # about a week of song changes


class MainWindow(QMainWindow):
    """Moodsic's main window. ``library`` and ``pipeline`` come from ``moodsic_desktop.session.assembly``; the
    window creates the workers and owns ``engine`` (closing the window fades the music out and stops every
    thread)."""

    def __init__(
        self,
        library: MusicLibrary,
        pipeline: Pipeline,
        engine: AudioEngine,
        bridge: EngineBridge,
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
        # the session owns the pipeline, the library guard and the index writes; it lives on the pipeline
        # worker's thread from here on: the window reads only the snapshots it publishes
        self.session = PlaybackSession(pipeline, library, audio=engine, report=self.report, day_plan=settings.plan)
        self._start_pipeline_worker()
        self._build_ui(self.session.snapshot())  # no worker has stepped yet
        self._connect_settings()  # before the settings are shown: showing them pushes them to the workers
        with self.history.paused():  # the saved settings shown: not a change to undo
            self._apply_settings_to_widgets(settings)
        self._connect()
        self.live.show_expert_notes(self.expert_notes, self.open_models_dialog)
        self.window_state.restore_layout(self, self._splitters())
        self._status_timer = self._repeat(STATUS_PERIOD_MS, self._update_status)
        self._panel_timer = self._repeat(PANEL_PERIOD_MS, self._update_now_playing)

    def _repeat(self, period_ms: int, tick: Any) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(period_ms)
        timer.timeout.connect(tick)
        timer.start()
        return timer

    # ------------------------------------------------------------------------------------------ building
    def _build_ui(self, snapshot: SessionSnapshot) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 8, 8, 4)
        self.source_bar = SourceBar()
        outer.addWidget(self.source_bar)
        self.banners = BannerArea()
        outer.addWidget(self.banners)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        self.mood_words = MoodWordsPanel()
        left_layout.addWidget(self.mood_words)
        self.preview = PreviewWidget()
        left_layout.addWidget(self.preview, 1)
        self.now_playing = NowPlayingPanel()
        left_layout.addWidget(self.now_playing)
        self.controls = MusicControls()
        left_layout.addWidget(self.controls)
        self.diagnostics = DiagnosticsPanel()
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
        self.live = LiveView(
            self.engine, self.banners, self.mood_words, self.preview, self.now_playing, self.timeline_chart,
            self.plane_chart, self.diagnostics, snapshot,
        )  # fmt: skip
        self._show_mood_words()
        self.sources = SourceControl(  # the source's lifecycle: the capture worker, its banners and preview
            self, self.source_bar, self.live, self._frames, lambda: self.settings, lambda: self.pipeline_worker
        )
        self.sources.started.connect(self._remember_source)

        # the same library index as `moodsic library`: the one the songs came from, else music/library.sqlite
        self.library_tools = LibraryTools(self, self.library.index_path or default_index_path())
        self.library_tools.changed.connect(self._library_changed)  # what changed there plays at once
        self.menus = WindowMenus(self, self.menuBar(), self.library_tools, self.history.stack)
        self.autostart = AutostartToggle(self.menus.autostart_action, self.menus.settings_menu, self.banners)
        guard_wheel(self)  # a wheel notch over a slider or list scrolls the column; it changes nothing

        self.live.show_library(LibraryView.of(self.library))
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
            self.models_dialog = ModelsDialog(parent=self)
        elif self.models_dialog.isVisible():
            self.models_dialog.raise_()  # already open behind the window: bring it forward
        # the experts now (a model that kept failing has been replaced by the built-in reader)
        face, scene = self.live.snapshot.face_expert, self.live.snapshot.scene_expert
        self.models_dialog.face_in_use = face.name if face is not None else None
        self.models_dialog.scene_in_use = scene.name if scene is not None else None
        self.models_dialog.refresh()
        self.models_dialog.show()

    def open_day_plan_dialog(self) -> None:
        """Settings → Day plan…: opening hours and parts of the day; OK applies the plan at once and saves it."""
        self.day_plan_dialog = DayPlanDialog(self.settings.plan, parent=self)
        self.day_plan_dialog.accepted_plan.connect(self._day_plan_changed)
        self.day_plan_dialog.open()

    def _day_plan_changed(self, plan: DayPlan) -> None:
        self.pipeline_worker.submit(lambda: self.session.set_day_plan(plan))
        self._change(day_plan=plan.to_json())

    # ------------------------------------------------------------------------------------------ wiring
    def _connect_settings(self) -> None:
        controls = self.controls
        controls.alpha_changed.connect(self._alpha_changed)
        controls.tau_changed.connect(self._tau_changed)
        controls.dwell_changed.connect(self._dwell_changed)
        controls.crossfade_changed.connect(self._crossfade_changed)
        controls.volume_changed.connect(self._volume_changed)
        controls.mode_changed.connect(self._mode_changed)

    def _connect(self) -> None:
        bar, controls, menus = self.source_bar, self.controls, self.menus
        bar.loop_check.toggled.connect(self._loop_changed)
        menus.open_action.triggered.connect(self.sources.open_dialog)
        menus.export_action.triggered.connect(self.export_session_dialog)
        menus.quit_action.triggered.connect(self.close)
        menus.reset_action.triggered.connect(self.reset_to_defaults)
        menus.models_action.triggered.connect(self.open_models_dialog)
        menus.day_plan_action.triggered.connect(self.open_day_plan_dialog)
        menus.diagnostics_action.toggled.connect(self.diagnostics.setVisible)
        controls.device_combo.currentIndexChanged.connect(self._device_changed)
        controls.privacy_check.toggled.connect(self._privacy_changed)
        controls.skip_button.clicked.connect(self._skip)
        controls.ban_button.clicked.connect(self._ban)
        self.diagnostics.fusion_combo.currentIndexChanged.connect(self._fusion_picked)
        self.banners.detailed.connect(self.diagnostics.show_detail)  # a banner's technical parts go there
        self.bridge.started.connect(self._song_started)
        self.bridge.status.connect(self._audio_status)

    # ------------------------------------------------------------------------------------------ settings
    def _apply_settings_to_widgets(self, settings: UserSettings) -> None:
        """Show ``settings`` in the controls; each control's signal passes its value on to the workers."""
        self.controls.show_values(
            settings.alpha, settings.tau, settings.dwell_s, settings.crossfade_s, settings.volume, settings.mode
        )
        fusion_combo = self.diagnostics.fusion_combo
        fusion_combo.setCurrentIndex(max(fusion_combo.findData(settings.fusion), 0))
        self.source_bar.loop_check.setChecked(settings.loop_video)
        self.controls.privacy_check.setChecked(settings.privacy)
        device_combo = self.controls.device_combo
        device_combo.setCurrentIndex(max(device_combo.findData(settings.audio_device), 0))
        self._fusion_changed(settings.fusion)  # pushed once, even when the combo showed it already

    def _change(self, **values: Any) -> None:
        before, self.settings = self.settings, UserSettings(**{**asdict(self.settings), **values})
        if self.history.record(before, self.settings):  # the reset banner's Undo would undo this one now
            self.banners.hide_banner("settings-reset")
        self._save_timer.start()

    def _restore_settings(self, settings: UserSettings) -> None:
        """Edit → Undo / Redo: show ``settings`` (the source stays) and save them."""
        self._apply_settings_to_widgets(keep_unrecorded(settings, self.settings))
        self.banners.hide_banner("settings-reset")
        self._save_timer.start()

    def _save_settings(self) -> None:
        try:
            self.settings_store.save(self.settings)
        except OSError as error:
            self.banners.show_banner("settings", f"Settings could not be saved: {error}", "warning")

    def _alpha_changed(self, alpha: float) -> None:
        self.pipeline_worker.set_alpha(alpha)
        self._change(alpha=alpha)

    def _tau_changed(self, tau: float) -> None:
        self.pipeline_worker.set_tau(tau)
        self._change(tau=tau)
        self._show_mood_words()

    def _dwell_changed(self, seconds: float) -> None:
        self.pipeline_worker.set_dwell(seconds)
        self._change(dwell_s=seconds)

    def _crossfade_changed(self, seconds: float) -> None:
        self.engine.crossfade_s = seconds
        self._change(crossfade_s=seconds)

    def _volume_changed(self, volume: float) -> None:
        self.engine.volume = volume
        self.pipeline_worker.submit(lambda: self.session.set_owner_volume(volume))  # for the day plan
        self._change(volume=volume)

    def _mode_changed(self, mode: str) -> None:
        self.pipeline_worker.set_mode(mode)
        self._change(mode=mode)
        self._show_mood_words()

    def _fusion_picked(self) -> None:
        self._fusion_changed(self.diagnostics.current_fusion())

    def _fusion_changed(self, fusion: str) -> None:
        self.pipeline_worker.set_fusion(fusion)
        self._change(fusion=fusion)

    def _loop_changed(self, on: bool) -> None:
        self._change(loop_video=on)

    def _device_changed(self) -> None:
        device = self.controls.device_combo.currentData()
        self.engine.device = device
        self._change(audio_device=device)

    def _privacy_changed(self, hidden: bool) -> None:
        self.sources.show_privacy(hidden)
        self._change(privacy=hidden)

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
            self._apply_settings_to_widgets(defaults)
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
        self.pipeline_worker.ban_current()

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
    def _show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """The pipeline worker's snapshot_ready, queued here."""
        self.live.show_snapshot(snapshot, self.settings.tau, self.settings.mode, self.settings.privacy, self.running)
        for path in snapshot.exported:
            self.statusBar().showMessage(f"Session exported to {path}", 8000)

    def _show_mood_words(self) -> None:
        if hasattr(self, "live"):  # not while the window is being built
            self.live.show_mood_words(self.settings.tau, self.settings.mode)

    def _song_started(self, song: Song) -> None:
        """The engine bridge's started, queued here."""
        self.pipeline_worker.song_played(song)
        self.live.song_started(song)

    def _update_now_playing(self) -> None:
        self.live.update_now_playing()

    def _update_status(self) -> None:
        self.live.update_status()

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
        worker = PipelineWorker(self.session, self._frames)
        worker.snapshot_ready.connect(self._show_snapshot)
        worker.finished.connect(self._pipeline_finished)
        self.pipeline_worker = worker
        self.bridge.pipeline_worker = worker
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
        path, _ = QFileDialog.getSaveFileName(self, "Export session", "moodsic-session.json", "JSON (*.json)")
        if path:
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
        self._status_timer.stop()
        self._panel_timer.stop()
        self.library_tools.shut_down()
        self.pipeline_worker.stop()
        self._pipeline_thread.quit()
        self._pipeline_thread.wait()
        self.engine.close()
        self.session.close()
        self._closed_down = True
        self.close()
