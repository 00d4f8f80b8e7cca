"""Starting the desktop program: arguments, the QApplication, the library, the pipeline, the engine, the window.

``python main.py [--source VIDEO_FILE|CAMERA_INDEX] [--library DEAM_FOLDER] [--autostart]`` (or
``python -m moodsic_desktop.ui.app``, what an installed package's autostart entry runs). Without
``--source`` the last source saved in the settings starts by itself, and the music plays without a click.
GUI thread.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from moodsic_desktop import __version__, paths
from moodsic_desktop.audio.listener import EngineListeners
from moodsic_desktop.core.fusion import validate_fusion_mode
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.core.matcher import validate_match_mode
from moodsic_desktop.core.pipeline import PipelineSettings
from moodsic_desktop.core.stations import fit_station_model
from moodsic_desktop.session.assembly import (
    EngineSettings,
    ExpertSelection,
    build_pipeline,
    load_library,
    select_experts,
)
from moodsic_desktop.session.engine_notices import EngineNotices

if TYPE_CHECKING:
    from moodsic_desktop.ui.settings import SettingsStore, UserSettings

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moodsic-desktop", description="Music that follows the mood of the room.")
    parser.add_argument("--version", action="version", version=f"Moodsic {__version__}")
    parser.add_argument("--source", help="start straight into this video file or camera index")
    parser.add_argument("--library", type=Path, help="a DEAM folder to play from (default: the music library)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument(
        "--autostart",
        action="store_true",
        help="started with the computer (the autostart entry passes it): resumes the last source and plays, "
        "as every start does",
    )
    return parser


def playable(library: MusicLibrary) -> MusicLibrary:
    """The part of a library that has audio files (stations refitted when songs were left out); raises
    ``ValueError`` when no song has audio."""
    songs = [song for song in library.songs if song.path is not None]
    if len(songs) == len(library.songs):
        return library
    if not songs:
        raise ValueError(f"none of the {len(library.songs)} songs of the {library.origin} has an audio file")
    return replace(library, songs=songs, stations=fit_station_model(songs))


class Prepared(NamedTuple):
    """The slow part of start-up: the library (with why it is not the one asked for) and the experts."""

    library: MusicLibrary
    library_problem: str | None
    engine_settings: EngineSettings
    experts: ExpertSelection


def engine_settings_for(settings: UserSettings) -> EngineSettings:
    return EngineSettings(
        alpha=settings.alpha,
        tau=settings.tau,
        min_dwell_s=settings.min_dwell_s,
        repeat_window_s=settings.repeat_window_min * 60.0,
        mode=validate_match_mode(settings.mode),
        pipeline=PipelineSettings(fusion_mode=validate_fusion_mode(settings.fusion)),
    )


def prepare(library_folder: Path | None, settings: UserSettings) -> Prepared:
    """Load the library (synthesising the built-in station on the first start) and open the model files:
    seconds of work, so ``main`` runs it on a worker thread while a splash screen shows. Any thread."""
    library_problem = None
    try:
        library = playable(load_library(library_folder))
        library_problem = library.problem  # a damaged library index: the built-in station plays
    except (OSError, ValueError) as error:
        library_problem = f"The music library could not be used ({error}); the built-in station plays instead."
        log.warning(library_problem)
        library = load_library(None)
    engine_settings = engine_settings_for(settings)
    return Prepared(library, library_problem, engine_settings, select_experts(engine_settings))


def create_window(
    source: str | None = None,
    library_folder: Path | None = None,
    backend=None,
    settings_dir: Path | None = None,
    close_fade_s: float = 1.0,
    prepared: Prepared | None = None,
    loaded: tuple[SettingsStore, UserSettings, str | None] | None = None,
):
    """Build the main window and everything behind it (a QApplication must exist). ``backend`` is the audio
    back end (None: PortAudio, or a silent clock without it); ``prepared`` is what ``prepare`` made on a
    worker thread (None: prepare it here); ``loaded`` is the settings store with what its one ``load()``
    gave (None: load them here). Loading twice would lose the first load's message: a broken file is set
    aside by the first. GUI thread."""
    from moodsic_desktop.audio.engine import AudioEngine
    from moodsic_desktop.ui.engine_bridge import EngineBridge
    from moodsic_desktop.ui.main_window import MainWindow
    from moodsic_desktop.ui.settings import SettingsStore, WindowState

    if loaded is None:
        store = SettingsStore(settings_dir)
        loaded = (store, *store.load())
    store, settings, settings_problem = loaded
    ready = prepared if prepared is not None else prepare(library_folder, settings)
    library, library_problem, engine_settings, experts = ready
    pipeline = build_pipeline(library, engine_settings, experts)
    bridge = EngineBridge()  # the window's notices (Qt signals) …
    notices = EngineNotices()  # … and the session's (a queue its own thread empties)
    engine = AudioEngine(
        backend=backend,
        listener=EngineListeners(notices, bridge),
        crossfade_s=settings.crossfade_s,
        device=settings.audio_device,
    )
    engine.volume = settings.volume
    window = MainWindow(
        library,
        pipeline,
        engine,
        bridge,
        notices,
        store,
        WindowState(settings_dir),
        settings,
        close_fade_s=close_fade_s,
        expert_notes=experts.for_window(),
    )
    engine.start()
    for key, problem in (("settings", settings_problem), ("library", library_problem)):
        if problem:
            window.banners.show_banner(key, problem, "warning")
    resumed = source if source is not None else settings.last_source  # the last source, without a click
    if resumed:
        window.start_source(resumed)
    # Start-up made hundreds of thousands of long-lived objects (Qt, MediaPipe, the library); a full
    # collection walking them all paused every thread for ~60 ms. Frozen, they are never walked again.
    gc.collect()
    gc.freeze()
    return window


def splash_picture(icon: Path):
    """The start-up picture: the icon, the name, and what is happening (the first start makes the built-in
    station, which takes a few seconds). GUI thread."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

    picture = QPixmap(440, 220)
    picture.fill(QColor("#15181d"))
    painter = QPainter(picture)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawPixmap(QRect(32, 46, 128, 128), QPixmap(str(icon)))
    painter.setPen(QColor("#f0f2f5"))
    title = QFont(painter.font())
    title.setPointSize(22)
    title.setBold(True)
    painter.setFont(title)
    painter.drawText(QRect(184, 60, 240, 44), Qt.AlignmentFlag.AlignLeft, "Moodsic")
    body = QFont(painter.font())
    body.setPointSize(10)
    body.setBold(False)
    painter.setFont(body)
    painter.setPen(QColor("#aab2bd"))
    painter.drawText(
        QRect(184, 110, 236, 80),
        Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
        f"Version {__version__}\nPreparing the music and the mood experts…",
    )
    painter.end()
    return picture


def _prepare_while_responsive(app, library_folder: Path | None, settings: UserSettings) -> Prepared:
    """Run ``prepare`` on a worker thread while the GUI thread keeps drawing the splash screen."""
    result: list[Prepared | BaseException] = []

    def work() -> None:
        try:
            result.append(prepare(library_folder, settings))
        except BaseException as error:  # handed back to the GUI thread below
            result.append(error)

    worker = threading.Thread(target=work, name="moodsic-startup", daemon=True)
    worker.start()
    while worker.is_alive():
        app.processEvents()
        worker.join(0.03)
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.autostart:
        log.info("started with the computer: resuming the last source")
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QSplashScreen

    from moodsic_desktop.ui.settings import SettingsStore

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Moodsic")
    app.setOrganizationName("Moodsic")
    app.setWindowIcon(QIcon(str(paths.window_icon())))
    splash = QSplashScreen(splash_picture(paths.resources_dir() / "moodsic.png"))
    splash.show()
    store = SettingsStore()
    settings, settings_problem = store.load()  # once: its message goes to the window's banner
    prepared = _prepare_while_responsive(app, args.library, settings)
    window = create_window(args.source, args.library, prepared=prepared, loaded=(store, settings, settings_problem))
    window.show()
    splash.finish(window)
    code = app.exec()
    # Tear the window down while Python still runs: queued cross-thread signals still holding Python
    # objects must not be freed during interpreter shutdown.
    window.deleteLater()
    app.processEvents()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
