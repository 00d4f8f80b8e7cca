"""The plain-words mood line: every quadrant, the centre, the axes, certainty against tau, people, modes."""

from __future__ import annotations

import math

import pytest

from moodsic_desktop.core.decision_words import music_words
from moodsic_desktop.core.mood_words import (
    NO_ONE_WORDS,
    certainty_words,
    feeling_words,
    mood_line,
    people_words,
    room_energy_words,
)


@pytest.mark.parametrize(
    ("valence", "arousal", "words"),
    [
        (0.6, 0.5, "Cheerful and lively"),
        (0.2, 0.15, "Warm and upbeat"),
        (0.5, -0.6, "Calm and content"),
        (0.2, -0.2, "Relaxed"),
        (-0.5, 0.5, "Tense"),
        (-0.2, 0.2, "Restless"),
        (-0.5, -0.5, "Low and quiet"),
        (-0.2, -0.15, "Subdued"),
        (0.05, -0.08, "Neutral and steady"),
        (0.0, 0.0, "Neutral and steady"),
        (0.7, 0.05, "Happy"),
        (-0.7, 0.0, "Unhappy"),
        (0.0, 0.8, "Busy and animated"),
        (0.02, -0.3, "Quiet"),
    ],
)
def test_the_feeling_follows_the_quadrant_and_the_distance_from_the_centre(valence, arousal, words):
    assert feeling_words(valence, arousal) == words


def test_a_reading_that_is_not_a_number_is_not_named():
    assert feeling_words(math.nan, 0.3) == "Not read yet"


@pytest.mark.parametrize(
    ("std_valence", "std_arousal", "words"),
    [
        (0.1, 0.15, "sure"),  # within half of tau
        (0.1, 0.35, "fairly sure"),  # the larger one counts
        (0.45, 0.1, "unsure — holding the music"),  # beyond tau: the stabiliser holds
        (math.nan, 0.1, "unsure — holding the music"),
    ],
)
def test_certainty_compares_the_larger_deviation_with_tau(std_valence, std_arousal, words):
    assert certainty_words(std_valence, std_arousal, tau=0.4) == words


def test_people_and_music():
    assert people_words(0) == NO_ONE_WORDS
    assert people_words(1) == "reading 1 person"
    assert people_words(5) == "reading 5 people"
    assert music_words("match") == "the music is matching the mood"
    assert music_words("uplift") == "the music is lifting it"
    assert music_words("calm") == "the music is calming it"


def test_the_whole_line():
    line = mood_line((0.6, 0.5), (0.05, 0.1), tau=0.4, faces_read=5, mode="uplift")
    assert line.headline == "Cheerful and lively"
    assert line.detail == "Sure · reading 5 people · the music is lifting it"
    quiet = mood_line((-0.5, -0.5), (0.6, 0.6), tau=0.4, faces_read=0, mode="calm")
    assert quiet.headline == "Low and quiet"
    assert quiet.detail == f"Unsure — holding the music · {NO_ONE_WORDS} · the music is calming it"
    assert mood_line(None, None, 0.4, 0, "match").headline == "Waiting for a picture"
    assert mood_line((0.0, 0.0), None, 0.4, 1, "match").detail.startswith("Unsure")


def test_the_room_energy_in_words():
    assert room_energy_words(0.6) == "a lively room"
    assert room_energy_words(0.0) == "a calm room"
    assert room_energy_words(-0.46) == "a quiet room"  # one person sitting still
    assert room_energy_words(float("nan")) == ""
    line = mood_line((0.6, 0.5), (0.05, 0.1), tau=0.4, faces_read=5, mode="uplift", room_words="a lively room")
    assert line.detail == "Sure · reading 5 people · a lively room · the music is lifting it"


def test_the_line_says_what_the_music_actually_does():
    """Issue 21 (1): held by the least time per song, the line says so, not "matching the mood"."""
    held = mood_line((-0.7, 0.0), (0.05, 0.05), 0.4, 1, "match", cause="dwell", dwell_left_s=21.2)
    assert held.headline == "Unhappy"
    assert held.detail == "Sure · reading 1 person · holding this song for 21 s more"
    free = mood_line((-0.7, 0.0), (0.05, 0.05), 0.4, 1, "calm", cause="dwell", dwell_left_s=0)
    assert free.detail.endswith("the music is calming it")
    fit = mood_line((0.6, 0.5), (0.05, 0.1), 0.4, 2, "match", cause="still the best fit")
    assert fit.detail.endswith("the music is matching the mood")
    lost = mood_line((0.6, 0.5), (0.05, 0.1), 0.4, 2, "match", cause="the library is lost")
    assert lost.detail.endswith("the built-in music plays until your library is back")
