"""Matching the stabilised mood to a song: station gate, k nearest neighbours, dwell, hysteresis, variety.

Rules, with distances Euclidean in reference V-A space and times in seconds on the caller's clock:

1. The mode shifts the target (``target_for_mode``)::

       match:   (v, a)
       uplift:  (v + 0.35 · (1 - v), a)        valence moved 35 % of the way toward +1
       calm:    (v, a - 0.35 · (a + 1))        arousal moved 35 % of the way toward -1

2. Ranking. "Nearest" counts a song's uncertainty: a song ranks by its expected distance to the target,

       d_eff = sqrt(d² + variance)

   with d the distance of its mood point and ``SongMood.variance`` the expected squared error of that
   point (0 for rated or placed songs; larger for moods estimated from the audio). So a well-placed
   song beats a vague guess at the same distance, and a guess still wins when it is clearly closer.

3. Candidates, step by step (the pool: the songs not banned, all songs when every one is banned; at a
   song's end or a skip, without the song playing while the library holds another):

   * *Near enough*: a song whose mood point lies within ``variety_reach`` (reference units) of the
     target beyond the nearest pool song's distance, ``d <= d_nearest + variety_reach``, or one of the
     ``NEAR_SONGS`` nearest pool songs (by d): so a small library that spreads its songs over the whole
     plane, like the built-in station, still takes turns among 8 songs.
   * *Played recently*: a song that started in the last ``effective_repeat_window_s`` seconds, or one
     of the last ``recent_k`` songs played (this session's, or earlier sessions' given to ``remember``).
     The window is ``repeat_window_s`` (the owner's setting), shortened for a small library to the pool's
     size × its typical song length (the median known length, else ``TYPICAL_SONG_S``): a library that
     plays through in less time than the window would otherwise count every song as played recently.
   * The gate: the songs of the station(s) the mixture gates the target to, plus the station of the
     nearest pool song (far from its data a mixture can favour a wide station whose songs are all far);
     all pool songs without a station model or when the gated stations hold no pool song.

   Then the first of these that holds a song gives the candidates, best first, at most ``top_k``:

   a. ``"nearest"``: the gate's near songs not played recently, by d_eff;
   b. ``"past_station"``: the near songs outside the gate not played recently, by d_eff: the matcher
      reached past the station for variety, and the decision's reason says so;
   c. ``"least_recent"``: every near song played recently: the one played longest ago first (then by
      d_eff), so near songs take turns.

   So a song does not come back while another song near enough to the mood has not played within the
   window, and there is no A-B-A-B while a third song is near enough: at B's end, A is among the last
   ``recent_k`` songs (with ``recent_k`` ≥ 2, the default 5) or within the window, and in step c any
   third near song played longer ago than A.
   The memory behind it is bounded: the last ``PLAY_MEMORY`` plays and one start time per song.

4. The first call picks the best candidate. Before ``min_dwell_s`` seconds have passed since the current
   song started, never switch. After that, switch only when the mood moved (the target is more than
   ``hysteresis`` away from the one the current song was chosen for) and the best candidate is closer to
   the target than the current song by more than ``hysteresis`` (in d_eff): a song chosen for variety
   plays on while the mood holds still. The reason of a decision says when the chosen song's mood was
   estimated from its audio.

5. ``song_ended`` (and ``skip``) always picks a song other than the current one, for the mood given (the
   mood of that moment) or else the last target seen.

The ``Decision`` carries the reason in words and, for the window to word, ``variety`` (which step of
rule 3 chose it) and ``repeat_window_s`` (the window in force).

Not thread-safe: one owner thread (the pipeline's) calls it; settings are plain attributes that may be
changed between calls.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypedDict, get_args

import numpy as np
from numpy.typing import NDArray

from moodsic_desktop.core.choices import FixedChoice
from moodsic_desktop.core.settings_schema import DWELL, REPEAT_WINDOW
from moodsic_desktop.core.song import Song
from moodsic_desktop.core.stations import StationModel

MatchMode = Literal["match", "uplift", "calm"]
"""What the matcher aims for (rule 1); the strings are what settings files, reports and the CLI carry."""
MATCH_MODES: tuple[MatchMode, ...] = get_args(MatchMode)
MODE_SHIFT = 0.35
PLAY_MEMORY = 1000  # songs remembered for the recent-song rule (recent_k may be raised up to this)
VARIETY_REACH = 0.5  # reference units beyond the nearest song that still count as near enough (rule 3)
NEAR_SONGS = 8  # the nearest songs that always count as near enough (rule 3)
TYPICAL_SONG_S = 180.0  # a song's length when no song of the library has a known length (rule 3's window)

Variety = Literal["nearest", "past_station", "least_recent"]
"""Which step of rule 3 chose a decision's song (``Decision.variety``): ``"nearest"`` the usual, the nearest
song of the gated station not played recently (or the song playing stays); ``"past_station"`` the station's
near songs had all played recently, so the nearest near song outside it that had not; ``"least_recent"``
every song near the mood had played recently, so the one played longest ago. Strings, for reports."""
VARIETIES: tuple[Variety, ...] = get_args(Variety)


class MatcherSettings(TypedDict):
    """The settings by name, as ``Matcher`` takes them as keyword arguments (plain attributes of it)."""

    min_dwell_s: float
    recent_k: int
    top_k: int
    widen_below: float
    hysteresis: float
    mode: MatchMode
    repeat_window_s: float
    variety_reach: float


SETTINGS: tuple[str, ...] = tuple(MatcherSettings.__annotations__)  # plain attributes of a Matcher


validate_match_mode = FixedChoice("mode", MATCH_MODES)
"""``mode`` as a :data:`MatchMode`; ``ValueError`` when it is not one (a settings file, a command line)."""


def target_for_mode(valence: float, arousal: float, mode: MatchMode) -> tuple[float, float]:
    """The target V-A (reference space) that a mode asks for; formulas in the module docstring."""
    mode = validate_match_mode(mode)  # callers may hold an unchecked str at run time
    if mode == "uplift":
        return valence + MODE_SHIFT * (1.0 - valence), arousal
    if mode == "calm":
        return valence, arousal - MODE_SHIFT * (arousal + 1.0)
    return valence, arousal


@dataclass(frozen=True)
class Decision:
    """What the matcher chose: the song to play now, whether that is a switch, and why.

    ``station`` is the name of the song's station (None without a station model); ``candidates`` are the
    nearest eligible songs, best first; ``target`` is the mode-shifted target (reference V-A) and
    ``distance`` the song's distance to it; ``song_started_at`` is when the matcher chose ``song``
    (seconds, on the caller's clock), so ``min_dwell_s`` minus the time since then is the dwell left.
    ``variety`` says which step of the module's rule 3 chose a switch's song (:data:`Variety`;
    ``"past_station"``: it reached past the station for variety); a decision that keeps the song says
    ``"nearest"``. ``repeat_window_s`` is the window in force (seconds: the owner's setting, shortened for
    a small library). ``cause`` is the kind of reason ("first pick", "dwell", "mood moved", …; the session
    adds its own, such as "opening time": the keys of ``core.decision_words.REASON_WORDS``; "" when not
    given) and ``day_plan`` what the day plan did to the target ("keeps it calm (Morning)"; "" for nothing).
    These are plain values for the window to word; ``reason`` says the same in the engineer's words,
    ``"<cause>: <detail>"`` (and "; the day plan <day_plan>" at its end).
    """

    song: Song
    switched: bool
    reason: str
    station: str | None
    candidates: tuple[Song, ...] = ()
    target: tuple[float, float] = (0.0, 0.0)
    distance: float = 0.0
    song_started_at: float = 0.0
    variety: Variety = "nearest"
    repeat_window_s: float = 0.0
    cause: str = ""
    day_plan: str = ""

    def because(self, cause: str, detail: str) -> Decision:
        """This decision told as made for ``cause`` (the session's causes: the library changed, no picture,
        opening time), its reason ``"<cause>: <detail>"``."""
        return replace(self, cause=cause, reason=f"{cause}: {detail}")

    def with_day_plan(self, words: str) -> Decision:
        """This decision with what the day plan did to its target (``words``: "keeps it calm (Morning)")."""
        return replace(self, reason=f"{self.reason}; the day plan {words}", day_plan=words)


@dataclass
class _Play:
    song_index: int
    started_at: float
    chosen_for: tuple[float, float]  # the target the song was chosen for


@dataclass(frozen=True)
class _Choice:
    """Rule 3's result: candidate indices and their d_eff, best first; the step; the gated stations' names."""

    indices: NDArray[np.intp]
    distances: NDArray[np.float64]
    variety: Variety
    gated: str


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
        repeat_window_s: float = REPEAT_WINDOW.default * 60.0,
        variety_reach: float = VARIETY_REACH,
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
        self.repeat_window_s = repeat_window_s
        self.variety_reach = variety_reach
        self._points = np.array([[s.valence, s.arousal] for s in self.songs], dtype=float)
        self._variance = np.array([max(float(s.mood.variance), 0.0) for s in self.songs], dtype=float)
        self._song_station = stations.predict(self._points[:, 0], self._points[:, 1]) if stations is not None else None
        self._index_of = {song.song_id: i for i, song in enumerate(self.songs)}
        self._banned = np.zeros(len(self.songs), dtype=bool)
        self._current: _Play | None = None
        self._last_target: tuple[float, float] | None = None
        # (start time in s, song_id), oldest first; bounded so that a PC left running for weeks stays small
        self.plays: deque[tuple[float, str]] = deque(maxlen=PLAY_MEMORY)
        # per song: when it last started (-inf: never, or before this session) and the number of that play
        # among all plays counted (-1: never), for rule 3; one entry per song, however long the run
        self._last_started = np.full(len(self.songs), -math.inf)
        self._last_play_number = np.full(len(self.songs), -1, dtype=np.int64)
        self._plays_counted = 0
        lengths = [s.duration_s for s in self.songs if s.duration_s is not None and s.duration_s > 0]
        self._typical_song_s = float(np.median(lengths)) if lengths else TYPICAL_SONG_S

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

    @property
    def effective_repeat_window_s(self) -> float:
        """Rule 3's window in seconds: ``repeat_window_s``, at most the pool's size × its typical song length."""
        pool = int(np.count_nonzero(~self._banned)) or len(self.songs)
        return max(0.0, min(self.repeat_window_s, pool * self._typical_song_s))

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
            repeat_window_s=self.repeat_window_s,
            variety_reach=self.variety_reach,
        )

    def adopt_settings(self, settings: MatcherSettings) -> None:
        """Take ``settings`` (another matcher's ``settings()``, e.g. the one that played meanwhile), keeping
        this matcher's songs, history and bans."""
        self.min_dwell_s = settings["min_dwell_s"]
        self.recent_k = settings["recent_k"]
        self.top_k = settings["top_k"]
        self.widen_below = settings["widen_below"]
        self.hysteresis = settings["hysteresis"]
        self.mode = settings["mode"]
        self.repeat_window_s = settings["repeat_window_s"]
        self.variety_reach = settings["variety_reach"]

    def sibling(self, songs: Sequence[Song], stations: StationModel | None = None) -> Matcher:
        """A new matcher over other songs (another library) with this one's settings, nothing played yet."""
        return Matcher(songs, stations, **self.settings())

    def successor(self, songs: Sequence[Song], stations: StationModel | None = None) -> Matcher:
        """A matcher over a new version of this library (songs added, removed, moved on the mood plane) with
        this one's settings, its memory of recent plays and last target, and its current song when that is
        still among ``songs`` (with its start time: the dwell goes on). Bans are not carried over: the
        caller bans what the new version says."""
        successor = self.sibling(songs, stations)
        for started_at, song_id in self.plays:
            if song_id in successor._index_of:
                successor._count_play(successor._index_of[song_id], started_at)
        successor._last_target = self._last_target
        current = self.current
        if self._current is not None and current is not None and current.song_id in successor._index_of:
            index = successor._index_of[current.song_id]
            successor._current = _Play(index, self._current.started_at, self._current.chosen_for)
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
        -inf: before any of this session's, so outside the window); ids of other songs are ignored."""
        for song_id in song_ids:
            if song_id in self._index_of:
                self._count_play(self._index_of[song_id], -math.inf)

    def ban(self, song_id: str) -> None:
        """Never choose this song again (until ``unban``); the current song keeps playing."""
        self._banned[self._index_of[song_id]] = True

    def is_banned(self, song_id: str) -> bool:
        return bool(self._banned[self._index_of[song_id]])

    def unban(self, song_id: str) -> None:
        self._banned[self._index_of[song_id]] = False

    def _count_play(self, index: int, started_at: float) -> None:
        """One more play of the song at ``index`` (started at ``started_at`` s; -inf: before this session)."""
        self.plays.append((started_at, self.songs[index].song_id))
        self._last_started[index] = max(self._last_started[index], started_at)
        self._last_play_number[index] = self._plays_counted
        self._plays_counted += 1

    def _played_recently(self, now: float) -> NDArray[np.bool_]:
        """Rule 3's "played recently": started within the window, or among the last ``recent_k`` plays."""
        recent = self._last_started > now - self.effective_repeat_window_s
        for _, song_id in itertools.islice(reversed(self.plays), max(self.recent_k, 0)):
            recent[self._index_of[song_id]] = True
        return recent

    def _pool(self, exclude_current: bool) -> NDArray[np.bool_]:
        """The songs rule 3 chooses from: not banned (all when all are), without the current song if asked
        while another song is left."""
        pool = ~self._banned
        if not pool.any():
            pool = np.ones(len(self.songs), dtype=bool)
        if exclude_current and self._current is not None:
            others = pool.copy()
            others[self._current.song_index] = False
            if not others.any():  # every other song is banned: widen to all
                others = np.ones(len(self.songs), dtype=bool)
                others[self._current.song_index] = False
            if others.any():
                pool = others
        return pool

    def _gate(
        self, target: tuple[float, float], pool: NDArray[np.bool_], nearest: int
    ) -> tuple[NDArray[np.bool_], str]:
        """The gated songs of the pool (rule 3) and the gated stations' names, in words."""
        if self.stations is None or self._song_station is None:
            return pool, "the library"
        gated = self.stations.gate(*target, widen_below=self.widen_below)
        names = " and ".join(self.stations.names[i] for i in gated)
        inside = pool & np.isin(self._song_station, [*gated, int(self._song_station[nearest])])
        return (inside, names) if inside.any() else (pool, names)

    def _choose(self, target: tuple[float, float], now: float, exclude_current: bool) -> _Choice:
        """Rule 3: the candidates, best first, with the step that gave them."""
        pool = self._pool(exclude_current)
        offsets = self._points - np.asarray(target)
        squared = np.einsum("ij,ij->i", offsets, offsets)
        expected = np.sqrt(squared + self._variance)
        plain = np.sqrt(squared)
        nearest = int(np.flatnonzero(pool)[np.argmin(expected[pool])])
        indices = np.flatnonzero(pool)
        near = pool & (plain <= float(plain[pool].min()) + self.variety_reach)
        near[indices[np.argsort(plain[indices], kind="stable")[:NEAR_SONGS]]] = True
        gate, gated = self._gate(target, pool, nearest)
        fresh = near & ~self._played_recently(now)
        limit = max(self.top_k, 1)
        steps: tuple[tuple[Variety, NDArray[np.bool_]], ...] = (("nearest", fresh & gate), ("past_station", fresh))
        for variety, eligible in steps:
            if eligible.any():
                indices = np.flatnonzero(eligible)
                order = np.argsort(expected[indices], kind="stable")[:limit]
                return _Choice(indices[order], expected[indices[order]], variety, gated)
        indices = np.flatnonzero(near)
        order = np.lexsort((expected[indices], self._last_play_number[indices]))[:limit]
        return _Choice(indices[order], expected[indices[order]], "least_recent", gated)

    def _distance(self, index: int, target: tuple[float, float]) -> float:
        """The distance of a song's mood point to the target (reference units)."""
        return float(np.hypot(*(self._points[index] - np.asarray(target))))

    def _expected_distance(self, index: int, target: tuple[float, float]) -> float:
        """``sqrt(distance² + variance)``: the ranking distance (rule 2)."""
        return math.sqrt(self._distance(index, target) ** 2 + self._variance[index])

    def _variety_words(self, choice: _Choice) -> str:
        """What rule 3 did, in words for the reason ("" for the usual nearest song)."""
        minutes = f"{self.effective_repeat_window_s / 60.0:.0f} min"
        if choice.variety == "past_station":
            return f"; reached past {choice.gated} for variety: its songs near the mood played in the last {minutes}"
        if choice.variety == "least_recent":
            return f"; every song near the mood played in the last {minutes}: the one played longest ago"
        return ""

    def _decide(
        self,
        index: int,
        target: tuple[float, float],
        choice: _Choice,
        switched: bool,
        cause: str,
        detail: str,
        now: float,
    ) -> Decision:
        reason = f"{cause}: {detail}" if detail else cause
        if switched:
            self._current = _Play(index, now, target)
            self._count_play(index, now)
            reason += self._variety_words(choice)
        song = self.songs[index]
        if song.mood.source == "estimated":
            reason += f"; its mood was estimated from the audio (±{song.mood.spread:.2f})"
        return Decision(
            song=song,
            switched=switched,
            reason=reason,
            station=self._station_name(index),
            candidates=tuple(self.songs[i] for i in choice.indices),
            target=(float(target[0]), float(target[1])),
            distance=self._distance(index, target),
            song_started_at=self._current.started_at if self._current else now,
            variety=choice.variety if switched else "nearest",
            repeat_window_s=self.effective_repeat_window_s,
            cause=cause,
        )

    def recommend(self, v_ref: float, a_ref: float, now: float) -> Decision:
        """The song to play for the stabilised mood (reference V-A) at time ``now`` (seconds)."""
        target = target_for_mode(v_ref, a_ref, self._mode)
        self._last_target = target
        choice = self._choose(target, now, exclude_current=False)
        best = int(choice.indices[0])
        if self._current is None:
            station = self._station_name(best) or "the library"
            return self._decide(best, target, choice, True, "first pick", f"nearest song in {station}", now)
        current = self._current.song_index
        elapsed = now - self._current.started_at
        if elapsed < self.min_dwell_s:
            detail = f"{elapsed:.0f} s of {self.min_dwell_s:.0f} s played"
            return self._decide(current, target, choice, False, "dwell", detail, now)
        gain = self._expected_distance(current, target) - float(choice.distances[0])
        moved = math.dist(target, self._current.chosen_for)
        if best != current and gain > self.hysteresis and moved > self.hysteresis:
            detail = f"{gain:.2f} closer than the last song (hysteresis {self.hysteresis:.2f})"
            return self._decide(best, target, choice, True, "mood moved", detail, now)
        detail = f"no song closer by more than {self.hysteresis:.2f}"
        if moved <= self.hysteresis:
            detail = f"the mood moved less than {self.hysteresis:.2f} since it was chosen"
        return self._decide(current, target, choice, False, "still the best fit", detail, now)

    def song_ended(self, now: float, v_ref: float | None = None, a_ref: float | None = None) -> Decision:
        """The current song has ended: choose another one, for the mood given (reference V-A: the mood of
        this moment) or else for the last target seen."""
        return self._another_song(now, v_ref, a_ref, skipped=False)

    def skip(self, now: float) -> Decision:
        """The user skipped the song: like ``song_ended``; the reason says only that the user skipped it
        (and, as always, when the next song's mood was estimated or it was chosen for variety)."""
        return self._another_song(now, None, None, skipped=True)

    def _another_song(self, now: float, v_ref: float | None, a_ref: float | None, skipped: bool) -> Decision:
        if v_ref is not None and a_ref is not None:
            self._last_target = target_for_mode(v_ref, a_ref, self._mode)
        target = self._last_target or (0.0, 0.0)
        choice = self._choose(target, now, exclude_current=True)
        best = int(choice.indices[0])
        if skipped:
            cause, detail = "skipped by the user", ""
        elif self._current is not None and best == self._current.song_index:
            cause, detail = "song ended", "the library holds no other song"
        else:
            cause, detail = "song ended", f"nearest other song in {self._station_name(best) or 'the library'}"
        return self._decide(best, target, choice, True, cause, detail, now)
