import numpy as np
import pytest

from moodsic_desktop.core.matcher import Matcher, target_for_mode
from moodsic_desktop.core.song import Song, SongMood
from moodsic_desktop.core.stations import StationModel


def grid_songs():
    """49 songs on a 7 x 7 grid over reference space."""
    values = np.linspace(-0.9, 0.9, 7)
    return [Song(f"s{i}{j}", SongMood(float(v), float(a))) for i, v in enumerate(values) for j, a in enumerate(values)]


def nearest(songs, v, a):
    return min(songs, key=lambda s: np.hypot(s.valence - v, s.arousal - a))


def test_first_call_picks_nearest():
    songs = grid_songs()
    m = Matcher(songs)
    d = m.recommend(0.31, -0.29, now=0.0)
    assert d.switched and d.song == nearest(songs, 0.31, -0.29)
    assert d.reason and d.station is None
    assert d.distance == pytest.approx(np.hypot(d.song.valence - 0.31, d.song.arousal + 0.29))


def test_never_switches_before_dwell():
    m = Matcher(grid_songs(), min_dwell_s=25.0)
    first = m.recommend(-0.9, -0.9, now=0.0).song
    for t in np.arange(1.0, 25.0, 1.0):
        d = m.recommend(0.9, 0.9, now=float(t))
        assert not d.switched and d.song == first
        assert "dwell" in d.reason
        assert d.song_started_at == 0.0
    d = m.recommend(0.9, 0.9, now=25.0)
    assert d.switched and d.song.song_id == "s66" and d.song_started_at == 25.0


def test_hysteresis_blocks_small_gains():
    songs = [Song("a", SongMood(0.0, 0.0)), Song("b", SongMood(0.2, 0.0)), Song("c", SongMood(0.9, 0.9))]
    m = Matcher(songs, min_dwell_s=0.0, hysteresis=0.15, recent_k=0)
    assert m.recommend(0.0, 0.0, 0.0).song.song_id == "a"
    # b is 0.1 closer than a to 0.1: not enough
    d = m.recommend(0.12, 0.0, 1.0)
    assert not d.switched and d.song.song_id == "a"
    # b is 0.2 closer than a to 0.2: enough
    d = m.recommend(0.2, 0.0, 2.0)
    assert d.switched and d.song.song_id == "b"


def test_recent_songs_are_excluded_while_others_remain():
    songs = [Song("a", SongMood(0.0, 0.0)), Song("b", SongMood(0.05, 0.0)), Song("c", SongMood(0.8, 0.8))]
    m = Matcher(songs, min_dwell_s=0.0, recent_k=5, hysteresis=0.0)
    assert m.recommend(0.0, 0.0, 0.0).song.song_id == "a"
    d = m.song_ended(1.0)
    assert d.song.song_id == "b"
    # a and b are recent; only c is left, so c is chosen even though it is far
    d = m.song_ended(2.0)
    assert d.song.song_id == "c"
    assert [c.song_id for c in d.candidates] == ["c"]
    # everything is recent now: candidates fall back to the whole library, but never the current song
    d = m.song_ended(3.0)
    assert d.song.song_id == "a"


def test_recent_memory_length():
    """The last ``recent_k`` songs alone (no time window): the third song back may come again."""
    songs = [Song(str(i), SongMood(i / 10, 0.0)) for i in range(6)]
    m = Matcher(songs, min_dwell_s=0.0, recent_k=2, top_k=20, repeat_window_s=0.0)
    m.recommend(0.0, 0.0, 0.0)  # plays 0
    m.song_ended(1.0)  # plays 1 (0 is recent)
    m.song_ended(2.0)  # recent = {0, 1} → plays 2
    d = m.song_ended(3.0)  # recent = {1, 2} → 0 is allowed again
    assert d.song.song_id == "0"


def test_song_ended_always_changes_song():
    m = Matcher(grid_songs(), min_dwell_s=100.0, recent_k=0)
    current = m.recommend(0.0, 0.0, 0.0).song
    for t in range(1, 10):
        d = m.song_ended(float(t))
        assert d.switched and d.song != current
        current = d.song


def test_song_ended_uses_given_mood():
    m = Matcher(grid_songs(), min_dwell_s=100.0)
    m.recommend(-0.9, -0.9, 0.0)
    assert m.song_ended(1.0, 0.9, 0.9).song.song_id == "s66"


def test_top_k_limits_candidates():
    m = Matcher(grid_songs(), top_k=4)
    d = m.recommend(0.0, 0.0, 0.0)
    assert len(d.candidates) == 4
    distances = [np.hypot(s.valence, s.arousal) for s in d.candidates]
    assert distances == sorted(distances)


def test_station_gate_restricts_candidates():
    rng = np.random.default_rng(0)
    low = [
        Song(f"low{i}", SongMood(-0.6 + 0.05 * x, -0.6 + 0.05 * y))
        for i, (x, y) in enumerate(rng.standard_normal((30, 2)))
    ]
    high = [
        Song(f"high{i}", SongMood(0.6 + 0.05 * x, 0.6 + 0.05 * y))
        for i, (x, y) in enumerate(rng.standard_normal((30, 2)))
    ]
    songs = low + high
    stations = StationModel.fit([s.valence for s in songs], [s.arousal for s in songs], n_stations=2)
    m = Matcher(songs, stations=stations, top_k=100)
    d = m.recommend(0.6, 0.6, 0.0)
    assert all(c.song_id.startswith("high") for c in d.candidates)
    assert len(d.candidates) == 30  # the whole gated station, fewer than top_k
    assert d.station == m.station_of(d.song)
    assert d.station in stations.names


def test_modes_shift_the_target():
    assert target_for_mode(0.2, 0.3, "match") == (0.2, 0.3)
    assert target_for_mode(0.2, 0.3, "uplift") == pytest.approx((0.2 + 0.35 * 0.8, 0.3))
    assert target_for_mode(0.2, 0.3, "calm") == pytest.approx((0.2, 0.3 - 0.35 * 1.3))
    songs = grid_songs()
    neutral = Matcher(songs, mode="match").recommend(0.0, 0.0, 0.0).song
    uplift = Matcher(songs, mode="uplift").recommend(0.0, 0.0, 0.0).song
    calm = Matcher(songs, mode="calm").recommend(0.0, 0.0, 0.0).song
    assert uplift.valence > neutral.valence and uplift.arousal == neutral.arousal
    assert calm.arousal < neutral.arousal and calm.valence == neutral.valence
    with pytest.raises(ValueError):
        Matcher(songs, mode="party")


def test_ban_and_skip():
    songs = [Song("a", SongMood(0.0, 0.0)), Song("b", SongMood(0.1, 0.0)), Song("c", SongMood(0.5, 0.5))]
    m = Matcher(songs, min_dwell_s=0.0, recent_k=0)
    assert m.recommend(0.0, 0.0, 0.0).song.song_id == "a"
    m.ban("a")
    assert m.is_banned("a") and not m.is_banned("b")
    d = m.skip(1.0)
    assert d.switched and d.song.song_id == "b" and d.reason == "skipped by the user"
    d = m.recommend(0.0, 0.0, 2.0)
    assert d.song.song_id == "b" and all(c.song_id != "a" for c in d.candidates)


def test_empty_library_is_an_error():
    with pytest.raises(ValueError, match="at least one song"):
        Matcher([])


OTHER_SETTINGS = {  # every matcher setting, none at its default
    "min_dwell_s": 12.0,
    "recent_k": 3,
    "top_k": 7,
    "widen_below": 0.4,
    "hysteresis": 0.2,
    "mode": "calm",
    "repeat_window_s": 600.0,
    "variety_reach": 0.3,
}


def test_a_sibling_has_the_settings_and_none_of_the_history():
    expected = dict(OTHER_SETTINGS)
    m = Matcher(grid_songs(), **expected)
    m.recommend(0.0, 0.0, now=0.0)
    other = [Song("b1", SongMood(0.5, 0.5)), Song("b2", SongMood(-0.5, -0.5))]
    sibling = m.sibling(other)
    assert m.settings() == expected and sibling.settings() == expected
    assert sibling.current is None and not sibling.plays
    assert sibling.has_song("b1") and not sibling.has_song("s00") and m.has_song("s00")


def test_adopted_settings_are_all_taken_and_the_history_and_bans_kept():
    given = dict(OTHER_SETTINGS)
    m = Matcher(grid_songs())
    m.ban("s00")
    first = m.recommend(0.0, 0.0, now=0.0).song
    m.adopt_settings(Matcher([Song("b1", SongMood(0.5, 0.5))], **given).settings())
    assert m.settings() == given
    assert m.current == first and m.is_banned("s00") and [p[1] for p in m.plays] == [first.song_id]


def test_a_successor_keeps_the_current_song_its_dwell_and_the_recent_plays():
    songs = grid_songs()
    m = Matcher(songs, min_dwell_s=30.0, recent_k=3, mode="calm")
    m.ban("s00")
    first = m.recommend(-0.9, -0.9, now=0.0).song
    moved = [Song(s.song_id, SongMood(0.9, 0.9)) if s.song_id == first.song_id else s for s in songs]
    successor = m.successor([*moved, Song("new", SongMood(0.0, 0.0))])
    assert successor.settings() == m.settings() and successor.has_song("new")
    assert successor.current is not None and successor.current.song_id == first.song_id
    assert successor.current.valence == 0.9  # the new version of the song
    assert successor.current_started_at == 0.0 and [p[1] for p in successor.plays] == [first.song_id]
    assert not successor.recommend(0.9, 0.9, now=10.0).switched  # the dwell goes on
    assert not successor.is_banned("s00")  # bans come from the new version, not from here
    without = m.successor([s for s in songs if s.song_id != first.song_id])
    assert without.current is None and not without.plays


def test_release_current_makes_the_next_call_a_first_pick_and_keeps_the_rest():
    songs = grid_songs()
    m = Matcher(songs, min_dwell_s=25.0)
    first = m.recommend(-0.9, -0.9, now=0.0).song
    m.ban("s66")
    m.release_current()
    assert m.current is None
    d = m.recommend(0.9, 0.9, now=1.0)  # within the old song's dwell, yet a first pick
    assert d.switched and "first pick" in d.reason
    assert d.song.song_id != "s66" and d.song != first  # the ban holds
    assert [song_id for _, song_id in m.plays] == [first.song_id, d.song.song_id]  # the history too


def test_songs_played_before_the_session_count_as_recent():
    songs = grid_songs()
    m = Matcher(songs, recent_k=3)
    nearest_three = sorted(songs, key=lambda s: np.hypot(s.valence, s.arousal))[:3]
    m.remember(["not-in-this-library", *(s.song_id for s in nearest_three)])
    d = m.recommend(0.0, 0.0, now=0.0)
    assert d.song not in nearest_three and "first pick" in d.reason
    assert [song_id for _, song_id in m.plays][:3] == [s.song_id for s in nearest_three]


def test_dwell_counts_from_when_the_song_is_heard():
    m = Matcher(grid_songs(), min_dwell_s=25.0)
    m.recommend(-0.9, -0.9, now=0.0)
    queued = m.song_ended(now=30.0)  # chosen at the "song ending" notice
    m.started("someone-else", now=36.0)  # ignored
    assert m.current_started_at == 30.0
    m.started(queued.song.song_id, now=36.0)  # heard from the end of the song before
    assert not m.recommend(0.9, 0.9, now=60.0).switched  # 24 s heard
    assert m.recommend(0.9, 0.9, now=61.0).switched
