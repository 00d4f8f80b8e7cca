"""Matching the stabilised mood to a song: station gate, k nearest neighbours, dwell, hysteresis, memory.

Rules, with distances Euclidean in reference V-A space:

1. The mode shifts the target (``target_for_mode``)::

       match:   (v, a)
       uplift:  (v + 0.35 · (1 - v), a)        valence moved 35 % of the way toward +1
       calm:    (v, a - 0.35 · (a + 1))        arousal moved 35 % of the way toward -1

2. Candidates: songs of the gated station(s) (all songs when there is no station model or the gated
   stations hold no playable song), without banned songs, without the last ``recent_k`` played songs
   while any other song is left, then the ``top_k`` nearest to the target.
   "Nearest" counts a song's uncertainty: a song ranks by its expected distance to the target,

       d_eff = sqrt(d² + mood_variance)

   with d the distance of its mood point and ``Song.mood_variance`` the expected squared error of that
   point (0 for rated or placed songs; larger for moods estimated from the audio). So a well-placed
   song beats a vague guess at the same distance, and a guess still wins when it is clearly closer.
3. The first call picks the nearest candidate. Before ``min_dwell_s`` seconds have passed since the
   current song started, never switch. After that, switch only when the best candidate is closer to the
   target than the current song by more than ``hysteresis`` (in d_eff). The reason of a decision says
   when the chosen song's mood was estimated from its audio.
4. ``song_ended`` (and ``skip``) always picks a song other than the current one.

Not thread-safe: one owner thread (the pipeline's) calls it; settings are plain attributes that may be
changed between calls.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict, get_args

import numpy as np
from numpy.typing import NDArray

from moodsic_desktop.core.library import Song
from moodsic_desktop.core.settings_schema import DWELL
from moodsic_desktop.core.stations import StationModel

MatchMode = Literal["match", "uplift", "calm"]
"""What the matcher aims for (rule 1); the strings are what settings files, reports and the CLI carry."""
MATCH_MODES: tuple[MatchMode, ...] = get_args(MatchMode)
MODE_SHIFT = 0.35
PLAY_MEMORY = 1000  # songs remembered for the recent-song rule (recent_k may be raised up to this)


class MatcherSettings(TypedDict):
    """The settings by name, as ``Matcher`` takes them as keyword arguments (plain attributes of it)."""

    min_dwell_s: float
    recent_k: int
    top_k: int
    widen_below: float
    hysteresis: float
    mode: MatchMode


SETTINGS: tuple[str, ...] = tuple(MatcherSettings.__annotations__)  # plain attributes of a Matcher


def validate_match_mode(mode: str) -> MatchMode:
    """``mode`` as a :data:`MatchMode`; ``ValueError`` when it is not one (a settings file, a command line)."""
    for known in MATCH_MODES:
        if mode == known:
            return known
    raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MATCH_MODES)}")


def target_for_mode(valence: float, arousal: float, mode: MatchMode) -> tuple[float, float]:
    """The target V-A (reference space) that a mode asks for; formulas in the module docstring."""
    if mode == "match":
        return valence, arousal
    if mode == "uplift":
        return valence + MODE_SHIFT * (1.0 - valence), arousal
    if mode == "calm":
        return valence, arousal - MODE_SHIFT * (arousal + 1.0)
    raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MATCH_MODES)}")  # an unchecked str


@dataclass(frozen=True)
class Decision:
    """What the matcher chose: the song to play now, whether that is a switch, and why.

    ``station`` is the name of the song's station (None without a station model); ``candidates`` are the
    nearest eligible songs, best first; ``target`` is the mode-shifted target (reference V-A) and
    ``distance`` the song's distance to it; ``song_started_at`` is when the matcher chose ``song``
    (seconds, on the caller's clock), so ``min_dwell_s`` minus the time since then is the dwell left.
    """

    song: Song
    switched: bool
    reason: str
    station: str | None
    candidates: tuple[Song, ...] = ()
    target: tuple[float, float] = (0.0, 0.0)
    distance: float = 0.0
    song_started_at: float = 0.0


@dataclass
class _Play:
    song_index: int
    started_at: float


class Matcher:
    """Chooses songs for a stream of targets (rules in the module docstring)."""

    def __init__(
        self,
        songs: Sequence[Song],
        stations: StationModel | None = None,
        min_dwell_s: float = DWELL.default,
        recent_k: int = 5,
        top_k: int = 20,
        widen_below: float = 0.55,
        hysteresis: float = 0.15,
        mode: MatchMode | str = "match",
    ) -> None:
        if not songs:
            raise ValueError("the matcher needs at least one song")
        self.songs: list[Song] = list(songs)
        self.stations = stations
        self.min_dwell_s = min_dwell_s
        self.recent_k = recent_k
        self.top_k = top_k
        self.widen_below = widen_below
        self.hysteresis = hysteresis
        self.mode = mode
        self._points = np.array([[s.valence, s.arousal] for s in self.songs], dtype=float)
        self._variance = np.array([max(float(s.mood_variance), 0.0) for s in self.songs], dtype=float)
        self._song_station = stations.predict(self._points[:, 0], self._points[:, 1]) if stations is not None else None
        self._index_of = {song.song_id: i for i, song in enumerate(self.songs)}
        self._banned = np.zeros(len(self.songs), dtype=bool)
        self._current: _Play | None = None
        self._last_target: tuple[float, float] | None = None
        # (start time in s, song_id), oldest first; bounded so that a PC left running for weeks stays small
        self.plays: deque[tuple[float, str]] = deque(maxlen=PLAY_MEMORY)

    @property
    def mode(self) -> MatchMode:
        return self._mode

    @mode.setter
    def mode(self, value: MatchMode | str) -> None:
        """Takes a plain str too (the GUI's menu, a settings file) and checks it."""
        self._mode = validate_match_mode(value)

    @property
    def current(self) -> Song | None:
        return self.songs[self._current.song_index] if self._current else None

    @property
    def current_started_at(self) -> float | None:
        return self._current.started_at if self._current else None

    def station_of(self, song: Song) -> str | None:
        """The station name of a library song (None without a station model)."""
        return self._station_name(self._index_of[song.song_id])

    def _station_name(self, index: int) -> str | None:
        if self.stations is None or self._song_station is None:
            return None
        return self.stations.names[int(self._song_station[index])]

    def settings(self) -> MatcherSettings:
        """The settings (``SETTINGS``) by name, as the constructor takes them."""
        return MatcherSettings(
            min_dwell_s=self.min_dwell_s,
            recent_k=self.recent_k,
            top_k=self.top_k,
            widen_below=self.widen_below,
            hysteresis=self.hysteresis,
            mode=self.mode,
        )

    def sibling(self, songs: Sequence[Song], stations: StationModel | None = None) -> Matcher:
        """A new matcher over other songs (another library) with this one's settings, nothing played yet."""
        return Matcher(songs, stations, **self.settings())

    def successor(self, songs: Sequence[Song], stations: StationModel | None = None) -> Matcher:
        """A matcher over a new version of this library (songs added, removed, moved on the mood plane) with
        this one's settings, its memory of recent plays and last target, and its current song when that is
        still among ``songs`` (with its start time: the dwell goes on). Bans are not carried over: the
        caller bans what the new version says."""
        successor = self.sibling(songs, stations)
        successor.plays.extend(play for play in self.plays if play[1] in successor._index_of)
        successor._last_target = self._last_target
        current = self.current
        if self._current is not None and current is not None and current.song_id in successor._index_of:
            successor._current = _Play(successor._index_of[current.song_id], self._current.started_at)
        return successor

    def has_song(self, song_id: str) -> bool:
        return song_id in self._index_of

    def started(self, song_id: str, now: float) -> None:
        """The current song was heard from ``now`` on (seconds): its dwell counts from then. A song chosen at
        the "song ending" notice starts only when the one before it ends, seconds after the choice; without
        this a mood switch could cut it short of ``min_dwell_s``. Other ids are ignored."""
        if self._current is not None and self.songs[self._current.song_index].song_id == song_id:
            self._current.started_at = max(self._current.started_at, now)

    def release_current(self) -> None:
        """Forget the current song (it never played, or another library's matcher took over): the next
        ``recommend`` or ``song_ended`` picks afresh. Bans and the play history are kept."""
        self._current = None

    def remember(self, song_ids: Sequence[str]) -> None:
        """Songs played before this session, oldest first, count for the recent-song rule (their time is
        -inf: before any of this session's); ids of other songs are ignored."""
        for song_id in song_ids:
            if song_id in self._index_of:
                self.plays.append((-math.inf, song_id))

    def ban(self, song_id: str) -> None:
        """Never choose this song again (until ``unban``); the current song keeps playing."""
        self._banned[self._index_of[song_id]] = True

    def is_banned(self, song_id: str) -> bool:
        return bool(self._banned[self._index_of[song_id]])

    def unban(self, song_id: str) -> None:
        self._banned[self._index_of[song_id]] = False

    def _recent_ids(self) -> set[str]:
        return {song_id for _, song_id in itertools.islice(reversed(self.plays), max(self.recent_k, 0))}

    def _candidates(
        self, target: tuple[float, float], exclude_current: bool
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Indices of the eligible songs nearest the target, best first, and their distances."""
        eligible = ~self._banned
        if not eligible.any():
            eligible = np.ones(len(self.songs), dtype=bool)
        if self.stations is not None and self._song_station is not None:
            gated = np.isin(self._song_station, self.stations.gate(*target, widen_below=self.widen_below))
            if (eligible & gated).any():
                eligible = eligible & gated
        recent = self._recent_ids()
        if recent:
            fresh = eligible.copy()
            fresh[[self._index_of[song_id] for song_id in recent]] = False
            if fresh.any():
                eligible = fresh
        if exclude_current and self._current is not None:
            others = eligible.copy()
            others[self._current.song_index] = False
            if not others.any():  # every other song is banned, recent or gated out: widen to all
                others = np.ones(len(self.songs), dtype=bool)
                others[self._current.song_index] = False
            if others.any():
                eligible = others
        indices = np.flatnonzero(eligible)
        offsets = self._points[indices] - np.asarray(target)
        distances = np.sqrt(np.einsum("ij,ij->i", offsets, offsets) + self._variance[indices])
        order = np.argsort(distances, kind="stable")[: max(self.top_k, 1)]
        return indices[order], distances[order]

    def _distance(self, index: int, target: tuple[float, float]) -> float:
        """The distance of a song's mood point to the target (reference units)."""
        return float(np.hypot(*(self._points[index] - np.asarray(target))))

    def _expected_distance(self, index: int, target: tuple[float, float]) -> float:
        """``sqrt(distance² + mood_variance)``: the ranking distance (rule 2)."""
        return math.sqrt(self._distance(index, target) ** 2 + self._variance[index])

    def _decide(
        self,
        index: int,
        target: tuple[float, float],
        candidates: NDArray[np.intp],
        switched: bool,
        reason: str,
        now: float,
    ) -> Decision:
        if switched:
            self._current = _Play(index, now)
            self.plays.append((now, self.songs[index].song_id))
        song = self.songs[index]
        if song.mood_source == "estimated":
            sigma = math.sqrt(song.mood_variance / 2.0)
            reason += f"; its mood was estimated from the audio (±{sigma:.2f})"
        return Decision(
            song=song,
            switched=switched,
            reason=reason,
            station=self._station_name(index),
            candidates=tuple(self.songs[i] for i in candidates),
            target=(float(target[0]), float(target[1])),
            distance=self._distance(index, target),
            song_started_at=self._current.started_at if self._current else now,
        )

    def recommend(self, v_ref: float, a_ref: float, now: float) -> Decision:
        """The song to play for the stabilised mood (reference V-A) at time ``now`` (seconds)."""
        target = target_for_mode(v_ref, a_ref, self._mode)
        self._last_target = target
        indices, distances = self._candidates(target, exclude_current=False)
        station = self._station_name(int(indices[0]))
        if self._current is None:
            return self._decide(
                indices[0], target, indices, True, f"first pick: nearest song in {station or 'the library'}", now
            )
        current = self._current.song_index
        elapsed = now - self._current.started_at
        if elapsed < self.min_dwell_s:
            reason = f"dwell: {elapsed:.0f} s of {self.min_dwell_s:.0f} s played"
            return self._decide(current, target, indices, False, reason, now)
        current_distance = self._expected_distance(current, target)
        best = int(indices[0])
        gain = current_distance - float(distances[0])
        if best != current and gain > self.hysteresis:
            reason = f"mood moved: {gain:.2f} closer than the last song (hysteresis {self.hysteresis:.2f})"
            return self._decide(best, target, indices, True, reason, now)
        reason = f"still the best fit: no song closer by more than {self.hysteresis:.2f}"
        return self._decide(current, target, indices, False, reason, now)

    def song_ended(self, now: float, v_ref: float | None = None, a_ref: float | None = None) -> Decision:
        """The current song has ended: choose another one, for the mood given (reference V-A) or else for
        the last target seen."""
        return self._another_song(now, v_ref, a_ref, skipped=False)

    def skip(self, now: float) -> Decision:
        """The user skipped the song: like ``song_ended``; the reason says only that the user skipped it
        (and, as always, when the next song's mood was estimated)."""
        return self._another_song(now, None, None, skipped=True)

    def _another_song(self, now: float, v_ref: float | None, a_ref: float | None, skipped: bool) -> Decision:
        if v_ref is not None and a_ref is not None:
            self._last_target = target_for_mode(v_ref, a_ref, self._mode)
        target = self._last_target or (0.0, 0.0)
        indices, _ = self._candidates(target, exclude_current=True)
        best = int(indices[0])
        if skipped:
            reason = "skipped by the user"
        elif self._current is not None and best == self._current.song_index:
            reason = "song ended: the library holds no other song"
        else:
            reason = f"song ended: nearest other song in {self._station_name(best) or 'the library'}"
        return self._decide(best, target, indices, True, reason, now)
