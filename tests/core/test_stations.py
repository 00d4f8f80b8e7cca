import numpy as np
import pytest

from moodsic_desktop.audio.library.sources import read_deam
from moodsic_desktop.core.stations import StationModel, station_names


@pytest.fixture(scope="module")
def clustered():
    """Five well-separated clusters of songs in reference space."""
    rng = np.random.default_rng(1)
    centres = np.array([[-0.6, -0.6], [0.6, -0.6], [0.0, 0.0], [-0.6, 0.6], [0.6, 0.6]])
    points = np.concatenate([c + 0.05 * rng.standard_normal((40, 2)) for c in centres])
    return centres, points


def test_fit_finds_the_clusters(clustered):
    centres, points = clustered
    model = StationModel.fit(points[:, 0], points[:, 1], n_stations=5, seed=0)
    assert model.n_stations == 5
    for centre in centres:
        assert np.min(np.linalg.norm(model.centres - centre, axis=1)) < 0.05
    assert model._mixture.covariance_type == "diag"


def test_predict_proba_sums_to_one(clustered):
    _, points = clustered
    model = StationModel.fit(points[:, 0], points[:, 1])
    proba = model.predict_proba(0.1, -0.3)
    assert proba.shape == (5,) and proba.sum() == pytest.approx(1.0)
    many = model.predict_proba(points[:, 0], points[:, 1])
    assert many.shape == (200, 5)
    np.testing.assert_allclose(many.sum(axis=1), 1.0)


def test_gate_top_station_or_two(clustered):
    _, points = clustered
    model = StationModel.fit(points[:, 0], points[:, 1])
    inside = model.gate(0.6, 0.6)
    assert len(inside) == 1
    assert np.linalg.norm(model.centres[inside[0]] - [0.6, 0.6]) < 0.05
    # on the way between two clusters the posterior passes through a point where neither is sure
    line = np.linspace(0.0, 0.6, 601)
    top = model.predict_proba(line, line).max(axis=1)
    t = line[np.argmin(top)]
    assert top.min() < 0.55
    between = model.gate(t, t)
    assert len(between) == 2
    assert {tuple(np.round(model.centres[i], 1)) for i in between} == {(0.0, 0.0), (0.6, 0.6)}
    assert len(model.gate(t, t, widen_below=0.0)) == 1


def test_fit_is_reproducible_with_seed(clustered):
    _, points = clustered
    a = StationModel.fit(points[:, 0], points[:, 1], seed=3)
    b = StationModel.fit(points[:, 0], points[:, 1], seed=3)
    np.testing.assert_allclose(a.centres, b.centres)
    assert a.names == b.names


def test_names_describe_the_centres(clustered):
    _, points = clustered
    model = StationModel.fit(points[:, 0], points[:, 1])
    by_centre = {tuple(np.round(c, 1)): n for c, n in zip(model.centres, model.names, strict=True)}
    assert by_centre[(-0.6, -0.6)] == "Downcast & Low-energy"
    assert by_centre[(0.6, 0.6)] == "Joyful & Upbeat"
    assert by_centre[(0.0, 0.0)] == "Balanced & Steady"
    assert by_centre[(0.6, -0.6)] == "Warm & Relaxed"
    assert by_centre[(-0.6, 0.6)] == "Tense & Driving"


def test_names_are_unique_when_centres_share_a_region():
    names = station_names(np.array([[0.5, 0.5], [0.9, 0.6], [0.0, -0.5], [0.05, -0.4], [0.02, -0.9]]))
    assert len(set(names)) == len(names)
    assert names[0] == "Joyful & Upbeat, darker" and names[1] == "Joyful & Upbeat, brighter"
    assert names[2:] == ["Calm & Neutral, in between", "Calm & Neutral, liveliest", "Calm & Neutral, calmest"]


def test_stations_that_share_a_feel_are_named_by_their_music_once():
    """Issue 21 (4): no "(3 of 3)": each is named after the song nearest its centre."""
    from moodsic_desktop.core.song import Song, SongMood

    centres = np.array([[0.5, 0.5], [0.9, 0.6], [0.0, -0.5]])
    members = [
        [Song("a", SongMood(0.5, 0.5), title="Bright Market (built-in)"), Song("b", SongMood(0.2, 0.2), title="Other")],
        [Song("c", SongMood(0.85, 0.6), title="Sunny Square")],
        [Song("d", SongMood(0.0, -0.5), title="")],
    ]
    names = station_names(centres, members)
    assert names == ["Joyful & Upbeat, like “Bright Market”", "Joyful & Upbeat, like “Sunny Square”", "Calm & Neutral"]
    for name in names:
        assert "(" not in name and " of " not in name
    untitled = [[Song("a", SongMood(0.5, 0.5))], [Song("c", SongMood(0.85, 0.6))], []]
    assert station_names(centres, untitled)[:2] == ["Joyful & Upbeat, darker", "Joyful & Upbeat, brighter"]


def test_too_few_songs_is_an_error():
    with pytest.raises(ValueError, match="at least 5 distinct songs"):
        StationModel.fit([0.1, 0.1, 0.2], [0.0, 0.0, 0.3])


def test_real_deam_library(deam_fixture):
    songs = read_deam(deam_fixture).songs
    model = StationModel.fit([s.valence for s in songs], [s.arousal for s in songs])
    assert len(set(model.names)) == 5
    # the stations split the library: every station owns songs
    counts = np.bincount(model.predict([s.valence for s in songs], [s.arousal for s in songs]), minlength=5)
    assert counts.min() > 50
    low = model.names[int(model.predict(-0.6, -0.6)[0])]
    high = model.names[int(model.predict(0.6, 0.6)[0])]
    assert low != high


def test_saved_model_predicts_the_same(clustered):
    import json

    _, points = clustered
    model = StationModel.fit(points[:, 0], points[:, 1])
    restored = StationModel.from_dict(json.loads(json.dumps(model.to_dict())))
    grid = np.linspace(-1, 1, 21)
    v, a = np.meshgrid(grid, grid)
    np.testing.assert_allclose(
        restored.predict_proba(v.ravel(), a.ravel()), model.predict_proba(v.ravel(), a.ravel()), atol=1e-12
    )
    assert restored.names == model.names
    assert restored.gate(0.3, 0.3) == model.gate(0.3, 0.3)


def test_corrupt_saved_model_is_a_clear_error(clustered):
    _, points = clustered
    data = StationModel.fit(points[:, 0], points[:, 1]).to_dict()
    with pytest.raises(ValueError, match="incomplete"):
        StationModel.from_dict({k: v for k, v in data.items() if k != "means"})
    with pytest.raises(ValueError, match="shapes"):
        StationModel.from_dict({**data, "means": [[0.0, 0.0]]})
    with pytest.raises(ValueError, match="not a valid mixture"):
        StationModel.from_dict({**data, "weights": [0.5] * 5})
