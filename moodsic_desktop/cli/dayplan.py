"""``moodsic dayplan …``: the day plan in the settings file, from the command line: show it, set the opening
hours, add or remove a part of the day, set a whole plan from a JSON file (as ``show --json`` prints it), or go
back to no plan.

The plan is the one the window edits (Settings → Day plan…), in the same settings file and with the same
rules (``core.day_plan``): a plan that cannot be used is refused with the reason, and a damaged settings file
is set aside exactly as the window does. The window reads the file when it starts: a change made here while it
runs is used from its next start. Only ``show`` and the changes load Qt (for the settings folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from moodsic_desktop.cli._common import EXIT_OK, UserError
from moodsic_desktop.core import strict_json
from moodsic_desktop.core.day_plan import MOOD_LEANS, DayPlan, Span, TimeBlock, parse_hhmm

if TYPE_CHECKING:
    from moodsic_desktop.ui.settings import SettingsStore, UserSettings

ALL_DAY = "all-day"


def add_dayplan_parser(commands: argparse._SubParsersAction) -> None:
    """The ``dayplan`` sub-command and its actions."""
    dayplan = commands.add_parser(
        "dayplan",
        help="show or change the day plan: opening hours, and a volume and mood for each part of the day",
        description="The day plan: outside the opening hours the music is off; each part of the day sets its "
        "volume as it begins and keeps the music within its mood (the room still chooses the songs). Times are "
        "HH:MM, local time; a span past midnight (22:00-02:00) is fine.",
    )
    actions = dayplan.add_subparsers(dest="dayplan_command", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--settings-dir",
        type=Path,
        metavar="DIR",
        help="the folder of settings.json (default: the window's, or MOODSIC_CONFIG_DIR)",
    )

    show = actions.add_parser("show", parents=[common], help="the plan in plain words (--json: as saved)")
    show.add_argument("--json", action="store_true", help="print the plan as the settings file holds it")
    show.set_defaults(run=run_show)

    hours = actions.add_parser("hours", parents=[common], help=f"set the opening hours: HH:MM-HH:MM or {ALL_DAY}")
    hours.add_argument("hours", metavar="HOURS", help=f"e.g. 08:00-22:00, or {ALL_DAY}")
    hours.set_defaults(run=run_hours)

    add = actions.add_parser("add", parents=[common], help="add a part of the day (one of the same name is replaced)")
    add.add_argument("name", metavar="NAME", help='its name, e.g. "Morning"')
    add.add_argument("span", metavar="FROM-TO", help="e.g. 08:00-11:00")
    add.add_argument(
        "--mood", choices=tuple(MOOD_LEANS), default="room", help="its mood (default %(default)s: follow the room)"
    )
    add.add_argument("--volume", type=int, metavar="PERCENT", help="its volume, 0 to 100 (default: your volume)")
    add.set_defaults(run=run_add)

    remove = actions.add_parser("remove", parents=[common], help="remove the part of the day named NAME")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(run=run_remove)

    set_plan = actions.add_parser(
        "set", parents=[common], help="the whole plan from a JSON file, as `moodsic dayplan show --json` prints it"
    )
    set_plan.add_argument("file", type=Path, metavar="FILE", help="the plan as JSON (the file is only read)")
    set_plan.set_defaults(run=run_set)

    reset = actions.add_parser("reset", parents=[common], help="no plan: open all day, no parts of the day")
    reset.set_defaults(run=run_reset)


def _store(args: argparse.Namespace) -> tuple[SettingsStore, UserSettings]:
    """The settings store and what it holds; a problem with the file is said on stderr, as the window's
    banner says it."""
    from PySide6.QtCore import QCoreApplication

    from moodsic_desktop.ui.settings import SettingsStore

    QCoreApplication.setOrganizationName("Moodsic")  # the window's settings folder (ui/app.py)
    QCoreApplication.setApplicationName("Moodsic")
    store = SettingsStore(args.settings_dir)
    settings, problem = store.load()
    if problem is not None:
        print(f"moodsic dayplan: {problem}", file=sys.stderr)
    return store, settings


def _span(text: str, what: str) -> Span:
    start, dash, end = text.partition("-")
    if not dash:
        raise UserError(f"{what} must be written FROM-TO, e.g. 08:00-22:00; got {text!r}")
    try:
        return Span(parse_hhmm(start, what=f"{what}: the start"), parse_hhmm(end, what=f"{what}: the end"))
    except ValueError as error:
        raise UserError(str(error)) from None


def _save(args: argparse.Namespace, change: Callable[[DayPlan], DayPlan]) -> int:
    """Apply ``change`` (plan → plan) to the saved plan, save it and show it."""
    store, settings = _store(args)
    try:
        plan = change(settings.plan)
    except ValueError as error:
        raise UserError(f"the day plan cannot be used: {error}") from None
    store.save(replace(settings, day_plan=plan.to_json()))
    saved, _ = store.load()
    if saved.plan != plan:
        raise UserError(f"the settings file {store.path} could not be written; the plan is unchanged")
    print(f"Saved in {store.path}; the window uses it from its next start.")
    print("\n".join(plan.describe()))
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    _, settings = _store(args)
    if args.json:
        print(strict_json.dumps(settings.plan.to_json(), indent=1, ensure_ascii=False))
    else:
        print("\n".join(settings.plan.describe()))
    return EXIT_OK


def run_hours(args: argparse.Namespace) -> int:
    hours = None if args.hours == ALL_DAY else _span(args.hours, "the opening hours")
    return _save(args, lambda plan: DayPlan(hours, plan.blocks))


def run_add(args: argparse.Namespace) -> int:
    if args.volume is not None and not 0 <= args.volume <= 100:
        raise UserError(f"--volume must be from 0 to 100 (per cent), got {args.volume}")
    span = _span(args.span, f"“{args.name}”")
    volume = None if args.volume is None else args.volume / 100
    try:
        block = TimeBlock(args.name, span, volume, MOOD_LEANS[args.mood])
    except ValueError as error:
        raise UserError(str(error)) from None

    def add(plan: DayPlan) -> DayPlan:
        others = tuple(b for b in plan.blocks if b.name != block.name)
        return DayPlan(plan.opening_hours, (*others, block))

    return _save(args, add)


def run_remove(args: argparse.Namespace) -> int:
    def remove(plan: DayPlan) -> DayPlan:
        if all(b.name != args.name for b in plan.blocks):
            names = ", ".join(f"“{b.name}”" for b in plan.blocks) or "none"
            raise UserError(f"the day plan has no part named “{args.name}” (its parts: {names})")
        return DayPlan(plan.opening_hours, tuple(b for b in plan.blocks if b.name != args.name))

    return _save(args, remove)


def run_set(args: argparse.Namespace) -> int:
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UserError(f"could not read a day plan from {args.file}: {error}") from None
    try:
        plan = DayPlan.from_json(data)
    except ValueError as error:
        raise UserError(f"{args.file} holds no day plan that can be used: {error}") from None
    return _save(args, lambda _: plan)


def run_reset(args: argparse.Namespace) -> int:
    return _save(args, lambda plan: DayPlan())
