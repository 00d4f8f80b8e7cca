"""What goes into the frozen Moodsic app and what stays out: read by ``build/moodsic.spec`` and by the tests.

Plain Python without PyInstaller, so ``tests/test_bundle_config.py`` checks these choices in CI without
building. Paths are found through ``importlib.util.find_spec`` (nothing heavy is imported) and work the same
on Windows, macOS and Linux.

* **Kept:** the Qt modules the program imports (``KEEP_QT_MODULES``) with their plugins, the ``.tflite`` /
  ``.binarypb`` models of the MediaPipe solutions it uses (PyInstaller has no hook that collects them),
  onnxruntime's CPU runtime, ``RESOURCE_FILES``, the face-expression model that ships in the box with its
  licence and provenance (``BUNDLED_MODEL_FILES``, in ``moodsic_desktop/perception/bundled/`` as in the
  source tree).
* **Left out:** ``EXCLUDED_MODULES`` (jax and jaxlib, about 320 MB that mediapipe pulls in and the program
  never imports; librosa with numba and llvmlite, about 175 MB, since the mood of the owner's songs is
  measured with numpy and scipy: ``moodsic_desktop/audio/library/signal_measures.py``; PyTorch,
  transformers and onnx, which only export and train models; test and notebook tools), every other Qt
  module, Qt's translations, the Qt plugins and libraries nothing of the program loads
  (``UNUSED_QT_PLUGINS``, ``UNUSED_QT_LIBRARIES``: the virtual keyboard, PDF, VNC, embedded-Linux
  platforms, TLS and network-status back ends, the GTK theme), the libraries only those linked
  (``orphaned_libraries``: Qt Quick, QML and Network, GTK's cairo and pango, about 27 MiB), onnxruntime's
  CUDA and TensorRT providers (``GPU_ONLY_BINARIES``, about 270 MB) and, on Linux, Qt Multimedia
  (``LINUX_UNUSED_QT_MODULES``: the program lists the cameras itself; about 27 MiB with Qt's FFmpeg), and
  the MediaPipe model of the face mesh with irises, never asked for (``MEDIAPIPE_UNUSED_MODELS``).
* **A placeholder instead** (``PLACEHOLDER_MODULES``): matplotlib with pillow and kiwisolver (about 40 MB),
  which MediaPipe's solutions import for a drawing helper the program never calls.
* **Swapped for lighter builds of the same version** (``replacements``): the development environment's
  ``opencv-contrib-python`` (whose wheel also carries Qt 5 for OpenCV's own windows, which the program
  never opens) is bundled as ``opencv-python-headless``, and, in the default ``cpu`` flavour,
  ``onnxruntime-gpu`` as the CPU ``onnxruntime`` (a café PC runs on the CPU). ``build_app.py`` installs
  them with pip into a folder of the build's own that goes first on PyInstaller's path; the development
  environment is not changed. The ``gpu`` flavour bundles onnxruntime-gpu with its CUDA/TensorRT providers,
  for a PC with an NVIDIA GPU and its CUDA install.
* **Stripped where it is safe** (Linux, ``build_app.py`` after PyInstaller: ``strip_libraries.py``): the
  libraries' symbol tables, except where the stripped copy would not load (``strip`` breaks some libraries
  that auditwheel repaired, such as scipy's OpenBLAS: "ELF load command address/offset not page-aligned").
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePath

APP_NAME = "Moodsic"
"""The executable (``Moodsic``, ``Moodsic.exe``), the one-folder directory and the macOS ``Moodsic.app``."""
BUNDLE_IDENTIFIER = "org.moodsic.desktop"

KEEP_QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtCharts", "QtMultimedia", "QtNetwork")
"""PySide6 modules the program imports (QtNetwork: QtMultimedia imports it)."""

LINUX_UNUSED_QT_MODULES = ("QtMultimedia", "QtNetwork")
"""Kept modules that the Linux bundle leaves out: Qt Multimedia only lists the cameras, and on Linux the
program lists them itself (``moodsic_desktop/perception/v4l2_cameras.py``). With it go Qt's own FFmpeg, the
multimedia plugin and the PulseAudio client (27 MiB); the Qt Quick and QML libraries that plugin links too
go once nothing kept links them (``orphaned_libraries``). Windows and macOS keep Qt Multimedia: there it is
how the cameras are listed."""

UNUSED_QT_MODULES = (
    "Qt3DAnimation",
    "Qt3DCore",
    "Qt3DExtras",
    "Qt3DInput",
    "Qt3DLogic",
    "Qt3DRender",
    "QtBluetooth",
    "QtConcurrent",
    "QtDBus",
    "QtDataVisualization",
    "QtDesigner",
    "QtGraphs",
    "QtGraphsWidgets",
    "QtHelp",
    "QtHttpServer",
    "QtLocation",
    "QtMultimediaWidgets",
    "QtNetworkAuth",
    "QtNfc",
    "QtOpenGL",
    "QtOpenGLWidgets",
    "QtPdf",
    "QtPdfWidgets",
    "QtPositioning",
    "QtPrintSupport",
    "QtQml",
    "QtQuick",
    "QtQuick3D",
    "QtQuickControls2",
    "QtQuickTest",
    "QtQuickWidgets",
    "QtRemoteObjects",
    "QtScxml",
    "QtSensors",
    "QtSerialBus",
    "QtSerialPort",
    "QtSpatialAudio",
    "QtSql",
    "QtStateMachine",
    "QtSvg",
    "QtSvgWidgets",
    "QtTest",
    "QtTextToSpeech",
    "QtUiTools",
    "QtWebChannel",
    "QtWebEngineCore",
    "QtWebEngineQuick",
    "QtWebEngineWidgets",
    "QtWebSockets",
    "QtWebView",
    "QtXml",
)
"""Always left out, installed or not; any other ``PySide6.Qt*`` module found installed is left out too.
(Qt's C++ libraries that a kept module links to, such as Qt6OpenGL for QtCharts, still come along.)"""

EXCLUDED_MODULES = (
    # mediapipe 0.10.21 depends on jax/jaxlib (its genai converter uses them); the program never imports them.
    "jax",
    "jaxlib",
    # The music's mood features are measured with numpy and scipy (audio/library/signal_measures.py); librosa
    # needs numba, whose LLVM (llvmlite) alone is about 170 MB. The tests compare the two where librosa is installed.
    "librosa",
    "numba",
    "llvmlite",
    # Exporting and training models only (`moodsic models …` from a source checkout).
    "torch",
    "torchvision",
    "torchaudio",
    "transformers",
    "onnx",
    "onnxscript",
    "tensorflow",
    "tensorboard",
    "moodsic_desktop.modelzoo",
    # Tools of onnxruntime that convert and quantise models, not needed to run them.
    "onnxruntime.transformers",
    "onnxruntime.quantization",
    "onnxruntime.tools",
    # Qt is the only GUI.
    "tkinter",
    "_tkinter",
    # scikit-learn imports rich only to print estimators in a terminal (sklearn.utils._optional_dependencies),
    # which brings pygments and, through its image formatter, pillow (about 20 MB with pillow.libs).
    "rich",
    "pygments",
    "markdown_it",
    "PIL",
    # Tests and notebooks.
    "pytest",
    "_pytest",
    "pytestqt",
    "IPython",
    "jupyter_client",
    "notebook",
    "skimage",
)
"""Python packages PyInstaller must not follow into, even where some installed package imports them."""

KEPT_PACKAGES = (
    "mediapipe",
    "cv2",
    "numpy",
    "onnxruntime",
    "sklearn",
    "scipy",
    "soundfile",
    "sounddevice",
    "soxr",
)
"""Packages the program needs at run time; none may appear in ``excludes()`` (a test checks)."""

HOOKS_CONFIG: dict[str, dict[str, str]] = {}
"""PyInstaller hook options (none needed)."""

PLACEHOLDER_MODULES = ("matplotlib",)
"""Left out, with a placeholder put in ``sys.modules`` by ``rthook_no_matplotlib.py``: MediaPipe's solutions
import ``matplotlib.pyplot`` for a drawing helper the program never calls (with pillow, kiwisolver and
contourpy, about 40 MB)."""

MEDIAPIPE_MODEL_SUFFIXES = (".tflite", ".binarypb")

MEDIAPIPE_UNUSED_MODELS = ("face_landmark_with_attention.tflite",)
"""Models of the bundled folders that the program never loads: the face mesh with iris landmarks (2.4 MiB),
loaded only with ``refine_landmarks=True``; the program asks for ``False`` (a test checks)."""

MEDIAPIPE_SOLUTION_MODELS = {
    "face_detection": ("face_detection",),
    "face_mesh": ("face_landmark", "face_detection"),
}
"""The folders of ``mediapipe/modules`` whose models each MediaPipe solution loads at run time. Only the
solutions the program imports are bundled (a test checks that every one it imports is listed): the hand,
pose, segmentation and other models (about 23 MB) stay out."""

GPU_ONLY_BINARIES = ("onnxruntime_providers_cuda", "onnxruntime_providers_tensorrt")
"""Stems of onnxruntime's GPU provider libraries, dropped unless the build keeps CUDA."""

FLAVOURS = {"cpu": "onnxruntime", "gpu": "onnxruntime-gpu"}
"""Build flavours and the onnxruntime distribution each bundles (``build_app.py --flavour``)."""

LIGHTER_BUILDS = {"opencv-contrib-python": "opencv-python-headless"}
"""Installed distribution → the lighter one of the same version bundled in its place, in every flavour."""

UNUSED_QT_PLUGINS = (
    "egldeviceintegrations/*",  # embedded Linux without a window system
    "generic/*",  # raw evdev/TUIO input, for embedded Linux
    "networkinformation/*",  # network status back ends: the program opens no connection
    "tls/*",  # TLS back ends, for the same reason
    "imageformats/qpdf",  # PDF pages as images (pulls in Qt6Pdf)
    "platforminputcontexts/qtvirtualkeyboardplugin",  # an on-screen keyboard (Qt6VirtualKeyboard)
    "platforms/qeglfs",
    "platforms/qlinuxfb",
    "platforms/qminimalegl",
    "platforms/qvkkhrdisplay",
    "platforms/qvnc",
    "platformthemes/qgtk3",  # GTK's look and file dialogs, with the build machine's cairo, pango and gio
)
"""Qt plugins left out, as ``folder/stem`` (stem without ``lib`` and suffix; ``*`` for the whole folder).
Kept: the desktop platforms (xcb, Wayland, Windows, Cocoa; offscreen and minimal for the self-test), image
formats, the FFmpeg multimedia back end where Qt Multimedia is kept (Windows, macOS: the camera list), the
XDG desktop portal theme, input methods, xcb GL integrations.

The GTK theme plugin (``qgtk3``) is left out: it links GTK, which the bundle cannot carry (it is the
desktop's), so it came with the build machine's cairo, pango, harfbuzz and gio (about 8 MiB) that would
meet the café PC's own GTK of another version in one process. Without it Qt draws its own style (Fusion)
and its own file dialog; the desktop portal theme stays."""

UNUSED_QT_LIBRARIES = (
    "Qt6Pdf",
    "Qt6VirtualKeyboard",
    "Qt6VirtualKeyboardQml",
    "Qt6EglFSDeviceIntegration",
    "Qt6EglFsKmsSupport",
)
"""Qt libraries only the plugins above link to. The libraries those link in turn (Qt Quick, QML, Network;
GTK's cairo and pango) are left out by ``orphaned_libraries`` when nothing kept links them."""

RESOURCE_FILES = ("moodsic.png", "moodsic.ico", "moodsic.icns", "selftest_face.jpg")
"""Files of ``resources/`` the program reads at run time (the window icon of each platform and the splash's
picture, ``moodsic_desktop.paths.window_icon``; the self-test's face)."""

BUNDLED_MODEL_DIR = PurePath("moodsic_desktop", "perception", "bundled")
BUNDLED_MODEL_FILES = ("fer2013-mini-xception.onnx", "LICENSE-fer.txt", "PROVENANCE.md")
"""fer's FER-2013 mini-Xception (MIT: its licence text must travel with it) and where it came from; bundled
at the same relative path as in the source tree, so the program finds it beside its own modules."""
RUNTIME_HOOKS = ("rthook_private.py", "rthook_no_matplotlib.py")
"""Runtime hooks in ``build/``, run by the frozen app before ``main.py``: ``rthook_private.py`` turns off
onnxruntime's telemetry before anything can load it; ``rthook_no_matplotlib.py`` puts the placeholders of
``PLACEHOLDER_MODULES`` in place."""

SIZE_BUDGET_MIB = {"linux": 400}
"""The most the bundle may weigh on disk (MiB), per platform (``sys.platform`` prefix): the size step of
``build_app.py`` fails a bundle over it, so nothing makes it grow unnoticed. Linux meets the issue's 400 MiB
with the build's ``icu`` and ``lapack`` steps (``--full-icu`` or ``--keep-openblas`` goes over it); the
README's "Size" says what went and what stays. Windows and macOS have no budget yet: their sizes come from
CI only."""

USER_FOLDERS = ("models", "music")
"""Folders placed beside the executable for the owner's ONNX models and music library (see
``moodsic_desktop.paths``); only their README travels with the build."""

ICONS = {"win32": "moodsic.ico", "darwin": "moodsic.icns"}
"""The icon file per platform (PyInstaller on Linux embeds no icon; the PNG is bundled as a resource)."""


def size_budget(platform: str) -> int | None:
    """``SIZE_BUDGET_MIB`` for ``platform`` (``sys.platform``), or None where none is set."""
    return next((mib for prefix, mib in SIZE_BUDGET_MIB.items() if platform.startswith(prefix)), None)


def package_dir(name: str) -> Path | None:
    """The folder of the installed package ``name``, or None (nothing is imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_qt_modules() -> list[str]:
    """Names of the ``PySide6.Qt*`` extension modules installed here (``QtCore`` …), sorted."""
    folder = package_dir("PySide6")
    if folder is None:
        return []
    names = {path.name.split(".")[0] for path in folder.glob("Qt*.*") if path.suffix in (".so", ".pyd")}
    return sorted(names)


def kept_qt_modules(platform: str = sys.platform) -> tuple[str, ...]:
    """The Qt modules bundled on ``platform`` (``sys.platform``): ``KEEP_QT_MODULES``, without
    ``LINUX_UNUSED_QT_MODULES`` on Linux."""
    left_out = LINUX_UNUSED_QT_MODULES if platform.startswith("linux") else ()
    return tuple(name for name in KEEP_QT_MODULES if name not in left_out)


def qt_excludes(platform: str = sys.platform) -> list[str]:
    """``PySide6.<module>`` for every Qt module the program does not use on ``platform``."""
    unused = (set(UNUSED_QT_MODULES) | set(installed_qt_modules())) - set(kept_qt_modules(platform))
    return [f"PySide6.{name}" for name in sorted(unused)]


def excludes(platform: str = sys.platform) -> list[str]:
    """Everything PyInstaller must leave out on ``platform``."""
    return [*EXCLUDED_MODULES, *PLACEHOLDER_MODULES, *qt_excludes(platform)]


def mediapipe_model_dirs() -> list[str]:
    """The ``mediapipe/modules`` folders to bundle (see ``MEDIAPIPE_SOLUTION_MODELS``)."""
    return sorted({name for names in MEDIAPIPE_SOLUTION_MODELS.values() for name in names})


def mediapipe_model_files() -> list[tuple[str, str]]:
    """``(source file, destination folder)`` for the MediaPipe models the program loads, the destination
    relative to the bundle (``mediapipe/modules/face_detection`` …), as PyInstaller's ``datas`` wants them.
    Raises when mediapipe is missing or a listed folder holds no model."""
    folder = package_dir("mediapipe")
    if folder is None:
        raise RuntimeError("mediapipe is not installed here: install the app first (pip install -e '.[build]')")
    pairs = []
    for name in mediapipe_model_dirs():
        models = folder / "modules" / name
        files = sorted(
            p
            for p in models.glob("*")
            if p.suffix in MEDIAPIPE_MODEL_SUFFIXES and p.name not in MEDIAPIPE_UNUSED_MODELS and p.is_file()
        )
        if not files:
            raise RuntimeError(f"no MediaPipe model in {models}: mediapipe 0.10.21 carries them in its wheel")
        pairs += [(str(p), PurePath("mediapipe", "modules", name).as_posix()) for p in files]
    return pairs


def resource_files(repo: Path) -> list[tuple[str, str]]:
    """``(source file, "resources")`` for ``RESOURCE_FILES``; raises when one is missing."""
    pairs = []
    for name in RESOURCE_FILES:
        path = repo / "resources" / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (python resources/make_resources.py makes it)")
        pairs.append((str(path), "resources"))
    return pairs


def bundled_model_files(repo: Path) -> list[tuple[str, str]]:
    """``(source file, "moodsic_desktop/perception/bundled")`` for ``BUNDLED_MODEL_FILES``; raises when one
    is missing (the model is committed: a checkout without it is broken)."""
    pairs = []
    for name in BUNDLED_MODEL_FILES:
        path = repo / BUNDLED_MODEL_DIR / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (see {BUNDLED_MODEL_DIR.as_posix()}/PROVENANCE.md)")
        pairs.append((str(path), BUNDLED_MODEL_DIR.as_posix()))
    return pairs


def runtime_hooks(repo: Path) -> list[str]:
    """The runtime hooks' paths, for the spec's ``Analysis(runtime_hooks=…)``."""
    return [str(repo / "build" / name) for name in RUNTIME_HOOKS]


def data_files(repo: Path) -> list[tuple[str, str]]:
    """All data files of the bundle: MediaPipe's models, the resources and the bundled face model."""
    return [*mediapipe_model_files(), *resource_files(repo), *bundled_model_files(repo)]


def is_gpu_only(path: str) -> bool:
    """True for onnxruntime's CUDA/TensorRT provider libraries (any platform's file name)."""
    name = PurePath(path.replace("\\", "/")).name.lower()
    return any(name.startswith(stem) or name.startswith("lib" + stem) for stem in GPU_ONLY_BINARIES)


def is_unused_qt_part(path: str) -> bool:
    """True for a Qt plugin of ``UNUSED_QT_PLUGINS`` or a library of ``UNUSED_QT_LIBRARIES`` (Linux, Windows
    and macOS file names)."""
    parts = PurePath(path.replace("\\", "/")).parts
    if not parts or parts[0] != "PySide6":
        return False
    name = parts[-1]
    stem = name.split(".")[0]
    stem = stem[3:] if stem.startswith("lib") else stem
    if "plugins" in parts and len(parts) >= 3:
        folder = parts[-2]
        return f"{folder}/*" in UNUSED_QT_PLUGINS or f"{folder}/{stem}" in UNUSED_QT_PLUGINS
    return stem in UNUSED_QT_LIBRARIES


def filter_binaries(binaries: Iterable[Sequence[str]], keep_cuda: bool = False) -> list[tuple[str, ...]]:
    """PyInstaller's binaries TOC (``(destination, source, kind)`` entries) without the GPU-only libraries
    (unless ``keep_cuda``) and the unused Qt plugins and libraries."""
    return [
        tuple(entry)
        for entry in binaries
        if (keep_cuda or not is_gpu_only(entry[0])) and not is_unused_qt_part(entry[0])
    ]


def library_key(name: str) -> str:
    """A library's file name as the loader matches it (``libQt6Quick.so.6``; lower case, for Windows)."""
    return PurePath(name.replace("\\", "/")).name.lower()


def orphaned_libraries(
    kept: Iterable[Sequence[str]], dropped: Iterable[Sequence[str]], needs: Callable[[str], Iterable[str]]
) -> list[str]:
    """Destinations of the libraries in ``kept`` (PyInstaller's binaries TOC after ``filter_binaries``) that
    only the ``dropped`` entries needed: PyInstaller collected them as those entries' dependencies (the Qt
    Quick and QML libraries of the virtual keyboard plugin, GTK's cairo and pango of the GTK theme plugin),
    and nothing that stays loads them. ``needs(source path)`` gives the names of the libraries a binary
    links (directly or not). Python extensions are never orphans; a library that something kept links,
    directly or through other libraries, stays."""
    kept = list(kept)
    libraries = {library_key(entry[0]): entry for entry in kept if entry[2] == "BINARY"}

    def reached(starts: Iterable[Sequence[str]]) -> set[str]:
        found: set[str] = set()
        queue = [entry[1] for entry in starts]
        while queue:
            for name in needs(queue.pop()):
                key = library_key(name)
                if key in libraries and key not in found:
                    found.add(key)
                    queue.append(libraries[key][1])
        return found

    candidates = reached(dropped)
    alive = reached(entry for entry in kept if library_key(entry[0]) not in candidates)
    return sorted(libraries[key][0] for key in candidates - alive)


def without_orphans(
    binaries: Iterable[Sequence[str]], needs: Callable[[str], Iterable[str]], keep_cuda: bool = False
) -> tuple[list[tuple[str, ...]], list[str]]:
    """``filter_binaries`` and then the libraries only the dropped entries needed (``orphaned_libraries``):
    the binaries to bundle, and the orphans' destinations (for the build log)."""
    binaries = [tuple(entry) for entry in binaries]
    kept = filter_binaries(binaries, keep_cuda)
    staying = set(kept)
    dropped = [entry for entry in binaries if entry not in staying]
    orphans = set(orphaned_libraries(kept, dropped, needs))
    return [entry for entry in kept if entry[0] not in orphans], sorted(orphans)


def replacements(flavour: str, installed: dict[str, str]) -> dict[str, str]:
    """``{distribution to bundle: version}`` in place of what is ``installed`` (``{distribution: version}``)
    for ``flavour``: the lighter builds, and the CPU onnxruntime for ``cpu`` where onnxruntime-gpu is
    installed."""
    swaps = dict(LIGHTER_BUILDS)
    if flavour == "cpu":
        swaps[FLAVOURS["gpu"]] = FLAVOURS["cpu"]
    return {lighter: installed[heavy] for heavy, lighter in swaps.items() if heavy in installed}


def replacement_command(python: str, folder: str, wanted: dict[str, str]) -> list[str]:
    """The pip command that installs ``wanted`` (``{distribution: version}``) into ``folder``, not into the
    environment, without their dependencies (the environment has them)."""
    pins = [f"{name}=={version}" for name, version in sorted(wanted.items())]
    return [python, "-m", "pip", "install", "--quiet", "--no-deps", "--target", folder, *pins]


def is_qt_translation(path: str) -> bool:
    """True for Qt's own translations (``PySide6/[Qt/]translations/*.qm``): the program shows English only
    and installs no QTranslator, so they stay out (about 7 MB)."""
    parts = PurePath(path.replace("\\", "/")).parts
    return bool(parts) and parts[0] == "PySide6" and "translations" in parts and parts[-1].endswith(".qm")


def filter_datas(datas: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """PyInstaller's datas TOC without Qt's translations."""
    return [tuple(entry) for entry in datas if not is_qt_translation(entry[0])]


def icon_file(repo: Path, platform: str) -> str | None:
    """The icon for the executable on ``platform`` (``sys.platform``), or None where none is embedded."""
    name = ICONS.get(platform)
    return str(repo / "resources" / name) if name else None


def app_version(repo: Path) -> str:
    """``moodsic_desktop.__version__``, read from the source without importing the package."""
    tree = ast.parse((repo / "moodsic_desktop" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, str):
                return value
    raise ValueError(f"no __version__ string in {repo / 'moodsic_desktop' / '__init__.py'}")


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """``"1.2.3"`` → ``(1, 2, 3, 0)`` for Windows' version resource (non-numeric parts count as 0)."""
    parts = [int(part) if part.isdigit() else 0 for part in version.split(".")[:4]]
    return (*parts, *[0] * (4 - len(parts)))  # type: ignore[return-value]


def macos_info_plist(version: str) -> dict[str, object]:
    """Info.plist entries of ``Moodsic.app``; macOS refuses the camera to an app without a usage string."""
    return {
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "NSHighResolutionCapable": True,
        "NSCameraUsageDescription": "Moodsic reads the mood of the room from the camera. "
        "Frames stay in memory on this computer and are never saved or sent anywhere.",
    }
