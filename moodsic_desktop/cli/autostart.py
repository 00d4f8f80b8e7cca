"""``moodsic autostart on|off|status``: start Moodsic when this computer starts, or not
(:mod:`moodsic_desktop.autostart`; the window's Settings menu does the same)."""

from __future__ import annotations

import argparse

from moodsic_desktop.autostart import AutostartEntry, AutostartError, autostart_entry
from moodsic_desktop.cli._common import EXIT_OK, UserError


def add_autostart_parser(commands: argparse._SubParsersAction) -> None:
    """The ``autostart`` sub-command."""
    command = commands.add_parser(
        "autostart",
        help="start Moodsic when this computer starts (on), no longer (off), or say which (status)",
        description="Write or remove the autostart entry of this computer (Linux: the XDG autostart folder; "
        "Windows: the current user's Run key; macOS: a LaunchAgent). Started that way, Moodsic opens the "
        "window, resumes the last camera or video and plays without a click.",
    )
    command.add_argument("action", choices=("on", "off", "status"), help="on, off, or status")
    command.set_defaults(run=run_autostart)


def run_autostart(args: argparse.Namespace, entry: AutostartEntry | None = None) -> int:
    """Turn the entry on or off, or say whether it is on; ``entry`` for tests (default: this computer's)."""
    try:
        entry = autostart_entry() if entry is None else entry
        if args.action == "on":
            entry.enable()
        elif args.action == "off":
            entry.disable()
        on = entry.enabled()
    except AutostartError as error:
        raise UserError(str(error)) from error
    if on:
        print(f"Moodsic starts when this computer starts (entry: {entry.where}).")
    else:
        print(f"Moodsic does not start with this computer (no entry at {entry.where}).")
    return EXIT_OK
