"""The built-in station's catalogue: twelve pieces, where each sits in reference V-A space [-1, 1], its
title and its length in seconds. Titles say plainly that the pieces are built in; ``path`` stays ``None``
until ``moodsic_desktop.audio.builtin.cache.ensure_builtin_audio`` has synthesised the audio.

Pure data: any thread; imports neither numpy's synthesis nor soundfile.
"""

from __future__ import annotations

from moodsic_desktop.core.song import Song, SongMood

BUILTIN_ARTIST = "Moodsic built-in station"
PIECE_DURATION_S = 60.0

# (title, valence, arousal) in reference space, covering the four quadrants and the centre.
CATALOGUE: tuple[tuple[str, float, float], ...] = (
    ("Grey Morning", -0.6, -0.6),
    ("Slow Rain", -0.3, -0.7),
    ("Quiet Hours", 0.0, -0.6),
    ("Warm Tea", 0.4, -0.5),
    ("Sunday Garden", 0.7, -0.3),
    ("Long Shadows", -0.5, -0.1),
    ("Easy Afternoon", 0.1, 0.0),
    ("Open Window", 0.5, 0.2),
    ("Restless Streets", -0.5, 0.5),
    ("City Pulse", 0.0, 0.5),
    ("Bright Market", 0.5, 0.6),
    ("Festival", 0.8, 0.8),
)


def builtin_songs() -> list[Song]:
    """The built-in pieces as ``Song``s (V-A in reference space; ``path`` None until synthesised). No genre:
    the artist already says "built-in station", and the window shows artist and genre on one line."""
    return [
        Song(
            song_id=f"builtin-{number:02d}",
            mood=SongMood(valence, arousal),
            title=f"{title} (built-in)",
            artist=BUILTIN_ARTIST,
            path=None,
            duration_s=PIECE_DURATION_S,
        )
        for number, (title, valence, arousal) in enumerate(CATALOGUE, start=1)
    ]
