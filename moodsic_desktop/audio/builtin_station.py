"""The built-in station: a dozen short pieces spread over the V-A plane, used when no library exists.

This module holds the catalogue (where each piece sits in reference V-A space, its title and length).
Their audio is synthesised from these targets by the audio package; until it has been made, ``path`` is
``None``. Titles say plainly that the pieces are built in.
"""

from __future__ import annotations

from moodsic_desktop.core.library import Song

BUILTIN_ARTIST = "Moodsic built-in station"
BUILTIN_GENRE = "built-in"
PIECE_DURATION_S = 60.0

# (title, valence, arousal) in reference space, covering the four quadrants and the centre.
_CATALOGUE: tuple[tuple[str, float, float], ...] = (
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
    """The built-in pieces as ``Song``s (V-A in reference space; ``path`` None until synthesised)."""
    return [
        Song(
            song_id=f"builtin-{number:02d}",
            valence=valence,
            arousal=arousal,
            title=f"{title} (built-in)",
            artist=BUILTIN_ARTIST,
            genre=BUILTIN_GENRE,
            path=None,
            duration_s=PIECE_DURATION_S,
        )
        for number, (title, valence, arousal) in enumerate(_CATALOGUE, start=1)
    ]
