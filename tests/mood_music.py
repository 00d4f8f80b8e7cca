"""Generated music whose mood is known by construction, for the mood-estimation tests and benchmark.

``synth_song(valence, arousal)`` plays a chord progression with a melody and, for lively targets, drums,
using the cues the music-emotion literature ties to each dimension: arousal sets the tempo (60–150 BPM),
the loudness (about -30 … -14 dBFS RMS), the note density and the drums; valence sets the mode (major
above 0, minor below) and, with arousal, the brightness (how fast the harmonics fall off). A random
tonic, progression and melody per seed, plus a little noise in every cue, keep the pieces apart. Values in
reference space [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
_PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3))


def _tone(freq: float, seconds: float, sr: int, brightness: float, rng: np.random.Generator) -> np.ndarray:
    n = max(int(seconds * sr), 1)
    t = np.arange(n) / sr
    wave = np.zeros(n)
    for k in range(1, 9):
        if freq * k > sr / 2.2:
            break
        wave += k ** -(3.2 - 2.6 * brightness) * np.sin(2 * np.pi * freq * k * t + rng.uniform(0, 2 * np.pi))
    attack = min(int(0.01 * sr), n)
    envelope = np.exp(-t / max(seconds * 0.6, 0.05))
    envelope[:attack] *= np.linspace(0.0, 1.0, attack)
    return wave * envelope


def synth_song(valence: float, arousal: float, seconds: float = 20.0, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """A mono float32 piece of ``seconds`` at ``sr`` Hz for the target (valence, arousal)."""
    rng = np.random.default_rng(seed)
    v01, a01 = (valence + 1) / 2, (arousal + 1) / 2
    tempo = 60.0 + 90.0 * a01 + rng.normal(0, 4)
    beat = 60.0 / tempo
    scale = MAJOR if valence >= 0 else MINOR
    tonic = 48 + int(rng.integers(0, 7))
    brightness = float(np.clip(0.15 + 0.45 * v01 + 0.35 * a01 + rng.normal(0, 0.03), 0, 1))
    n = int(seconds * sr)
    out = np.zeros(n + sr * 8)  # room for the last bar's notes to ring out
    progression = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
    notes_per_beat = 1 if a01 < 0.35 else (2 if a01 < 0.7 else 4)
    bar = 4 * beat
    position, bar_index = 0.0, 0
    while position < seconds:
        degree = progression[bar_index % len(progression)]
        chord = [tonic + 12 * ((degree + i) // 7) + scale[(degree + i) % 7] for i in (0, 2, 4)]
        for note in chord:
            tone = _tone(440.0 * 2 ** ((note - 69) / 12), bar, sr, brightness, rng)
            start = int(position * sr)
            out[start : start + len(tone)] += 0.18 * tone
        step = beat / notes_per_beat
        for i in range(4 * notes_per_beat):
            if rng.random() > 0.35 + 0.6 * a01:
                continue
            pitch = chord[int(rng.integers(3))] + 12 + (scale[int(rng.integers(7))] if rng.random() < 0.3 else 0)
            tone = _tone(440.0 * 2 ** ((pitch - 69) / 12), step * 1.5, sr, brightness, rng)
            start = int((position + i * step) * sr)
            out[start : start + len(tone)] += 0.25 * tone
        if a01 > 0.4:
            for i in range(4):
                start = int((position + i * beat) * sr)
                kick_t = np.arange(int(0.15 * sr)) / sr
                kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-kick_t * 30)) * kick_t) * np.exp(-kick_t * 25)
                out[start : start + len(kick)] += (0.3 + 0.6 * a01) * kick
                for half in (0, 1):
                    hat_start = int((position + (i + half / 2) * beat) * sr)
                    hat = rng.normal(0, 1, int(0.05 * sr)) * np.exp(-np.arange(int(0.05 * sr)) / (0.01 * sr))
                    out[hat_start : hat_start + len(hat)] += 0.25 * a01 * np.diff(hat, prepend=0)
        position += bar
        bar_index += 1
    out = out[:n]
    level_db = -30.0 + 16.0 * a01 + rng.normal(0, 0.7)
    rms = float(np.sqrt(np.mean(out**2))) or 1.0
    out *= 10 ** (level_db / 20) / rms
    return np.clip(out, -1, 1).astype(np.float32)


def write_song(
    path: Path, valence: float, arousal: float, seconds: float = 20.0, sr: int = 22050, seed: int = 0
) -> Path:
    """``synth_song`` written to ``path`` in the format its suffix names (wav, flac, ogg, mp3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    formats = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}
    sf.write(str(path), synth_song(valence, arousal, seconds, sr, seed), sr, format=formats[path.suffix.lower()])
    return path


def mood_grid(n: int, seed: int = 0) -> list[tuple[float, float]]:
    """``n`` target points spread over the V-A plane (uniform, seeded), in reference space."""
    rng = np.random.default_rng(seed)
    return [(float(v), float(a)) for v, a in rng.uniform(-0.9, 0.9, size=(n, 2))]


def write_labelled_library(folder: Path, n: int, seconds: float = 12.0, seed: int = 0) -> Path:
    """``n`` generated songs (FLAC, 22.05 kHz) under ``folder`` at ``mood_grid(n, seed)`` and a V-A table
    ``folder/va.csv`` (reference scale) naming them; returns the table's path."""
    lines = ["file,valence,arousal"]
    for i, (v, a) in enumerate(mood_grid(n, seed)):
        name = f"song_{i:03d}.flac"
        write_song(folder / name, v, a, seconds, seed=seed * 1000 + i)
        lines.append(f"{name},{v:.4f},{a:.4f}")
    table = folder / "va.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table
