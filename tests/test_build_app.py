"""``build/build_app.py``'s choice of what is bundled in place of the installed builds, and its reading of what a
bundle carries, without building (pip and the environment's versions faked)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def build_app(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("build_app_under_test", REPO / "build" / "build_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "WORK", tmp_path / "work")
    monkeypatch.setattr(module, "say", lambda text: None)
    return module


def fake_environment(build_app, monkeypatch, installed: dict[str, str]) -> list[list[str]]:
    """The environment's distributions are ``installed``; pip's runs are recorded (and make the folder)."""
    runs: list[list[str]] = []

    def run(command, check=False):
        runs.append(command)
        Path(command[command.index("--target") + 1]).mkdir(parents=True, exist_ok=True)
        return SimpleNamespace(returncode=0)

    monkeypatch.setattr(build_app, "installed_version", installed.get)
    monkeypatch.setattr(build_app.subprocess, "run", run)
    return runs


def test_the_cpu_flavour_installs_the_lighter_builds_once(build_app, monkeypatch):
    runs = fake_environment(build_app, monkeypatch, {"onnxruntime-gpu": "1.31.1", "opencv-contrib-python": "4.11.0.86"})
    folder = build_app.replacement_path("cpu")
    assert folder == build_app.WORK / "replacements-cpu"
    assert len(runs) == 1 and runs[0][0] == sys.executable
    assert runs[0][-2:] == ["onnxruntime==1.31.1", "opencv-python-headless==4.11.0.86"]
    assert json.loads((folder / "installed.json").read_text()) == {
        "onnxruntime": "1.31.1",
        "opencv-python-headless": "4.11.0.86",
    }
    assert build_app.replacement_path("cpu") == folder and len(runs) == 1  # reused
    monkeypatch.setattr(build_app, "installed_version", {"onnxruntime-gpu": "1.32.0"}.get)
    build_app.replacement_path("cpu")
    assert runs[-1][-1] == "onnxruntime==1.32.0"  # another version installed: made again


def test_the_gpu_flavour_needs_onnxruntime_gpu_and_keeps_it(build_app, monkeypatch):
    runs = fake_environment(build_app, monkeypatch, {"onnxruntime": "1.31.1"})
    with pytest.raises(build_app.BuildError, match="onnxruntime-gpu, which is not installed"):
        build_app.replacement_path("gpu")
    assert build_app.replacement_path("cpu") is None and runs == []  # macOS: nothing to replace
    fake_environment(build_app, monkeypatch, {"onnxruntime-gpu": "1.31.1", "opencv-contrib-python": "4.11.0.86"})
    folder = build_app.replacement_path("gpu")
    assert json.loads((folder / "installed.json").read_text()) == {"opencv-python-headless": "4.11.0.86"}


def test_a_failed_pip_install_stops_the_build_and_leaves_no_half_folder(build_app, monkeypatch):
    monkeypatch.setattr(build_app, "installed_version", {"onnxruntime-gpu": "1.31.1"}.get)
    monkeypatch.setattr(build_app.subprocess, "run", lambda command, check=False: SimpleNamespace(returncode=1))
    with pytest.raises(build_app.BuildError, match="pip could not install"):
        build_app.replacement_path("cpu")
    assert not (build_app.WORK / "replacements-cpu").exists()


def test_what_a_bundle_carries_is_read_from_its_files(build_app, tmp_path):
    bundle = tmp_path / "Moodsic" / "_internal"
    (bundle / "onnxruntime" / "capi").mkdir(parents=True)
    (bundle / "onnxruntime" / "capi" / "libonnxruntime_providers_shared.so").touch()
    assert build_app.bundled_builds(tmp_path / "Moodsic") == {"onnxruntime": "cpu", "opencv": "headless"}
    (bundle / "onnxruntime" / "capi" / "libonnxruntime_providers_cuda.so").touch()
    (bundle / "libQt5Core-e7f476e2.so.5.15.16").touch()
    assert build_app.bundled_builds(tmp_path / "Moodsic") == {"onnxruntime": "gpu", "opencv": "with Qt 5"}


# ---- stripping the libraries (build/strip_libraries.py)


@pytest.fixture
def strip_libraries(monkeypatch):
    spec = importlib.util.spec_from_file_location("strip_libraries_under_test", REPO / "build" / "strip_libraries.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def elf_with_load_segments(segments: list[tuple[int, int, int]], padding: int = 0) -> bytes:
    """A 64-bit little-endian ELF header with one ``PT_LOAD`` program header per ``(offset, address,
    alignment)``, then ``padding`` zero bytes."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, 64)  # program headers right after the header
    struct.pack_into("<HH", header, 0x36, 56, len(segments))
    table = b"".join(struct.pack("<IIQQQQQQ", 1, 5, o, a, a, 0x100, 0x100, al) for o, a, al in segments)
    return bytes(header) + table + bytes(padding)


def test_the_loader_rule_is_read_from_the_program_headers(strip_libraries, tmp_path):
    good = tmp_path / "good.so"
    good.write_bytes(elf_with_load_segments([(0, 0, 0x1000), (0x2010, 0x3010, 0x1000)]))
    assert strip_libraries.load_segments(good.read_bytes()) == [(0, 0, 0x1000), (0x2010, 0x3010, 0x1000)]
    assert strip_libraries.load_segments_aligned(good)
    bad = tmp_path / "bad.so"
    bad.write_bytes(elf_with_load_segments([(0, 0, 0x1000), (0x2010, 0x3020, 0x1000)]))  # offset ≢ address
    assert not strip_libraries.load_segments_aligned(bad)
    odd = tmp_path / "odd.so"
    odd.write_bytes(elf_with_load_segments([(0, 0, 0x800)]))  # an alignment of half a page
    assert not strip_libraries.load_segments_aligned(odd)
    text = tmp_path / "notes.txt"
    text.write_text("not a library")
    assert not strip_libraries.is_elf(text) and not strip_libraries.load_segments_aligned(text)
    assert strip_libraries.load_segments_aligned(Path(sys.executable).resolve())


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("strip") is None, reason="needs Linux strip")
def test_a_stripped_extension_is_smaller_and_still_imports(strip_libraries, tmp_path):
    import _decimal

    library = tmp_path / "bundle" / "lib-dynload" / Path(_decimal.__file__).name
    library.parent.mkdir(parents=True)
    shutil.copy2(_decimal.__file__, library)
    (tmp_path / "bundle" / "link.so").symlink_to(library)
    before = library.stat().st_size
    done = strip_libraries.strip_bundle(tmp_path / "bundle")
    assert done.stripped == [f"lib-dynload/{library.name}"] and done.kept == {}
    assert done.saved_bytes == before - library.stat().st_size > 0
    code = f"import sys; sys.path.insert(0, {str(library.parent)!r}); import _decimal; print(_decimal.__file__)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == str(library)


def test_a_library_whose_stripped_copy_would_not_load_is_kept_whole(strip_libraries, tmp_path):
    library = tmp_path / "bundle" / "libopenblas.so"
    library.parent.mkdir()
    original = elf_with_load_segments([(0, 0, 0x1000)], padding=4000)
    library.write_bytes(original)
    fake_strip = tmp_path / "strip"  # writes a smaller copy whose second segment is misaligned, as GNU strip did
    misaligned = elf_with_load_segments([(0, 0, 0x1000), (0x2010, 0x3020, 0x1000)])
    fake_strip.write_text(f"#!{sys.executable}\nimport sys\nopen(sys.argv[3], 'wb').write({misaligned!r})\n")
    fake_strip.chmod(0o755)
    done = strip_libraries.strip_bundle(tmp_path / "bundle", strip=str(fake_strip))
    assert done.stripped == [] and done.saved_bytes == 0
    assert done.kept == {"libopenblas.so": "stripped, its load segments would not be page-aligned"}
    assert library.read_bytes() == original


# ---- the size budget


def test_a_bundle_over_its_budget_fails_the_size_step(build_app, monkeypatch, tmp_path):
    bundle = tmp_path / "Moodsic"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "_internal" / "libbig.so").write_bytes(bytes(3 * 2**20))
    monkeypatch.setattr(build_app, "bundle_root", lambda: bundle)
    monkeypatch.setattr(build_app.config, "SIZE_BUDGET_MIB", {sys.platform: 2})
    with pytest.raises(build_app.BuildError, match="over its budget of 2 MiB"):
        build_app.size_step("cpu")
    monkeypatch.setattr(build_app.config, "SIZE_BUDGET_MIB", {sys.platform: 4})
    report = build_app.size_step("cpu")
    assert report["size_bytes"] == 3 * 2**20 and report["largest_parts"] == {"libbig.so": 3 * 2**20}


def test_a_bundle_built_here_keeps_its_budget(build_app):
    # Where build/build_app.py has made a bundle (it takes minutes, so the suite does not build one).
    root = build_app.bundle_root()
    budget = build_app.config.size_budget(sys.platform)
    if not root.is_dir() or budget is None:
        pytest.skip(f"no bundle at {root} (python build/build_app.py makes it), or no budget for {sys.platform}")
    size = build_app.folder_size(root)
    assert size <= budget * 2**20, f"{build_app.mib(size)} > {budget} MiB: {build_app.largest_parts(root)}"
