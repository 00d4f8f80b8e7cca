"""``build/icu_data.py``: the Linux bundle's ICU data cut to English, made from the installed PySide6's
``libicudata`` as the build makes it, and Qt's answers with it compared with its answers with the full data."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _installed_icu() -> Path | None:
    """The installed PySide6's folder of Qt libraries when it holds ICU's data library, else None."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "Qt" / "lib"
    return folder if any(folder.glob("libicudata.so.*")) else None


INSTALLED = _installed_icu()
needs_tools = pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or INSTALLED is None
    or any(shutil.which(tool) is None for tool in ("icupkg", "as", "ld")),
    reason="needs Linux, a PySide6 that carries ICU's libraries, icupkg (icu-devtools) and binutils' as and ld",
)


@pytest.fixture(scope="module")
def icu_data():
    spec = importlib.util.spec_from_file_location("icu_data_under_test", REPO / "build" / "icu_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_the_rule_keeps_english_and_what_no_language_owns(icu_data):
    kept = [
        "root.res", "en.res", "en_001.res", "en_US_POSIX.res", "coll/root.res", "coll/ucadata.icu",
        "coll/en_US.res", "zone/en_GB.res", "zone/tzdbNames.res", "zone/pool.res", "curr/supplementalData.res",
        "pool.res", "res_index.res", "lang/res_index.res", "supplementalData.res", "likelySubtags.res",
        "zoneinfo64.res", "metaZones.res", "timezoneTypes.res", "windowsZones.res", "cnvalias.icu", "nfkc.nrm",
        "uts46.nrm", "brkitr/line.brk", "brkitr/word_fi_sv.brk", "brkitr/en.res", "unames.icu", "rfc3491.spp",
    ]  # fmt: skip
    dropped = [
        "de.res", "de_CH.res", "coll/de_.res", "coll/sv.res", "yue.res", "zh_Hant_TW.res", "sr_Latn_BA.res",
        "es_419.res", "ja_JP_TRADITIONAL.res", "zone/fr.res", "lang/eo.res", "rbnf/ru.res", "brkitr/de.res",
        "ibm-1047_P100-1995.cnv", "windows-936-2000.cnv", "brkitr/cjdict.dict", "brkitr/thaidict.dict",
        "translit/root.res", "translit/en.res",
    ]  # fmt: skip
    assert [item for item in kept if not icu_data.is_kept(item)] == []
    assert [item for item in dropped if icu_data.is_kept(item)] == []


def test_a_library_without_the_data_symbol_is_refused(icu_data, tmp_path):
    with pytest.raises(icu_data.IcuDataError, match="not a 64-bit"):
        icu_data.data_symbol(b"MZ not an ELF file")
    with pytest.raises(icu_data.IcuDataError, match="no icudtNN_dat symbol"):
        icu_data.data_symbol(Path(sys.executable).resolve().read_bytes())
    with pytest.raises(icu_data.IcuDataError, match="not named like"):
        icu_data.soname(tmp_path / "libicuuc.so.73")
    assert icu_data.soname(tmp_path / "libicudata.so.73.2") == "libicudata.so.73"


QT_ANSWERS = r"""
import json
from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone
words = ["zebra", "Zürich", "öl", "Apple", "apple", "Äpfel", "résumé", "resume", "ol", "ozean"]
def collated(name):
    return sorted(words, key=QCollator(QLocale(name)).sortKey)
paris = QTimeZone(b"Europe/Paris")
print(json.dumps({
    "en_US": collated("en_US"),
    "sv_SE": collated("sv_SE"),
    "upper_tr": QLocale("tr_TR").toUpper("i"),
    "upper_en": QLocale("en_US").toUpper("title"),
    "paris": paris.displayName(QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName, QLocale("en_US")),
    "utf8": [QStringDecoder("UTF-8").isValid(), QStringDecoder("UTF-8").name()],
    "windows-1252": QStringDecoder("windows-1252").isValid(),
}))
"""


def qt_answers(preload: Path | None) -> dict[str, object]:
    """What PySide6 answers in a process of its own, with ``preload`` (an ICU data library) in place of
    its own ICU data when given."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LD_LIBRARY_PATH")}
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run([sys.executable, "-c", QT_ANSWERS], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def bundle_like(tmp_path: Path) -> Path:
    """A folder laid out as the frozen bundle is: the installed ICU libraries copied into
    ``_internal/PySide6/Qt/lib``, with links to them in ``_internal`` (as PyInstaller makes them)."""
    assert INSTALLED is not None
    root = tmp_path / "Moodsic"
    lib = root / "_internal" / "PySide6" / "Qt" / "lib"
    lib.mkdir(parents=True)
    for library in INSTALLED.glob("libicu*.so.*"):
        shutil.copy2(library, lib / library.name)
        (root / "_internal" / library.name).symlink_to(Path("PySide6/Qt/lib") / library.name)
    return root


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@needs_tools
def test_the_reduced_data_gives_qt_the_same_english_answers(icu_data, tmp_path):
    root = bundle_like(tmp_path)
    data = next((root / "_internal" / "PySide6" / "Qt" / "lib").glob("libicudata.so.*"))
    original_size = data.stat().st_size
    (path, reduction), *others = icu_data.reduce_bundle(root)
    assert others == [] and path == f"_internal/PySide6/Qt/lib/{data.name}"  # the link is not made twice
    assert reduction.original_bytes == original_size and reduction.reduced_bytes == data.stat().st_size
    assert data.stat().st_size < 6 * 2**20 < original_size - 20 * 2**20
    assert os.access(data, os.X_OK) and (root / "_internal" / data.name).resolve() == data.resolve()
    assert any(line.startswith("ucal_getTimeZoneDisplayName") for line in reduction.checks)
    assert "coll/root.res" in reduction.kept and "coll/sv.res" in reduction.dropped

    full, reduced = qt_answers(None), qt_answers(data)
    english = ["en_US", "upper_tr", "upper_en", "paris", "utf8"]
    assert {key: reduced[key] for key in english} == {key: full[key] for key in english}
    assert reduced["upper_tr"] == "\u0130" and reduced["paris"] == "Central European Standard Time"
    assert reduced["utf8"] == [True, "UTF-8"]
    # Swedish sorts å, ä, ö after z with the full data; without Swedish data, in the root order (as English)
    assert full["sv_SE"][-2:] == ["Äpfel", "öl"] and full["sv_SE"] != full["en_US"]
    assert reduced["sv_SE"] == reduced["en_US"]
    # a legacy encoding by name needs the dropped tables: the decoder says it is invalid
    assert full["windows-1252"] is True and reduced["windows-1252"] is False

    again = digest(data)
    assert icu_data.reduce_bundle(root)[0][1].dropped == [] and digest(data) == again  # reduced once only


@needs_tools
def test_a_reduction_that_fails_its_check_keeps_the_original(icu_data, tmp_path, monkeypatch):
    root = bundle_like(tmp_path)
    data = next((root / "_internal" / "PySide6" / "Qt" / "lib").glob("libicudata.so.*"))
    before = digest(data)
    rule = icu_data.is_kept
    monkeypatch.setattr(icu_data, "is_kept", lambda item: rule(item) and item != "zoneinfo64.res")
    with pytest.raises(icu_data.IcuDataError, match=r"ucal_getTimeZoneDisplayName\(Europe/Paris, en_US\) gave .GMT."):
        icu_data.reduce_bundle(root)
    assert digest(data) == before


@pytest.fixture
def build_app(monkeypatch):
    spec = importlib.util.spec_from_file_location("build_app_for_icu", REPO / "build" / "build_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    said: list[str] = []
    monkeypatch.setattr(module, "say", said.append)
    module.said = said
    return module


def test_the_build_step_stops_on_a_failed_check_and_is_skipped_where_it_cannot_run(build_app, monkeypatch):
    def failing(root):
        raise build_app.icu_data.IcuDataError("the ICU check failed: ucol_open: U_MISSING_RESOURCE_ERROR")

    monkeypatch.setattr(build_app.sys, "platform", "linux")
    monkeypatch.setattr(build_app.icu_data, "missing_tools", list)
    monkeypatch.setattr(build_app.icu_data, "reduce_bundle", failing)
    with pytest.raises(build_app.BuildError, match=r"ucol_open: U_MISSING_RESOURCE_ERROR.*keeps its full ICU data"):
        build_app.icu_step()
    monkeypatch.setattr(build_app.icu_data, "missing_tools", lambda: ["icupkg"])
    assert build_app.icu_step().startswith("skipped: icupkg not installed")
    monkeypatch.setattr(build_app.sys, "platform", "win32")
    assert build_app.icu_step() == "skipped: Qt ICU data is cut on Linux only"
    assert build_app.parse_args(["--full-icu"]).full_icu and not build_app.parse_args([]).full_icu
