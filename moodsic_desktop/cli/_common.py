"""What every ``moodsic`` command shares: exit statuses, the one-line ``UserError``, argparse value checks,
the progress bar and the JSON report writer.

Errors in what the user gave (a missing video, a folder that is not a DEAM library) end the command with
one clear line on stderr and a non-zero exit status, never a traceback: a command raises ``UserError`` and
``moodsic_desktop.cli.main.main`` prints it.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from moodsic_desktop import atomic_files
from moodsic_desktop.core import strict_json
from moodsic_desktop.core.settings_schema import NumberSetting
from moodsic_desktop.regular_files import NotARegularFileError, check_output_path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C


class UserError(Exception):
    """A problem with what the user asked for; its message is shown as one line."""


# ---- argparse value checks (``type=``): a bad value is a usage error, not a traceback


def finite_number(text: str) -> float:
    """A finite number (``nan`` and ``inf`` are refused: a NaN τ held 98 % of updates)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def setting_value(setting: NumberSetting) -> Callable[[str], float]:
    """A check of a number in ``setting``'s range (``core.settings_schema``: the range the window's settings
    take too)."""

    def check(text: str) -> float:
        value = finite_number(text)
        if not setting.contains(value):
            raise argparse.ArgumentTypeError(f"must be in {setting.range_text()}, got {text}")
        return value

    check.__name__ = setting.name
    return check


def non_negative(text: str) -> float:
    """A finite number >= 0."""
    value = finite_number(text)
    if value < 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def whole_number_at_least(minimum: int, text: str) -> int:
    """``text`` as a whole number >= ``minimum``; ``argparse.ArgumentTypeError`` in words otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    return whole_number_at_least(1, text)


def non_negative_int(text: str) -> int:
    """A whole number >= 0."""
    return whole_number_at_least(0, text)


def positive_number(text: str) -> float:
    """A finite number > 0."""
    value = finite_number(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def step_times(text: str) -> tuple[float, ...]:
    """Seconds >= 0 separated by commas (``20,40``)."""
    try:
        times = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds separated by commas, got {text!r}") from None
    if not times or any(not math.isfinite(t) or t < 0 for t in times):
        raise argparse.ArgumentTypeError(f"expected finite seconds >= 0 separated by commas, got {text!r}")
    return times


# ---- output


class ProgressBar:
    """A tqdm bar on stderr, made on the first ``update(done, total)`` (so an early error prints alone),
    shown only on a terminal and without ``--quiet``; a context manager that closes it. ``unit_scale``: counts
    shown as k, M, G (bytes); ``total`` None: not known."""

    def __init__(self, args: argparse.Namespace, desc: str, unit: str = "song", unit_scale: bool = False) -> None:
        self._desc, self._unit, self._unit_scale, self._quiet = desc, unit, unit_scale, args.quiet
        self._bar: tqdm | None = None

    def update(self, done: int, total: int | None) -> None:
        if self._bar is None:
            disable = True if self._quiet else None  # None: only on a terminal
            self._bar = tqdm(
                total=total,
                unit=self._unit,
                unit_scale=self._unit_scale,
                desc=self._desc,
                disable=disable,
                file=sys.stderr,
                leave=False,
            )
        if self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def check_output_file(path: Path, what: str) -> None:
    """Refuse (``UserError``) an output ``path`` that exists and is not a regular file: a FIFO would hang
    the write, and a device (even a private copy of ``/dev/null``) would be replaced or written into."""
    try:
        check_output_path(path)
    except NotARegularFileError as error:
        raise UserError(f"cannot write the {what}: {error}") from None


def write_json_report(path: Path | None, data: dict, *, say: bool = True) -> None:
    """Write ``data`` as strict JSON (no NaN or Infinity; see ``core.strict_json``) to ``path`` (nothing
    when None); a failure to write, or a path that is not a regular file, is a ``UserError``. ``say``:
    print where it went."""
    if path is None:
        return
    check_output_file(path, "report")
    try:
        atomic_files.write_text(path, strict_json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    except OSError as error:
        raise UserError(f"cannot write the report {path}: {error}") from None
    if say:
        print(f"full report written to {path}")


def plural(count: int, word: str) -> str:
    """``1 song``, ``2 songs``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
