"""The program reads arousal with the faces' cues and the room's energy by default; settings turn them off."""

from __future__ import annotations

from moodsic_desktop.audio.builtin.catalogue import builtin_songs
from moodsic_desktop.core.library import MusicLibrary
from moodsic_desktop.perception.face_cues import FaceCueReader
from moodsic_desktop.perception.room_energy import RoomEnergyMeter
from moodsic_desktop.session.assembly import EngineSettings, build_pipeline, select_experts

LIBRARY = MusicLibrary(songs=builtin_songs(), origin="test", stations=None)


def test_by_default_the_model_in_the_box_has_the_cues_and_the_room_energy_is_read(tmp_path):
    settings = EngineSettings()
    pipeline = build_pipeline(LIBRARY, settings, select_experts(settings, tmp_path))
    try:
        assert isinstance(pipeline.face_expert.cues, FaceCueReader)
        assert isinstance(pipeline.room_energy, RoomEnergyMeter)
    finally:
        pipeline.close()
    assert pipeline.face_expert.cues.closed  # closing the pipeline frees the cues' face mesh


def test_the_settings_turn_them_off(tmp_path):
    settings = EngineSettings(face_cues=False, room_energy=False)
    pipeline = build_pipeline(LIBRARY, settings, select_experts(settings, tmp_path))
    try:
        assert pipeline.face_expert.cues is None and pipeline.room_energy is None
    finally:
        pipeline.close()
