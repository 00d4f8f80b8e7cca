"""The main window: source picker, the mood in words, preview, now playing, the owner's controls, the live
charts, and a Diagnostics view (off by default) with the engineering detail: which models read, how the
readings are combined, rates, timings and audio underflows. Everything fits a 1280 x 720 screen: the left
column scrolls when it must, and text that changes is elided on lines of fixed height.

The GUI thread only draws and forwards: frames are read on the capture worker's thread, the models run
on the pipeline worker's thread, and the audio engine mixes on its own threads (see ``workers.py``).
Every method here runs on the GUI thread.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from moodsic_desktop.audio.engine import AudioEngine
from moodsic_desktop.audio.library.schema import default_index_path
from moodsic_desktop.audio.listener import EngineListener
from moodsic_desktop.core.library import MusicLibrary, Song
from moodsic_desktop.core.matcher import MATCH_MODES, Decision
from moodsic_desktop.core.mood_words import mood_line
from moodsic_desktop.core.pipeline import Pipeline, StepRecord
from moodsic_desktop.core.report import SessionReport
from moodsic_desktop.core.settings_schema import ALPHA, CROSSFADE, DWELL, TAU, VOLUME, NumberSetting
from moodsic_desktop.perception.sources import opencv_camera_index
from moodsic_desktop.session.playback import PlaybackSession
from moodsic_desktop.session.snapshot import SessionSnapshot
from moodsic_desktop.ui.library_dialog import LibraryTools
from moodsic_desktop.ui.models_dialog import ModelsDialog
from moodsic_desktop.ui.mood_plane_chart import MoodPlaneChart
from moodsic_desktop.ui.settings import SettingsStore, UserSettings, WindowState
from moodsic_desktop.ui.timeline_chart import MoodTimelineChart
from moodsic_desktop.ui.widgets import (
    EMPTY_TEXT,
    PRIVACY_TEXT,
    BannerArea,
    MoodWordsPanel,
    NowPlayingPanel,
    PreviewWidget,
)
from moodsic_desktop.ui.workers import CaptureWorker, LatestSlot, PipelineWorker, TimedFrame, start_in_thread

log = logging.getLogger(__name__)

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"
FUSION_LABELS = {
    "inverse_variance": "Inverse variance",
    "fixed": "Fixed 0.6 / 0.4",
    "scene": "Scene only",
    "face": "Face only",
}
MODE_LABELS = {"match": "Match the mood", "uplift": "Lift the mood", "calm": "Calm the room"}
VALUE_LABEL_WIDTH = 150  # the value beside a slider: fixed, so that the column never changes width
LEFT_MIN_WIDTH = 380
CHART_MIN_HEIGHT = 200  # the mood plane's least height; the timeline's two charts take 150 each
STATUS_PERIOD_MS = 1000
PANEL_PERIOD_MS = 250
SESSION_TIMELINE_STEPS = 20_000  # ~11 minutes at 30 steps/s kept for "Export session…"
SESSION_SWITCHES = 10_000  # about a week of song changes


def alpha_time_constant_s(alpha: float) -> float:
    """The EMA's time constant in seconds for a weight ``alpha`` per second: -1 / ln(1 - alpha)."""
    return math.inf if alpha <= 0 else 0.0 if alpha >= 1 else -1.0 / math.log1p(-alpha)


class EngineBridge(QObject, EngineListener):
    """Carries the audio engine's notices (on its worker thread) to the GUI as queued Qt signals, and its
    "song ending" notice to the pipeline worker, which chooses and queues the next song."""

    started = Signal(object)
    status = Signal(str)

    def __init__(self) -> None:
        QObject.__init__(self)
        self.pipeline_worker: PipelineWorker | None = None

    def next_song(self, after: Song | None, remaining_s: float) -> Song | None:
        if self.pipeline_worker is not None:
            self.pipeline_worker.song_ending(after)
        return None  # the pipeline worker queues the next song a moment later

    def song_started(self, song: Song) -> None:
        self.started.emit(song)

    def song_failed(self, song: Song, reason: str) -> None:
        # straight to the pipeline worker's queue, ahead of the "song ending" notice the engine sends next,
        # so that the replacement is chosen knowing the song failed; the worker tells the user
        if self.pipeline_worker is not None:
            self.pipeline_worker.song_failed(song, reason)

    def status_changed(self, status: str) -> None:
        self.status.emit(status)


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
        expert_notes: Sequence[str] = (),
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
        self.expert_notes = list(expert_notes)  # what assembly.select_experts said about the experts
        self._closing = False
        self._closed_down = False
        self._capture: CaptureWorker | None = None
        self._capture_thread: QThread | None = None
        self._frames: LatestSlot[TimedFrame] = LatestSlot()
        self._preview: LatestSlot[QImage] = LatestSlot()
        self._last_step: StepRecord | None = None
        self._decisions: dict[str, Decision] = {}
        self._song_started_at: float | None = None  # monotonic start of the running crossfade
        self._playing_before = False
        self._counters = {"preview": 0, "face": 0, "scene": 0, "steps": 0}
        self._timings: dict[str, float] = {}
        self._save_timer = QTimer(self, singleShot=True, interval=500, timeout=self._save_settings)

        self.report = SessionReport(
            {"library": library.origin}, max_timeline=SESSION_TIMELINE_STEPS, max_switches=SESSION_SWITCHES
        )
        # the session owns the pipeline, the library guard and the index writes; it lives on the pipeline
        # worker's thread from here on: the window reads only the snapshots it publishes
        self.session = PlaybackSession(pipeline, library, audio=engine, report=self.report)
        self._snapshot: SessionSnapshot = self.session.snapshot()  # no worker runs yet
        self._start_pipeline_worker()
        self._build_ui()
        self._apply_settings_to_widgets(settings)
        self._connect()
        self._show_expert_banner()
        self._restore_geometry()
        self._status_timer = QTimer(self, interval=STATUS_PERIOD_MS, timeout=self._update_status)
        self._status_timer.start()
        self._panel_timer = QTimer(self, interval=PANEL_PERIOD_MS, timeout=self._update_now_playing)
        self._panel_timer.start()
        self._status_clock = time.monotonic()

    # ------------------------------------------------------------------------------------------ building
    def _build_ui(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 8, 8, 4)

        source_row = QHBoxLayout()
        source_row.addWidget(QLabel("Camera or video:"))
        self.source_combo = QComboBox()
        self.source_combo.setMinimumWidth(240)
        self.source_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_combo.setToolTip("The camera that watches the room, or a video file to try the program with")
        source_row.addWidget(self.source_combo, 1)
        self.open_button = QPushButton("Open video file…")
        self.open_button.setToolTip("Play a video file instead of a camera (you can also drop one on the window)")
        source_row.addWidget(self.open_button)
        self.loop_check = QCheckBox("Loop video")
        self.loop_check.setToolTip("Start a video file again from the beginning when it ends")
        source_row.addWidget(self.loop_check)
        self.start_button = QPushButton("Start")
        self.start_button.setMinimumWidth(90)
        self.start_button.setToolTip("Start or stop reading the room (the music carries on when stopped)")
        source_row.addWidget(self.start_button)
        outer.addLayout(source_row)

        self.banners = BannerArea()
        outer.addWidget(self.banners)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        self.mood_words = MoodWordsPanel()
        left_layout.addWidget(self.mood_words)
        self.preview = PreviewWidget()
        left_layout.addWidget(self.preview, 1)
        self.now_playing = NowPlayingPanel()
        left_layout.addWidget(self.now_playing)
        left_layout.addWidget(self._build_controls())
        self.diagnostics = self._build_diagnostics()
        left_layout.addWidget(self.diagnostics)
        self.left_column = left
        scroll = QScrollArea()  # on a small screen the column scrolls rather than pushing the window off it
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(LEFT_MIN_WIDTH)
        self.left_scroll = scroll
        splitter.addWidget(scroll)

        charts = QSplitter(Qt.Orientation.Vertical)
        self.timeline_chart = MoodTimelineChart()
        self.plane_chart = MoodPlaneChart()
        self.plane_chart.setMinimumHeight(CHART_MIN_HEIGHT)
        charts.addWidget(self.timeline_chart)
        charts.addWidget(self.plane_chart)
        charts.setChildrenCollapsible(False)
        self.charts_splitter = charts
        splitter.addWidget(charts)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.mood_words.show_line(mood_line(None, None, self.settings.tau, 0, self.settings.mode))

        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open video file…", self, shortcut=QKeySequence.StandardKey.Open)
        self.export_action = QAction("&Export session…", self)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        file_menu.addActions([self.open_action, self.export_action])
        file_menu.addSeparator()
        # the same library index as `moodsic library`: the one the songs came from, else music/library.sqlite
        self.library_tools = LibraryTools(self, self.library.index_path or default_index_path())
        file_menu.addActions([self.library_tools.add_folder_action, self.library_tools.library_action])
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        settings_menu = self.menuBar().addMenu("&Settings")
        self.reset_action = QAction("&Reset to defaults", self)
        settings_menu.addAction(self.reset_action)
        self.models_action = QAction("Mood &readers…", self, triggered=self.open_models_dialog)
        self.models_action.setToolTip("Which models read the mood; install, import or remove one")
        settings_menu.addAction(self.models_action)
        self.models_dialog = None
        view_menu = self.menuBar().addMenu("&View")
        self.diagnostics_action = QAction("&Diagnostics", self, checkable=True)
        self.diagnostics_action.setToolTip("Show the engineering detail: models, timings, audio underflows")
        self.diagnostics_action.toggled.connect(self.diagnostics.setVisible)
        view_menu.addAction(self.diagnostics_action)

        self._show_library(self.library)
        self._fill_sources()
        self._fit_to_screen(1400, 900)

    def _build_diagnostics(self) -> QGroupBox:
        """The engineering view (View → Diagnostics, hidden at start): the experts and their licences, how
        readings are combined, and the rates, timings and audio underflows once a second."""
        box = QGroupBox("Diagnostics")
        form = QFormLayout(box)
        self.experts_label = QLabel("")
        self.experts_label.setWordWrap(True)
        self.experts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.experts_label)
        self.fusion_combo = QComboBox()
        for fusion, label in FUSION_LABELS.items():
            self.fusion_combo.addItem(label, fusion)
        self.fusion_combo.setToolTip(
            "How the face and scene readings are combined. Inverse variance: each weighted by 1 / its variance "
            "(the surer reading counts more); Fixed: 0.6 face, 0.4 scene; or one reader alone."
        )
        form.addRow("Fusion", self.fusion_combo)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setToolTip(
            "Per second: preview frames, face and scene readings with their milliseconds; the share of frames "
            "with a face; the faces in the last reading; the share of steps the stabiliser held"
        )
        form.addRow(self.status_label)
        self.audio_label = QLabel("")
        form.addRow(self.audio_label)
        box.setVisible(False)
        return box

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

    def _show_library(self, library: MusicLibrary) -> None:
        """Draw ``library``'s songs on the mood plane, coloured by station."""
        stations, songs = library.stations, library.songs
        station_of = None
        if stations is not None:
            station_of = [int(i) for i in stations.predict([s.valence for s in songs], [s.arousal for s in songs])]
        self.plane_chart.set_library(songs, station_of, stations.names if stations is not None else None)

    def _slider(self, setting: NumberSetting) -> QSlider:
        """A slider over ``setting``'s range in its steps, with its tooltip (core/settings_schema.py)."""
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(*setting.slider_range())
        slider.setToolTip(setting.tooltip)
        return slider

    def _build_controls(self) -> QGroupBox:
        """The owner's controls, in plain words; each tooltip gives the exact meaning and unit."""
        box = QGroupBox("Music controls")
        form = QFormLayout(box)
        self.alpha_slider = self._slider(ALPHA)
        self.alpha_label = QLabel()
        self.tau_slider = self._slider(TAU)
        self.tau_label = QLabel()
        self.dwell_slider = self._slider(DWELL)
        self.dwell_label = QLabel()
        self.crossfade_slider = self._slider(CROSSFADE)
        self.crossfade_label = QLabel()
        self.volume_slider = self._slider(VOLUME)
        for setting, slider, label in (
            (ALPHA, self.alpha_slider, self.alpha_label),
            (TAU, self.tau_slider, self.tau_label),
            (DWELL, self.dwell_slider, self.dwell_label),
            (CROSSFADE, self.crossfade_slider, self.crossfade_label),
        ):
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            label.setFixedWidth(VALUE_LABEL_WIDTH)
            row.addWidget(label)
            form.addRow(setting.label, row)
            label.setToolTip(setting.tooltip)
            form.labelForField(row).setToolTip(setting.tooltip)
        self.mode_combo = QComboBox()
        for mode in MATCH_MODES:
            self.mode_combo.addItem(MODE_LABELS[mode], mode)
        self.mode_combo.setToolTip(
            "Match the mood: songs close to the room's mood. Lift the mood: songs a little more pleasant "
            "than the room. Calm the room: songs a little calmer (lower energy) than the room."
        )
        form.addRow("The music should", self.mode_combo)
        form.addRow(VOLUME.label, self.volume_slider)
        buttons = QHBoxLayout()
        self.skip_button = QPushButton("Skip song")
        self.skip_button.setToolTip("Play another song that fits the mood now")
        self.ban_button = QPushButton("Never play this song")
        self.ban_button.setToolTip("Skip this song and never choose it again (kept in the library's index)")
        buttons.addWidget(self.skip_button)
        buttons.addWidget(self.ban_button)
        form.addRow(buttons)
        self.device_combo = QComboBox()
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(12)
        self.device_combo.setToolTip("Where the music plays: the system's default output or a chosen device")
        form.addRow("Sound output", self.device_combo)
        self.privacy_check = QCheckBox("Hide the camera picture (privacy)")
        self.privacy_check.setToolTip("Show no camera picture on screen; the mood is still read from the camera.")
        form.addRow(self.privacy_check)
        self._fill_devices()
        return box

    def _fill_sources(self) -> None:
        self.source_combo.clear()
        self.source_combo.addItem("Choose a camera or a video file…", None)
        try:
            from PySide6.QtMultimedia import QMediaDevices

            cameras = QMediaDevices.videoInputs()
        except Exception:  # QtMultimedia without a back end: no camera list, files still work
            log.warning("cannot list cameras", exc_info=True)
            cameras = []
        for position, camera in enumerate(cameras):
            index = opencv_camera_index(position, bytes(camera.id().data()))
            self.source_combo.addItem(f"Camera: {camera.description()}", str(index))
        last = self.settings.last_source
        if last and not last.isdigit() and Path(last).is_file():
            self._add_file_source(last)

    def _add_file_source(self, path: str) -> int:
        index = self.source_combo.findData(path)
        if index < 0:
            self.source_combo.addItem(f"Video: {Path(path).name}", path)
            index = self.source_combo.count() - 1
        return index

    def _fill_devices(self) -> None:
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("System default", None)
        try:
            devices = self.engine.list_output_devices()
        except Exception:
            log.warning("cannot list audio devices", exc_info=True)
            devices = []
        for device in devices:
            self.device_combo.addItem(f"{device.name} ({device.hostapi})", device.name)
        self.device_combo.blockSignals(False)

    def _show_expert_banner(self) -> None:
        """Which experts read the mood and why (with a model's licence), and how to get models when built-in
        experts stand in: in Diagnostics. A banner only when the owner has something to do: a model whose
        licence forbids commercial use."""
        lines = list(self.expert_notes)
        fallbacks = [expert.role for expert in self._snapshot.experts if expert.is_fallback]
        if fallbacks:
            lines.append(
                f"The built-in {' and '.join(fallbacks)} "
                + ("readers need no download but read" if len(fallbacks) > 1 else "reader needs no download but reads")
                + " the mood roughly; better models go in the models folder (README, “Models”)."
            )
        self.experts_label.setText("\n".join(lines))
        if any(" model not used: " in line or "damaged" in line for line in self.expert_notes):
            self.banners.show_banner(
                "model-broken",
                "A mood model could not be used, so a simpler reader stands in.",
                "warning",
                button=("Mood readers…", self.open_models_dialog),
            )
        if any("non-commercial use only" in line for line in self.expert_notes):
            self.banners.show_banner(
                "models",
                "A mood model installed here is licensed for non-commercial use only; "
                "see View → Diagnostics before using it in the café.",
                "warning",
            )

    def open_models_dialog(self) -> None:
        """Settings → Mood readers…: the readers in use and one click to install, import or remove a model
        (used from the next start). Non-modal; GUI thread."""
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(parent=self)
        elif self.models_dialog.isVisible():
            self.models_dialog.raise_()  # already open behind the window: bring it forward
        # the experts now (a model that kept failing has been replaced by the built-in reader)
        face, scene = self._snapshot.face_expert, self._snapshot.scene_expert
        self.models_dialog.face_in_use = face.name if face is not None else None
        self.models_dialog.scene_in_use = scene.name if scene is not None else None
        self.models_dialog.refresh()
        self.models_dialog.show()

    # ------------------------------------------------------------------------------------------ wiring
    def _connect(self) -> None:
        self.open_button.clicked.connect(self.open_video_dialog)
        self.open_action.triggered.connect(self.open_video_dialog)
        self.export_action.triggered.connect(self.export_session_dialog)
        self.reset_action.triggered.connect(self.reset_to_defaults)
        self.start_button.clicked.connect(self._toggle_running)
        self.source_combo.activated.connect(self._source_picked)
        self.loop_check.toggled.connect(lambda on: self._change(loop_video=on))
        self.alpha_slider.valueChanged.connect(self._alpha_changed)
        self.tau_slider.valueChanged.connect(self._tau_changed)
        self.dwell_slider.valueChanged.connect(self._dwell_changed)
        self.crossfade_slider.valueChanged.connect(self._crossfade_changed)
        self.volume_slider.valueChanged.connect(self._volume_changed)
        self.mode_combo.currentIndexChanged.connect(lambda: self._mode_changed(self.mode_combo.currentData()))
        self.fusion_combo.currentIndexChanged.connect(lambda: self._fusion_changed(self.fusion_combo.currentData()))
        self.device_combo.currentIndexChanged.connect(self._device_changed)
        self.privacy_check.toggled.connect(self._privacy_changed)
        # through lambdas: a restarted pipeline worker replaces self.pipeline_worker
        self.skip_button.clicked.connect(lambda: self.pipeline_worker.skip())  # noqa: PLW0108
        self.ban_button.clicked.connect(lambda: self.pipeline_worker.ban_current())  # noqa: PLW0108
        self.bridge.started.connect(self._song_started)
        self.bridge.status.connect(self._audio_status)

    # ------------------------------------------------------------------------------------------ settings
    def _apply_settings_to_widgets(self, settings: UserSettings) -> None:
        """Show ``settings`` in the controls; each control's signal passes its value on to the workers."""
        self.alpha_slider.setValue(round(settings.alpha * 100))
        self.tau_slider.setValue(round(settings.tau * 100))
        self.dwell_slider.setValue(round(settings.dwell_s))
        self.crossfade_slider.setValue(round(settings.crossfade_s))
        self.volume_slider.setValue(round(settings.volume * 100))
        self.mode_combo.setCurrentIndex(max(self.mode_combo.findData(settings.mode), 0))
        self.fusion_combo.setCurrentIndex(max(self.fusion_combo.findData(settings.fusion), 0))
        self.loop_check.setChecked(settings.loop_video)
        self.privacy_check.setChecked(settings.privacy)
        device_index = self.device_combo.findData(settings.audio_device)
        self.device_combo.setCurrentIndex(max(device_index, 0))
        # push every value once, even those equal to the widgets' previous values
        self._alpha_changed(self.alpha_slider.value())
        self._tau_changed(self.tau_slider.value())
        self._dwell_changed(self.dwell_slider.value())
        self._crossfade_changed(self.crossfade_slider.value())
        self._volume_changed(self.volume_slider.value())
        self._mode_changed(settings.mode)
        self._fusion_changed(settings.fusion)

    def _change(self, **values) -> None:
        self.settings = UserSettings(**{**asdict(self.settings), **values})
        self._save_timer.start()

    def _save_settings(self) -> None:
        try:
            self.settings_store.save(self.settings)
        except OSError as error:
            self.banners.show_banner("settings", f"Settings could not be saved: {error}", "warning")

    def _alpha_changed(self, value: int) -> None:
        alpha = value / 100
        self.alpha_label.setText(f"settles in ~{alpha_time_constant_s(alpha):.1f} s")
        self.pipeline_worker.set_alpha(alpha)
        self._change(alpha=alpha)

    def _tau_changed(self, value: int) -> None:
        tau = value / 100
        self.tau_label.setText(f"holds beyond ± {tau:.2f}")
        self.pipeline_worker.set_tau(tau)
        self._change(tau=tau)
        self._show_mood_words()

    def _dwell_changed(self, value: int) -> None:
        self.dwell_label.setText(f"{value} s")
        self.pipeline_worker.set_dwell(float(value))
        self._change(dwell_s=float(value))

    def _crossfade_changed(self, value: int) -> None:
        self.crossfade_label.setText(f"{value} s")
        self.engine.crossfade_s = float(value)
        self._change(crossfade_s=float(value))

    def _volume_changed(self, value: int) -> None:
        self.engine.volume = value / 100
        self._change(volume=value / 100)

    def _mode_changed(self, mode: str) -> None:
        self.pipeline_worker.set_mode(mode)
        self._change(mode=mode)
        self._show_mood_words()

    def _fusion_changed(self, fusion: str) -> None:
        self.pipeline_worker.set_fusion(fusion)
        self._change(fusion=fusion)

    def _device_changed(self) -> None:
        device = self.device_combo.currentData()
        self.engine.device = device
        self._change(audio_device=device)

    def _privacy_changed(self, hidden: bool) -> None:
        self._preview.clear()
        if hidden:
            self.preview.show_message(PRIVACY_TEXT)
        elif not self.running:
            self.preview.show_message(EMPTY_TEXT)
        self._change(privacy=hidden)

    def reset_to_defaults(self) -> None:
        """Every user setting back to its default (the window keeps its place and size)."""
        self._apply_settings_to_widgets(UserSettings(last_source=self.settings.last_source))
        self._save_settings()

    # ------------------------------------------------------------------------------------------ sources
    @property
    def running(self) -> bool:
        return self._capture is not None

    def _source_picked(self) -> None:
        spec = self.source_combo.currentData()
        if spec is not None:
            self.start_source(spec)

    def _toggle_running(self) -> None:
        if self.running:
            self.stop_source()
        else:
            spec = self.source_combo.currentData() or self.settings.last_source
            if spec is None:
                self.open_video_dialog()
            else:
                self.start_source(spec)

    def open_video_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video file", "", VIDEO_FILTER)
        if path:
            self.start_source(path)

    def start_source(self, spec: str | int) -> None:
        """Start reading a camera index or a video file (stopping the current source first)."""
        spec = str(spec)
        self.stop_source()
        if not spec.isdigit():
            self.source_combo.setCurrentIndex(self._add_file_source(spec))
        else:
            self.source_combo.setCurrentIndex(max(self.source_combo.findData(spec), 0))
        for key in ("source", "camera"):
            self.banners.hide_banner(key)
        self._change(last_source=spec)
        self.pipeline_worker.new_source(f"camera {spec}" if spec.isdigit() else spec)
        self._capture = CaptureWorker(
            int(spec) if spec.isdigit() else spec,
            self.settings.loop_video,
            self._frames,
            self._preview,
            want_preview=lambda: not self.settings.privacy,
        )
        self._capture.preview_ready.connect(self._show_preview)
        self._capture.failed.connect(self._source_failed)
        self._capture.lost.connect(self._camera_lost)
        self._capture.recovered.connect(self._camera_recovered)
        self._capture.ended.connect(self._source_ended)
        self._capture.finished.connect(self._capture_finished)
        self._capture_thread = start_in_thread(self._capture, "moodsic-capture")
        self.start_button.setText("Stop")
        if not self.settings.privacy:
            self.preview.show_message("Opening the source…")

    def stop_source(self) -> None:
        """Stop reading frames; the music carries on."""
        capture, thread = self._capture, self._capture_thread
        self._capture = self._capture_thread = None
        if capture is not None:
            capture.stop()
        if thread is not None:
            thread.quit()
            thread.wait()
        self._frames.clear()
        self._preview.clear()
        self._last_step = None
        self._show_mood_words()
        self.start_button.setText("Start")
        if not self.settings.privacy:
            self.preview.show_message(EMPTY_TEXT)

    def _capture_finished(self) -> None:
        sender = self.sender()
        if sender is not None and sender is self._capture:
            self.stop_source()

    def _source_failed(self, message: str) -> None:
        self.banners.show_banner("source", message, "error")

    def _camera_lost(self, message: str) -> None:
        self.banners.show_banner("camera", message, "warning")

    def _camera_recovered(self) -> None:
        self.banners.hide_banner("camera")

    def _source_ended(self) -> None:
        self.banners.show_banner("source", "The video has ended.", "info")

    def _pipeline_problem(self, message: str) -> None:
        self.banners.show_banner("pipeline", message, "warning")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.start_source(files[0])
            event.acceptProposedAction()

    # ------------------------------------------------------------------------------------------ updates
    def _show_preview(self) -> None:
        image = self._preview.take()
        if image is None or self.settings.privacy or not self.running:
            return
        self.preview.show_frame(image)
        self._counters["preview"] += 1

    def _show_snapshot(self, snapshot: SessionSnapshot) -> None:
        """Draw what the session published (GUI thread): its events, then its step."""
        self._snapshot = snapshot
        for decision in snapshot.decisions:
            self._song_chosen(decision)
        for message in snapshot.skipped:
            self._song_skipped(message)
        change = snapshot.library_change
        if change is not None:  # after the skips that led to it: its banner replaces theirs
            self._library_switched(change.library, change.message, change.lost)
        for message in snapshot.problems:
            self._pipeline_problem(message)
        for path in snapshot.exported:
            self._session_exported(path)
        if snapshot.step is not None:
            self._take_step(snapshot.step)

    def _take_step(self, step: StepRecord) -> None:
        self.timeline_chart.add_step(step)
        self._counters["steps"] += 1
        self._counters["face"] += step.face_fresh
        self._counters["scene"] += step.scene_fresh
        for stage, ms in step.timings_ms.items():
            self._timings[stage] = 0.8 * self._timings.get(stage, ms) + 0.2 * ms
        for notice in step.notices:  # an expert replaced by its fallback: said once, by the pipeline
            self.banners.show_banner("expert-replaced", notice, "warning")
        self._last_step = step
        if not self.settings.privacy:
            self.preview.set_faces(step.faces)
        self._show_mood_words()
        if step.stabilized is not None:
            self.plane_chart.set_current(step.stabilized.valence, step.stabilized.arousal)
        if step.decision is not None:
            self.plane_chart.set_candidates(list(step.decision.candidates[:5]))

    def _show_mood_words(self) -> None:
        """The mood line from the last step: its stabilised mood, the fused reading's spread against tau,
        the faces read and the music mode (``core.mood_words``)."""
        if not hasattr(self, "mood_words"):
            return  # a control changed while the window is being built
        step = self._last_step
        stabilized = fused_std = None
        faces = 0
        if step is not None:
            if step.stabilized is not None:
                stabilized = (step.stabilized.valence, step.stabilized.arousal)
            if step.fused is not None:
                fused_std = (step.fused.std_valence, step.fused.std_arousal)
            faces = step.faces_read
        self.mood_words.show_line(mood_line(stabilized, fused_std, self.settings.tau, faces, self.settings.mode))

    def _song_chosen(self, decision: Decision) -> None:
        self._decisions[decision.song.song_id] = decision
        if len(self._decisions) > 50:  # only the latest few matter for "why"
            self._decisions.pop(next(iter(self._decisions)))

    def _song_started(self, song: Song) -> None:
        # a crossfade runs only when another song was playing; from silence the song just fades in
        self._song_started_at = time.monotonic() if self._playing_before else None
        self._playing_before = True
        self.pipeline_worker.song_played(song)
        self.plane_chart.set_playing(song)
        self._update_now_playing()

    def _song_skipped(self, message: str) -> None:
        self.banners.show_banner("audio-file", message, "warning")

    def _library_switched(self, library: MusicLibrary, message: str, lost: bool) -> None:
        """Songs now come from ``library``: the built-in station while the user's is ``lost``, or the user's
        library again."""
        self._show_library(library)
        self.banners.hide_banner("audio-file")  # the skips that told of it are old news now
        self.banners.show_banner("library", message, "warning" if lost else "info")

    def _update_now_playing(self) -> None:
        song = self.engine.current_song
        if song is None:
            self.now_playing.show_song(None, None, "")
            self.now_playing.show_progress(None, None, None, None)
            return
        decision = self._decisions.get(song.song_id)
        self.now_playing.show_song(song, decision.station if decision else None, decision.reason if decision else "")
        step = self._last_step
        dwell_left = None
        if step is not None and step.decision is not None and step.decision.song.song_id == song.song_id:
            dwell_left = self._snapshot.min_dwell_s - (step.time - step.decision.song_started_at)
        crossfade = None
        if self._song_started_at is not None and self.engine.crossfade_s > 0:
            progress = (time.monotonic() - self._song_started_at) / self.engine.crossfade_s
            crossfade = progress if progress < 1 else None
        self.now_playing.show_progress(self.engine.position_s, self.engine.duration_s, dwell_left, crossfade)

    def _update_status(self) -> None:
        now = time.monotonic()
        elapsed = max(now - self._status_clock, 1e-6)
        self._status_clock = now
        rates = {key: count / elapsed for key, count in self._counters.items()}
        self._counters = dict.fromkeys(self._counters, 0)
        metrics = self._snapshot.metrics
        face_rate = metrics.get("face_detection_rate")
        held = metrics.get("gating_rate")
        experts = []
        for expert in self._snapshot.experts:
            kind = "built-in" if expert.is_fallback else "model"
            experts.append(f"{expert.role}: {kind} on {expert.device}")
        parts = [
            f"Preview {rates['preview']:.0f} fps",
            f"Face {rates['face']:.0f}/s {self._timings.get('face', 0) + self._timings.get('detect', 0):.0f} ms",
            f"Scene {rates['scene']:.1f}/s {self._timings.get('scene', 0):.0f} ms",
            f"Faces found {face_rate:.0%}" if face_rate is not None else "Faces found –",
            f"Faces read {self._last_step.faces_read if self._last_step is not None else 0}",
            f"Held {held:.0%}" if held is not None else "Held –",
            ", ".join(experts),
        ]
        self.status_label.setText("\n".join(parts))
        self.audio_label.setText(f"Audio underflows: {self.engine.underflow_count}")

    def _audio_status(self, status: str) -> None:
        """A warning while there is no sound; a note while sound plays but not as chosen (a device failed
        and another one took over, or the chosen one is missing); nothing on a plain "Playing through …"."""
        if not self.engine.sound_ok:
            self.banners.show_banner("audio", status, "warning")
        elif self.engine.sound_as_chosen:
            self.banners.hide_banner("audio")
        else:
            self.banners.show_banner("audio", status, "info")
        self.audio_label.setToolTip(status)

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
        """Write the session report (JSON, on the pipeline thread) and a PNG of each chart beside it."""
        self.pipeline_worker.export(path)
        self.timeline_chart.save_png(path.with_name(path.stem + "-timeline.png"))
        self.plane_chart.save_png(path.with_name(path.stem + "-mood-plane.png"))

    def _session_exported(self, path: str) -> None:
        self.statusBar().showMessage(f"Session exported to {path}", 8000)

    # ------------------------------------------------------------------------------------------ closing
    @property
    def closed_down(self) -> bool:
        """True once closing has faded the music out and stopped every worker."""
        return self._closed_down

    def _restore_geometry(self) -> None:
        """The size, place and splitters of the last run. A geometry saved on a larger screen is cut down to
        this screen's available area by ``restoreGeometry`` itself (Qt 6)."""
        geometry = self.window_state.restore("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.window_state.restore("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        charts = self.window_state.restore("charts-splitter")
        if charts is not None:
            self.charts_splitter.restoreState(charts)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed_down:
            event.accept()
            return
        if not self._closing:
            self._closing = True
            self.window_state.save("geometry", self.saveGeometry())
            self.window_state.save("splitter", self.splitter.saveState())
            self.window_state.save("charts-splitter", self.charts_splitter.saveState())
            self._save_timer.stop()
            self._save_settings()
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
