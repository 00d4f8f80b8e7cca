"""Diagnostics shows the room's energy as numbers (people, motion per second, arousal ± σ, milliseconds)."""

from __future__ import annotations

from moodsic_desktop.core.types import RoomEnergy
from moodsic_desktop.ui.diagnostics_panel import status_lines

RATES = {"preview": 25.0, "face": 10.0, "scene": 2.0}


def test_the_room_energy_line_gives_its_numbers():
    room = RoomEnergy(people=3, motion=0.0421, arousal=0.31, var_arousal=0.5)
    lines = status_lines(RATES, {"room": 1.24}, {}, 3, (), room)
    assert "Room energy 3 people, motion 0.042/s, arousal +0.31 ± 0.71, 1.2 ms" in lines
    assert "Room energy –" in status_lines(RATES, {}, {}, 0, ())
