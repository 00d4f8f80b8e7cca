"""Colours of the mood charts: one palette per theme (``"dark"``, ``"light"``) and the station colours.

Qt-free: colours are ``#rrggbb`` strings and alphas integers in 0..255 (0 transparent, 255 opaque); the chart
widgets turn them into ``QColor``s.
"""

from __future__ import annotations

from dataclasses import dataclass

from moodsic_desktop.core.choices import FixedChoice

THEMES = ("dark", "light")
validate_theme = FixedChoice("chart theme", THEMES)


@dataclass(frozen=True)
class Palette:
    """The colours of one theme: backgrounds, text, grid and axis lines, one colour per reading (scene, face,
    fused, stabilised) of the timeline, the translucent uncertainty band and held shading (with their alphas,
    0..255), and the plane's markers (current point, playing song, candidates, trail, quadrant guides)."""

    background: str
    plot_area: str
    text: str
    muted_text: str
    grid: str
    axis: str
    scene: str
    face: str
    fused: str
    stabilised: str
    band_alpha: int
    held: str
    held_alpha: int
    current: str
    current_border: str
    playing: str
    playing_border: str
    candidate: str
    trail: str
    guide: str


PALETTES = {
    "dark": Palette(
        background="#1d2025",
        plot_area="#23272e",
        text="#dfe2e7",
        muted_text="#9aa1ab",
        grid="#353a43",
        axis="#5b626d",
        scene="#f0a04b",
        face="#5fb7f0",
        fused="#d17bc9",
        stabilised="#f4f4f0",
        band_alpha=60,
        held="#8a93a3",
        held_alpha=45,
        current="#ffffff",
        current_border="#111316",
        playing="#ffd23f",
        playing_border="#111316",
        candidate="#ffd23f",
        trail="#ffffff",
        guide="#6b7380",
    ),
    "light": Palette(
        background="#f6f7f9",
        plot_area="#ffffff",
        text="#24272c",
        muted_text="#5f6670",
        grid="#e2e5ea",
        axis="#a3a9b2",
        scene="#d4760a",
        face="#1f86c9",
        fused="#a23d9b",
        stabilised="#1b1d21",
        band_alpha=50,
        held="#7d8594",
        held_alpha=40,
        current="#1b1d21",
        current_border="#ffffff",
        playing="#e0a800",
        playing_border="#1b1d21",
        candidate="#c98a00",
        trail="#1b1d21",
        guide="#9aa1ab",
    ),
}

# Tableau 10: distinct on light and dark backgrounds; stations beyond ten reuse colours.
STATION_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def palette_for(theme: str) -> Palette:
    """The palette of ``theme`` (one of ``THEMES``); ``ValueError`` for any other name."""
    return PALETTES[validate_theme(theme)]


def station_colour(station: int) -> str:
    """The colour of station ``station`` (0-based); colours repeat after ``len(STATION_COLOURS)`` stations."""
    return STATION_COLOURS[station % len(STATION_COLOURS)]


__all__ = ["PALETTES", "STATION_COLOURS", "THEMES", "Palette", "palette_for", "station_colour"]
