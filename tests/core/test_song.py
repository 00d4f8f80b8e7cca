"""A song's mood is one value (``SongMood``): the point, both variances and the source travel together."""

import dataclasses
import math

import pytest

from moodsic_desktop.audio.library.mood_estimation import MoodPoint
from moodsic_desktop.core.song import Song, SongMood


def test_the_variance_is_the_expected_squared_distance_and_the_spread_the_typical_error_per_axis():
    mood = SongMood(0.2, -0.1, "estimated", 0.09, 0.01)
    assert mood.variance == pytest.approx(0.10)
    assert mood.spread == pytest.approx(math.sqrt(0.05))
    assert SongMood(0.2, -0.1).variance == 0.0 and SongMood(0.2, -0.1).spread == 0.0


def test_a_song_reads_its_point_from_its_mood():
    song = Song("1", SongMood(0.3, -0.4, "placed"), title="A", artist="B")
    assert (song.valence, song.arousal, song.mood.source) == (0.3, -0.4, "placed")
    moved = dataclasses.replace(song, mood=dataclasses.replace(song.mood, valence=-0.5))
    assert (moved.valence, moved.arousal, song.valence) == (-0.5, -0.4, 0.3)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "guessed"}, "unknown mood source 'guessed'"),
        ({"valence_var": -0.01}, "valence_var must be a finite number"),
        ({"arousal_var": math.nan}, "arousal_var must be a finite number"),
        ({"arousal_var": math.inf}, "arousal_var must be a finite number"),
    ],
)
def test_a_mood_refuses_an_unknown_source_and_an_impossible_variance(fields, message):
    with pytest.raises(ValueError, match=message):
        SongMood(0.0, 0.0, **fields)


def test_the_old_call_with_a_bare_point_is_refused_by_name():
    with pytest.raises(TypeError, match="song '7': its mood is a SongMood"):
        Song("7", 0.1, 0.2)  # type: ignore[arg-type]


def test_an_estimate_keeps_both_variances_as_the_songs_mood():
    point = MoodPoint(0.25, -0.5, 0.04, 0.09, "learned")
    assert point.song_mood == SongMood(0.25, -0.5, "estimated", 0.04, 0.09)


def test_a_songs_name_is_its_title_and_artist_or_its_id():
    assert Song("1", SongMood(0, 0), title="A", artist="B").display_name == "A — B"
    assert Song("7", SongMood(0, 0)).display_name == "Song 7"
