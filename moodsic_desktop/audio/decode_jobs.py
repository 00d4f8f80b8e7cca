"""Decoding songs into decks ahead of need: the engine worker's queue of decode jobs.

A job decodes and resamples one song, a chunk at a time, into a ``Deck`` for the mixer, so that a long file
never holds the worker for long. The engine decides when a job's deck is handed to the mixer and what to do
when a song fails; this module only keeps the jobs, picks the most urgent one and feeds its deck. Worker
thread only. Frames are at the engine's output rate (48 kHz by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from moodsic_desktop.audio.decoding import AudioDecodeError, StreamDecoder
from moodsic_desktop.audio.mixer import Deck
from moodsic_desktop.core.song import Song


@dataclass
class DecodeJob:
    """One song on its way into a deck. ``kind``: "now" (start it as soon as it is ready) or "next" (queue
    it after the current song). ``xfade_frames``/``start_fade_frames``: the crossfade, or the fade-in from
    silence, it starts with. ``handed``: its deck went to the mixer (it may still be decoding)."""

    song: Song
    kind: str
    xfade_frames: int
    start_fade_frames: int
    decoder: StreamDecoder | None = None
    deck: Deck | None = None
    handed: bool = False

    def close(self) -> None:
        """Close the decoder (its file), if one is open."""
        if self.decoder is not None:
            self.decoder.close()


class DecodeJobs:
    """The jobs in progress. ``samplerate`` (Hz): the rate decks are resampled to; ``chunk_frames``: frames
    decoded per step."""

    def __init__(self, samplerate: int, chunk_frames: int) -> None:
        self.samplerate = samplerate
        self.chunk_frames = chunk_frames
        self._jobs: list[DecodeJob] = []
        self._serial = 0

    def __bool__(self) -> bool:
        return bool(self._jobs)

    def __iter__(self) -> Iterator[DecodeJob]:
        return iter(list(self._jobs))

    def add(self, job: DecodeJob) -> None:
        self._jobs.append(job)

    def cancel_unhanded(self, kinds: tuple[str, ...]) -> None:
        """Drop the jobs of these kinds whose decks have not gone to the mixer yet."""
        keep = []
        for job in self._jobs:
            if not job.handed and job.kind in kinds:
                job.close()
            else:
                keep.append(job)
        self._jobs = keep

    def forget(self, deck: Deck) -> None:
        """The mixer dropped ``deck``: stop decoding into it."""
        for job in self._jobs:
            if job.deck is deck:
                job.close()
                self._jobs.remove(job)
                return

    def close_all(self) -> None:
        for job in self._jobs:
            job.close()
        self._jobs.clear()

    def step(self) -> tuple[DecodeJob, AudioDecodeError | None] | None:
        """Decode one chunk of the most urgent job (decks already playing, then "now", then "next") into its
        deck, creating the decoder and the deck on the first step. Returns ``(job, None)``, or ``(job,
        error)`` when the song cannot be decoded (the job is then dropped), or ``None`` when there is no
        job. A job whose deck is complete is dropped too."""
        if not self._jobs:
            return None
        job = min(self._jobs, key=lambda j: (not j.handed, j.kind != "now"))
        try:
            if job.decoder is None:
                if job.song.path is None:
                    raise AudioDecodeError(f"song {job.song.song_id}", "the song has no audio file")
                job.decoder = StreamDecoder(job.song.path, self.samplerate, chunk_frames=self.chunk_frames)
                self._serial += 1
                job.deck = Deck(self._serial, job.song, job.decoder.expected_frames + self.samplerate // 10)
            chunk = job.decoder.read()
        except AudioDecodeError as error:
            self._jobs.remove(job)
            return job, error
        deck = job.deck
        assert deck is not None
        if chunk is not None and len(chunk):
            deck.append(chunk)
        if chunk is None or job.decoder.done:
            deck.finish()
        if deck.complete:
            self._jobs.remove(job)
        return job, None


__all__ = ["DecodeJob", "DecodeJobs"]
