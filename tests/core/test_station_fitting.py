"""Fitting a library's stations (``core.stations.fit_station_model``): none with too few distinct songs,
the same model as ``StationModel.fit`` on the songs' V-A otherwise, reproducible with a seed."""

from __future__ import annotations

import numpy as np

from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stations import (
    DEFAULT_N_STATIONS,
    StationModel,
    fit_station_model,
    songs_for_stations,
)


def songs_at(points) -> list[Song]:
    return [Song(f"s{i}", SongMood(float(v), float(a))) for i, (v, a) in enumerate(points)]


def spread(n: int, seed: int = 0) -> list[Song]:
    return songs_at(np.random.default_rng(seed).uniform(-0.9, 0.9, size=(n, 2)))


def test_songs_for_stations_is_twice_the_stations_and_at_least_four():
    assert songs_for_stations() == 2 * DEFAULT_N_STATIONS == 10
    assert songs_for_stations(7) == 14
    assert songs_for_stations(1) == songs_for_stations(2) == 4


def test_no_songs_or_too_few_distinct_points_give_no_model():
    assert fit_station_model([]) is None
    assert fit_station_model(spread(songs_for_stations() - 1)) is None
    # many songs, but only 9 distinct points: still too few for 5 stations
    assert fit_station_model(songs_at([(k / 10, -k / 10) for k in range(9)] * 20)) is None


def test_enough_distinct_songs_give_the_model_of_their_points():
    songs = spread(songs_for_stations())
    model = fit_station_model(songs, seed=3)
    assert model is not None and model.n_stations == DEFAULT_N_STATIONS
    direct = StationModel.fit([s.valence for s in songs], [s.arousal for s in songs], n_stations=5, seed=3)
    np.testing.assert_allclose(model.centres, direct.centres)


def test_the_fit_is_reproducible_and_takes_the_number_of_stations():
    songs = spread(60, seed=1)
    first, again = fit_station_model(songs, n_stations=3, seed=7), fit_station_model(songs, n_stations=3, seed=7)
    assert first.n_stations == 3
    np.testing.assert_allclose(first.centres, again.centres)
    assert first.to_dict() == again.to_dict()
