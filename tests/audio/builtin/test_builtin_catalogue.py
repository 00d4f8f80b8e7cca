"""The built-in station's catalogue: twelve pieces that cover the V-A plane and say they are built in."""

from __future__ import annotations

from moodsic_desktop.audio.builtin.catalogue import BUILTIN_ARTIST, CATALOGUE, PIECE_DURATION_S, builtin_songs


def test_twelve_pieces_cover_the_four_quadrants():
    songs = builtin_songs()
    assert len(songs) == len(CATALOGUE) == 12
    assert [s.song_id for s in songs] == [f"builtin-{n:02d}" for n in range(1, 13)]
    assert all(-1.0 <= s.valence <= 1.0 and -1.0 <= s.arousal <= 1.0 for s in songs)
    quadrants = {(s.valence > 0, s.arousal > 0) for s in songs if s.valence and s.arousal}
    assert quadrants == {(False, False), (False, True), (True, False), (True, True)}
    assert all(s.path is None and s.duration_s == PIECE_DURATION_S == 60.0 for s in songs)
    assert songs[0].title == "Grey Morning (built-in)" and (songs[0].valence, songs[0].arousal) == (-0.6, -0.6)


def test_each_call_gives_fresh_songs():
    first, second = builtin_songs(), builtin_songs()
    first[0].path = "elsewhere"
    assert second[0].path is None


def test_a_piece_says_built_in_once_beside_its_title():
    """The window shows "artist · genre" under the title: "Moodsic built-in station · built-in" said it twice."""
    for song in builtin_songs():
        details = " · ".join(part for part in (song.artist, song.genre) if part)
        assert details == BUILTIN_ARTIST and details.count("built-in") == 1
