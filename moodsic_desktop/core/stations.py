"""Stations: a diagonal Gaussian mixture over the library's song V-A, used to gate the matcher.

The mixture is fitted on standardised reference V-A (zero mean, unit variance per dimension) with
scikit-learn's ``GaussianMixture(covariance_type="diag")``. ``gate`` returns the most probable station,
or the two most probable when the top posterior is below ``widen_below`` (the target sits between
stations, so both are searched). Station names describe where each centre lies in reference space.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from moodsic_desktop.core.song import Song

# Thresholds in reference units that split each axis into low / mid / high for naming.
_NAME_THRESHOLD = 0.15
_NAMES = {
    ("low", "low"): "Downcast & Low-energy",
    ("low", "mid"): "Wistful & Steady",
    ("low", "high"): "Tense & Driving",
    ("mid", "low"): "Calm & Neutral",
    ("mid", "mid"): "Balanced & Steady",
    ("mid", "high"): "Lively & Neutral",
    ("high", "low"): "Warm & Relaxed",
    ("high", "mid"): "Bright & Engaging",
    ("high", "high"): "Joyful & Upbeat",
}


def _level(x: float) -> str:
    return "low" if x < -_NAME_THRESHOLD else "high" if x > _NAME_THRESHOLD else "mid"


_PLACE_WORDS = {  # stations of one name, ordered along the axis they differ on: (valence words, arousal words)
    2: (("darker", "brighter"), ("calmer", "livelier")),
    3: (("darkest", "in between", "brightest"), ("calmest", "in between", "liveliest")),
    4: (("darkest", "darker", "brighter", "brightest"), ("calmest", "calmer", "livelier", "liveliest")),
    5: (
        ("darkest", "darker", "in between", "brighter", "brightest"),
        ("calmest", "calmer", "in between", "livelier", "liveliest"),
    ),
}
_BUILT_IN_MARK = " (built-in)"  # the built-in pieces' titles end so; a station's name needs no such mark


def station_names(centres: NDArray[np.float64], members: Sequence[Sequence[Song]] | None = None) -> list[str]:
    """One short, unique, human name per centre (rows of reference V-A): the feel of the music there.
    Stations that share a feel are told apart by their music, once: the title of the song nearest each
    one's centre (``members[k]``: station k's songs), e.g. "Joyful & Upbeat, like “Bright Market”"; without
    titles to tell them apart, by where they lie ("Joyful & Upbeat, livelier")."""
    names = [_NAMES[_level(v), _level(a)] for v, a in centres]
    groups: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(names):
        groups[name].append(index)
    for name, stations in groups.items():
        if len(stations) < 2:
            continue
        qualifiers = _music_qualifiers(centres, stations, members) or _place_qualifiers(centres, stations)
        for index, qualifier in zip(stations, qualifiers, strict=True):
            names[index] = f"{name}, {qualifier}"
    return names


def _music_qualifiers(
    centres: NDArray[np.float64], stations: list[int], members: Sequence[Sequence[Song]] | None
) -> list[str] | None:
    """'like “<title>”' for each station (its titled song nearest its centre); None when a station has no
    titled song or two would read the same."""
    if members is None:
        return None
    words = []
    for index in stations:
        titled = [song for song in members[index] if song.title]
        if not titled:
            return None
        v, a = centres[index]
        nearest = min(titled, key=lambda song: (song.valence - v) ** 2 + (song.arousal - a) ** 2)
        words.append(f"like “{nearest.title.removesuffix(_BUILT_IN_MARK)}”")
    return words if len(set(words)) == len(words) else None


def _place_qualifiers(centres: NDArray[np.float64], stations: list[int]) -> list[str]:
    """Where each station lies among ``stations``, along the axis on which they differ most."""
    spread = centres[stations].max(axis=0) - centres[stations].min(axis=0)
    axis = int(np.argmax(spread))
    order = sorted(stations, key=lambda i: centres[i, axis])
    words = _PLACE_WORDS[len(order)][axis] if len(order) in _PLACE_WORDS else None
    by_station = {index: words[rank] if words else f"{rank + 1} of {len(order)}" for rank, index in enumerate(order)}
    return [by_station[index] for index in stations]


class StationModel:
    """A fitted station model. Build with ``StationModel.fit``; read-only afterwards (any thread)."""

    def __init__(self, scaler: StandardScaler, mixture: GaussianMixture) -> None:
        self._scaler = scaler
        self._mixture = mixture
        self.centres: NDArray[np.float64] = scaler.inverse_transform(mixture.means_)
        self.names: list[str] = station_names(self.centres)

    def named_for(self, songs: Sequence[Song]) -> StationModel:
        """Name the stations after their music in ``songs`` (the library's songs; ``station_names``) and
        return the model. Call once, before the model is shared."""
        if songs:
            predicted = self.predict([s.valence for s in songs], [s.arousal for s in songs])
            members: list[list[Song]] = [[] for _ in self.names]
            for song, station in zip(songs, predicted, strict=True):
                members[int(station)].append(song)
            self.names = station_names(self.centres, members)
        return self

    @classmethod
    def fit(cls, valence: ArrayLike, arousal: ArrayLike, n_stations: int = 5, seed: int = 0) -> StationModel:
        """Fit ``n_stations`` diagonal Gaussians to song V-A (reference space). Needs at least as many
        distinct songs as stations."""
        points = np.column_stack([np.asarray(valence, float).ravel(), np.asarray(arousal, float).ravel()])
        if not np.all(np.isfinite(points)):
            raise ValueError("station model: song V-A values must be finite")
        distinct = len(np.unique(points, axis=0))
        if n_stations < 1 or distinct < n_stations:
            raise ValueError(f"station model: need at least {n_stations} distinct songs, got {distinct}")
        scaler = StandardScaler().fit(points)
        mixture = GaussianMixture(
            n_components=n_stations, covariance_type="diag", random_state=seed, n_init=3, reg_covar=1e-4
        ).fit(scaler.transform(points))
        return cls(scaler, mixture)

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain JSON-ready numbers (to store it with the library)."""
        return {
            "scaler_mean": self._scaler.mean_.tolist(),
            "scaler_scale": self._scaler.scale_.tolist(),
            "weights": self._mixture.weights_.tolist(),
            "means": self._mixture.means_.tolist(),
            "covariances": self._mixture.covariances_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StationModel:
        """Rebuild a model saved by ``to_dict``; raises ``ValueError`` when the data do not fit together."""
        try:
            means = np.asarray(data["means"], float)
            covariances = np.asarray(data["covariances"], float)
            weights = np.asarray(data["weights"], float)
            scaler = StandardScaler()
            scaler.mean_ = np.asarray(data["scaler_mean"], float)
            scaler.scale_ = np.asarray(data["scaler_scale"], float)
        except (KeyError, TypeError) as error:
            raise ValueError(f"station model data incomplete: {error}") from None
        n = len(weights)
        if n < 1 or means.shape != (n, 2) or covariances.shape != (n, 2) or scaler.mean_.shape != (2,):
            raise ValueError("station model data have inconsistent shapes")
        if np.any(covariances <= 0) or np.any(scaler.scale_ <= 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError("station model data are not a valid mixture")
        scaler.var_ = scaler.scale_**2
        scaler.n_features_in_ = 2
        mixture = GaussianMixture(n_components=n, covariance_type="diag")
        mixture.weights_, mixture.means_, mixture.covariances_ = weights, means, covariances
        mixture.precisions_cholesky_ = 1.0 / np.sqrt(covariances)
        mixture.precisions_ = 1.0 / covariances
        mixture.converged_ = True
        mixture.n_features_in_ = 2
        return cls(scaler, mixture)

    @property
    def n_stations(self) -> int:
        return len(self.names)

    def _points(self, valence: ArrayLike, arousal: ArrayLike) -> NDArray[np.float64]:
        points = np.column_stack([np.atleast_1d(np.asarray(valence, float)), np.atleast_1d(np.asarray(arousal, float))])
        return np.asarray(self._scaler.transform(points), dtype=np.float64)  # scikit-learn is untyped

    def predict_proba(self, valence: ArrayLike, arousal: ArrayLike) -> NDArray[np.float64]:
        """Posterior over stations: shape (n_stations,) for scalars, (n, n_stations) for arrays; rows sum to 1."""
        proba = self._mixture.predict_proba(self._points(valence, arousal))
        return np.asarray(proba[0] if np.ndim(valence) == 0 and np.ndim(arousal) == 0 else proba, dtype=np.float64)

    def predict(self, valence: ArrayLike, arousal: ArrayLike) -> NDArray[np.int64]:
        """The most probable station of each point."""
        proba = self._mixture.predict_proba(self._points(valence, arousal))
        return np.atleast_1d(np.asarray(np.argmax(proba, axis=1), dtype=np.int64))

    def gate(self, valence: float, arousal: float, widen_below: float = 0.55) -> list[int]:
        """The top station, or the top two when the top posterior is below ``widen_below``."""
        proba = self.predict_proba(valence, arousal)
        order = np.argsort(proba)[::-1]
        if self.n_stations > 1 and proba[order[0]] < widen_below:
            return [int(order[0]), int(order[1])]
        return [int(order[0])]

    def describe(self) -> list[dict[str, Any]]:
        """Each station's name, centre (reference V-A) and weight, for reports and the GUI."""
        return [
            {"index": i, "name": name, "valence": float(c[0]), "arousal": float(c[1]), "weight": float(w)}
            for i, (name, c, w) in enumerate(zip(self.names, self.centres, self._mixture.weights_, strict=True))
        ]


# --------------------------------------------------------------------------------------------------------
# Fitting a library's stations (moved here from the library index: pure domain logic)

DEFAULT_N_STATIONS = 5
DEFAULT_SEED = 0


def songs_for_stations(n_stations: int = DEFAULT_N_STATIONS) -> int:
    """The fewest songs with distinct mood points that get a station model: ``2 · max(n_stations, 2)``.
    With fewer, the matcher chooses from all songs, without stations. Any thread."""
    return max(n_stations, 2) * 2


def fit_station_model(
    songs: Sequence[Song], n_stations: int = DEFAULT_N_STATIONS, seed: int = DEFAULT_SEED
) -> StationModel | None:
    """Fit the stations of a library (songs' V-A in reference space [-1, 1]), or ``None`` when it has fewer
    than ``songs_for_stations(n_stations)`` songs with distinct V-A (too few for a mixture to mean
    anything). Deterministic for a given ``seed``. Any thread."""
    if not songs:
        return None
    points = np.array([[s.valence, s.arousal] for s in songs], dtype=float)
    if len(np.unique(points, axis=0)) < songs_for_stations(n_stations):
        return None
    return StationModel.fit(points[:, 0], points[:, 1], n_stations=n_stations, seed=seed).named_for(songs)
