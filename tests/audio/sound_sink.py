"""A real sound output for machines without a sound card, and a file that holds what was played: the tests'
own, so that a clone without ``../shared`` still tests real PortAudio output.

* ``tap``: an ALSA "default" device (a ``file`` plugin in front of the ``null`` device) that writes every
  sample it gets to ``DIR/out.raw`` as fast as the program sends them: not paced. For checking samples.
* ``realtime``: a PulseAudio server of its own (``DIR/xdg``) with a null sink that the clock paces like a
  sound card, and ``parec`` recording its monitor to ``DIR/out.raw``. For underflow and timing checks.

Both record signed 16-bit little-endian, 48 kHz, stereo. The program under test must run with the returned
environment (``HOME=DIR``, and ``XDG_RUNTIME_DIR`` for realtime): PortAudio's ALSA back end reads
``$HOME/.asoundrc`` when it initialises, so nothing outside ``DIR`` changes. Debian packages: libportaudio2
(both); pulseaudio, pulseaudio-utils and libasound2-plugins (realtime).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

RATE = 48000


def problem(mode: str) -> str | None:
    """Why ``mode``'s sink cannot be set up on this machine, or ``None``."""
    if ctypes.util.find_library("portaudio") is None:
        return "libportaudio2 is not installed (apt-get install libportaudio2)"
    if mode == "realtime":
        missing = [tool for tool in ("pulseaudio", "pactl", "parec") if shutil.which(tool) is None]
        if missing:
            return f"{', '.join(missing)} not installed (apt-get install pulseaudio pulseaudio-utils)"
    return None


def start(mode: str, folder: Path) -> dict[str, str]:
    """Set up ``mode``'s sink in ``folder``; return the environment the program must run with. Raises
    ``RuntimeError`` with the reason when it cannot."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "out.raw"
    if mode == "tap":
        (folder / ".asoundrc").write_text(
            "pcm.!default {\n"
            f'    type plug\n    slave {{ pcm "moodsic_tap"; format S16_LE; rate {RATE}; channels 2 }}\n'
            "}\n"
            "pcm.moodsic_tap {\n"
            f'    type file\n    slave.pcm "null"\n    file "{raw}"\n    format "raw"\n'
            "}\n"
        )
        return {"HOME": str(folder)}
    if mode != "realtime":
        raise ValueError(f"unknown sink mode {mode!r}")
    env = dict(os.environ, HOME=str(folder), XDG_RUNTIME_DIR=str(folder / "xdg"))
    (folder / "xdg").mkdir(exist_ok=True)
    (folder / ".asoundrc").write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
    quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.run(
        [
            "pulseaudio",
            "--daemonize=yes",
            "--exit-idle-time=-1",
            "-n",
            f"--load=module-null-sink sink_name=moodsic_tap rate={RATE} channels=2",
            "--load=module-native-protocol-unix",
        ],
        env=env,
        check=False,
        **quiet,
    )
    if server.returncode != 0:
        raise RuntimeError(f"pulseaudio did not start (exit status {server.returncode})")
    for _ in range(100):
        if subprocess.run(["pactl", "info"], env=env, check=False, **quiet).returncode == 0:
            break
        time.sleep(0.1)
    else:
        stop(folder)
        raise RuntimeError("pulseaudio started but does not answer")
    subprocess.run(["pactl", "set-default-sink", "moodsic_tap"], env=env, check=False, **quiet)
    # started by a shell that exits at once, so the recorder is nobody's child here: no zombie to reap
    recorder = subprocess.run(
        [
            "bash",
            "-c",
            f"parec -d moodsic_tap.monitor --format=s16le --rate={RATE} --channels=2"
            ' >"$1" 2>/dev/null </dev/null & echo $!',
            "sink",
            str(raw),
        ],
        env=env,
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    (folder / "parec.pid").write_text(recorder.stdout.strip())
    return {"HOME": str(folder), "XDG_RUNTIME_DIR": str(folder / "xdg")}


def stop(folder: Path) -> None:
    """End the realtime sink's recorder and server (nothing to do for tap). Never raises."""
    folder = folder.resolve()
    pid_file = folder / "parec.pid"
    if pid_file.is_file():
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
    env = dict(os.environ, HOME=str(folder), XDG_RUNTIME_DIR=str(folder / "xdg"))
    if (folder / "xdg").is_dir() and shutil.which("pulseaudio"):
        subprocess.run(
            ["pulseaudio", "--kill"],
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
