import json
import stat

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PySide6.QtCore import QByteArray

from moodsic_desktop.ui.settings import RENAMED, SCHEMA_VERSION, SettingsStore, UserSettings, WindowState
from tests.special_files import fifo_that_cannot_hang


def test_defaults_when_no_file(tmp_path):
    settings, problem = SettingsStore(tmp_path).load()
    assert settings == UserSettings() and problem is None


def test_round_trip_with_schema_version(tmp_path):
    store = SettingsStore(tmp_path)
    chosen = UserSettings(
        alpha=0.55,
        tau=0.25,
        min_dwell_s=40.0,
        repeat_window_min=30.0,
        mode="calm",
        fusion="face",
        volume=0.3,
        audio_device="USB Speakers",
        last_source="/videos/shop.mp4",
        privacy=True,
    )
    store.save(chosen)
    data = json.loads((tmp_path / "settings.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert store.load() == (chosen, None)
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left


def test_broken_file_is_kept_and_defaults_used(tmp_path):
    (tmp_path / "settings.json").write_text("{ this is not json")
    settings, problem = SettingsStore(tmp_path).load()
    assert settings == UserSettings()
    assert "could not be read" in problem and "settings.json.broken-" in problem
    (kept,) = tmp_path.glob("settings.json.broken-*")
    assert str(kept) in problem and kept.read_text() == "{ this is not json"


def test_out_of_range_values_fall_back_one_by_one(tmp_path):
    (tmp_path / "settings.json").write_text(
        json.dumps({"schema_version": 1, "alpha": 7, "tau": 0.2, "mode": "party", "volume": "loud", "dwell_s": 30})
    )
    settings, problem = SettingsStore(tmp_path).load()
    assert settings.alpha == UserSettings.alpha and settings.mode == "match" and settings.volume == UserSettings.volume
    assert settings.tau == 0.2 and settings.min_dwell_s == 30.0  # an int is taken as seconds
    assert "alpha" in problem and "mode" in problem and "volume" in problem


def test_a_settings_file_of_schema_version_1_loads_under_the_settings_names_now(tmp_path):
    """Version 1 called the least time per song "dwell_s"; its one name is "min_dwell_s" now (the engine's,
    the report's, the command line's --min-dwell). An old file loads as it is, with no message, and is
    written in the new form the next time the settings are saved."""
    old = {"schema_version": 1, "alpha": 0.5, "dwell_s": 40, "crossfade_s": 3.0, "privacy": True}
    (tmp_path / "settings.json").write_text(json.dumps(old))
    store = SettingsStore(tmp_path)
    settings, problem = store.load()
    assert problem is None and settings == UserSettings(alpha=0.5, min_dwell_s=40.0, crossfade_s=3.0, privacy=True)
    assert json.loads((tmp_path / "settings.json").read_text()) == old  # left as it was until a save
    store.save(settings)
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["schema_version"] == SCHEMA_VERSION == 2 and saved["min_dwell_s"] == 40.0 and "dwell_s" not in saved
    assert store.load() == (settings, None)
    both = {"schema_version": 1, "dwell_s": 10.0, "min_dwell_s": 50.0}  # hand-edited: the name now wins
    (tmp_path / "settings.json").write_text(json.dumps(both))
    assert store.load() == (UserSettings(min_dwell_s=50.0), None)


def test_newer_schema_is_not_misread(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1, "alpha": 0.9}))
    settings, problem = SettingsStore(tmp_path).load()
    assert settings == UserSettings() and "newer" in problem


@pytest.mark.usefixtures("qapp")
def test_window_state_is_apart_from_settings(tmp_path):
    from PySide6.QtCore import QByteArray

    state = WindowState(tmp_path)
    state.save("geometry", QByteArray(b"\x01\x02geometry"))
    assert WindowState(tmp_path).restore("geometry") == QByteArray(b"\x01\x02geometry")
    assert WindowState(tmp_path).restore("missing") is None
    assert not (tmp_path / "settings.json").exists()


# ---- settings that cannot be used are set aside with one message, never a crash, nothing lost


def kept_copies(folder) -> dict[str, bytes]:
    """The set-aside copies of the settings file, by name."""
    return {p.name: p.read_bytes() for p in folder.glob("settings.json.broken*")}


def test_a_huge_whole_number_is_set_aside_not_a_crash(tmp_path):
    text = '{"schema_version": 1, "volume": 1' + "0" * 400 + ', "tau": 0.25}'
    (tmp_path / "settings.json").write_text(text)
    settings, problem = SettingsStore(tmp_path).load()
    assert settings.volume == UserSettings.volume and settings.tau == 0.25
    assert "volume" in problem and "\n" not in problem
    assert list(kept_copies(tmp_path).values()) == [text.encode()]  # the user's file, as it was


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected(tmp_path, word):
    text = f'{{"schema_version": 1, "alpha": {word}, "dwell_s": {word}, "crossfade_s": 3}}'
    (tmp_path / "settings.json").write_text(text)
    settings, problem = SettingsStore(tmp_path).load()
    assert settings.alpha == UserSettings.alpha and settings.min_dwell_s == UserSettings.min_dwell_s
    assert settings.crossfade_s == 3.0
    assert "alpha" in problem and "min_dwell_s" in problem  # the old name's value, under its name now
    assert list(kept_copies(tmp_path).values()) == [text.encode()]


def test_a_file_with_rejected_values_is_cleaned_once_and_the_original_kept(tmp_path):
    text = '{"schema_version": 1, "alpha": 7, "tau": 0.25}'
    (tmp_path / "settings.json").write_text(text)
    assert SettingsStore(tmp_path).load()[1] is not None
    again = SettingsStore(tmp_path).load()  # the next start: the usable values are there, no new message
    assert again == (UserSettings(tau=0.25), None)
    assert list(kept_copies(tmp_path).values()) == [text.encode()]


def test_every_broken_copy_is_kept_under_its_own_name(tmp_path):
    store = SettingsStore(tmp_path)
    for text in ("{ first broken", "[1, 2] second", "{ third"):
        (tmp_path / "settings.json").write_text(text)
        settings, problem = store.load()
        assert settings == UserSettings() and "could not be read" in problem
    copies = kept_copies(tmp_path)
    assert sorted(copies.values()) == sorted([b"{ first broken", b"[1, 2] second", b"{ third"])
    assert all(name in problem for name in [max(copies, key=lambda n: (tmp_path / n).stat().st_mtime_ns)])
    assert not (tmp_path / "settings.json").exists()


def test_an_earlier_broken_copy_with_the_same_name_is_not_overwritten(tmp_path, monkeypatch):
    from moodsic_desktop.ui import settings as settings_module

    monkeypatch.setattr(settings_module, "_timestamp", lambda: "20260101-000000")
    store = SettingsStore(tmp_path)
    for text in ("{ one", "{ two"):
        (tmp_path / "settings.json").write_text(text)
        store.load()
    assert sorted(kept_copies(tmp_path).values()) == [b"{ one", b"{ two"]


def test_a_broken_file_that_cannot_be_set_aside_is_never_overwritten(tmp_path, monkeypatch):
    from moodsic_desktop.ui import settings as settings_module

    def refuse(*args, **kwargs):
        raise PermissionError("read-only folder")

    (tmp_path / "settings.json").write_text("{ broken")
    monkeypatch.setattr(settings_module, "_copy_aside", refuse)
    store = SettingsStore(tmp_path)
    settings, problem = store.load()
    assert settings == UserSettings() and "left as it is" in problem
    store.save(UserSettings(alpha=0.9))
    assert (tmp_path / "settings.json").read_text() == "{ broken"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
setting_names = st.sampled_from(["schema_version", *UserSettings.__dataclass_fields__, *RENAMED, "unknown"])
garbage_text = st.one_of(
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    json_values.map(json.dumps),
    st.dictionaries(setting_names, json_values, max_size=8).map(json.dumps),
    st.integers(min_value=1, max_value=4000).map(lambda n: '{"volume": 1' + "0" * n + "}"),
    st.integers(min_value=1, max_value=100_000).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(['{"tau": NaN}', '{"dwell_s": -Infinity}', '{"schema_version": 1e999}']),
)


@given(text=garbage_text)
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_settings_reader_survives_any_garbage(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("garbage")
    original = text.encode("utf-8", "surrogatepass")
    (folder / "settings.json").write_bytes(original)
    loaded, problem = SettingsStore(folder).load()  # no exception escapes
    assert loaded == loaded.validated()  # every value in force is usable
    assert problem is None or (problem and "\n" not in problem)
    if problem is not None:  # the user's file is kept, as it was, beside
        assert original in kept_copies(folder).values()
    else:
        assert (folder / "settings.json").read_bytes() == original
    for name in UserSettings.__dataclass_fields__:  # a value that was not taken is the default
        assert getattr(loaded, name) in (getattr(UserSettings(), name), _value_in(text, name))


def _value_in(text: str, name: str):
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return object()
    if not isinstance(data, dict):
        return object()
    old_names = [old for old, new in RENAMED.items() if new == name]
    version = data.get("schema_version", 1)
    if name not in data and old_names and old_names[0] in data and isinstance(version, int) and version < 2:
        name = old_names[0]  # a file of schema version 1 under the setting's old name
    value = data.get(name, object())
    return float(value) if type(value) is int and abs(value) < 1e300 else value


def test_the_program_tells_about_a_broken_settings_file_in_the_window(
    qtbot, isolated_config, playable_library, monkeypatch
):
    """``main()`` as started by main.py (the event loop replaced by closing the window): the broken file's
    message reaches the window's banner, and the file is kept."""
    from PySide6.QtWidgets import QApplication

    from moodsic_desktop.audio.output import NullBackend
    from moodsic_desktop.ui import app as app_module

    isolated_config.mkdir(parents=True, exist_ok=True)
    (isolated_config / "settings.json").write_text("{ broken")
    seen = {}
    real_create_window = app_module.create_window

    def create_window(*args, **kwargs):
        window = real_create_window(*args, **{**kwargs, "backend": NullBackend(), "close_fade_s": 0.05})
        seen["window"], seen["banner"] = window, window.banners.text("settings")
        return window

    def run_until_closed(app):
        seen["window"].close()
        qtbot.waitUntil(lambda: seen["window"].closed_down, timeout=20_000)
        return 0

    monkeypatch.setattr(app_module, "create_window", create_window)
    monkeypatch.setattr(QApplication, "exec", run_until_closed)
    assert app_module.main(["--library", str(playable_library)]) == 0
    assert seen["banner"] is not None and "could not be read" in seen["banner"]
    assert list(kept_copies(isolated_config).values()) == [b"{ broken"]


def test_a_settings_path_that_cannot_be_read_is_left_alone(tmp_path):
    (tmp_path / "settings.json").mkdir()  # not a file: reading it fails with IsADirectoryError
    (tmp_path / "settings.json" / "keep.txt").write_text("mine")
    store = SettingsStore(tmp_path)
    settings, problem = store.load()
    assert settings == UserSettings() and "left as it is" in problem
    store.save(UserSettings(alpha=0.9))  # never written over
    assert (tmp_path / "settings.json" / "keep.txt").read_text() == "mine"


def test_the_sliders_follow_the_settings_schema(open_window):
    """Each slider's range, words and tooltip come from core/settings_schema.py, and a slider position means
    the schema's value for it (what the window saves)."""
    from PySide6.QtWidgets import QLabel

    from moodsic_desktop.core.settings_schema import ALPHA, CROSSFADE, DWELL, REPEAT_WINDOW, TAU, VOLUME

    window = open_window()
    labels = {label.text(): label for label in window.findChildren(QLabel)}
    for setting, slider in (
        (ALPHA, window.controls.alpha_slider),
        (TAU, window.controls.tau_slider),
        (DWELL, window.controls.dwell_slider),
        (REPEAT_WINDOW, window.controls.repeat_slider),
        (CROSSFADE, window.controls.crossfade_slider),
        (VOLUME, window.controls.volume_slider),
    ):
        assert (slider.minimum(), slider.maximum()) == setting.slider_range()
        assert slider.toolTip() == setting.tooltip
        assert setting.label in labels
        assert slider.value() == setting.to_slider(getattr(window.settings, setting.name))
        for position in (slider.minimum(), slider.maximum()):
            slider.setValue(position)
            assert getattr(window.settings, setting.name) == pytest.approx(setting.from_slider(position))


def test_a_settings_file_that_is_a_fifo_is_left_alone_without_waiting(tmp_path):
    with fifo_that_cannot_hang(tmp_path / "settings.json") as fifo:
        store = SettingsStore(tmp_path)
        settings, problem = store.load()
        assert settings == UserSettings()
        assert problem is not None and "named pipe (FIFO)" in problem and "left as it is" in problem, problem
        store.save(UserSettings(volume=0.3))  # never written over
        assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert not list(tmp_path.glob("settings.json.broken-*"))


@pytest.mark.usefixtures("qapp")
def test_a_window_state_file_that_is_a_fifo_is_left_alone_without_waiting(tmp_path):
    with fifo_that_cannot_hang(tmp_path / "window-state.ini") as fifo:
        state = WindowState(tmp_path)
        assert state.restore("geometry") is None
        state.save("geometry", QByteArray(b"layout"))
        assert stat.S_ISFIFO(fifo.stat().st_mode)
