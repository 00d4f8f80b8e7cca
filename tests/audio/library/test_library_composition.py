"""Issue 24 (4): the importers are classes that take an index, not mixins of it; only the store touches
the index's connection (beets keeps its importer apart from its library the same way)."""

from pathlib import Path

from moodsic_desktop.audio.library import store
from moodsic_desktop.audio.library.importers import RatedImporter
from moodsic_desktop.audio.library.index import LibraryIndex
from moodsic_desktop.audio.library.mood_imports import MoodImporter
from moodsic_desktop.audio.library.store import IndexStore
from tests.conftest import write_deam_folder


def test_the_index_is_no_importer_and_an_importer_writes_through_the_index_it_is_given(tmp_path):
    assert [cls.__name__ for cls in LibraryIndex.__mro__[:2]] == ["LibraryIndex", "IndexStore"]
    assert not any(issubclass(cls, IndexStore) for cls in (RatedImporter, MoodImporter))
    folder = write_deam_folder(tmp_path, ["1,5,,5,", "2,9,,1,"])
    with LibraryIndex(tmp_path / "one.sqlite") as one, LibraryIndex(tmp_path / "other.sqlite") as other:
        assert RatedImporter(one).import_deam(folder).new == 2
        assert [song.song_id for song in one.songs(playable_only=False)] == ["1", "2"]
        assert other.songs(playable_only=False) == []


def test_only_the_store_and_the_index_touch_the_connection():
    package = Path(store.__file__).parent
    touching = sorted(path.name for path in package.glob("*.py") if "._conn" in path.read_text(encoding="utf-8"))
    assert touching == ["index.py", "store.py"]
