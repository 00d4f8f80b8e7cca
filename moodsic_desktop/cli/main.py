"""The ``moodsic`` command: its parser, and ``main``, which runs a sub-command (or ``--self-test``:
:mod:`~moodsic_desktop.cli.self_test`).

One module per command group: :mod:`~moodsic_desktop.cli.analyze`, :mod:`~moodsic_desktop.cli.library`
(with :mod:`~moodsic_desktop.cli.library_import`), :mod:`~moodsic_desktop.cli.models` (``models`` and
``bench``), :mod:`~moodsic_desktop.cli.evaluate`, :mod:`~moodsic_desktop.cli.autostart` and
:mod:`~moodsic_desktop.cli.dayplan`; what they share
is in :mod:`~moodsic_desktop.cli._common`.
Building the parser loads neither Qt nor PyTorch.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from moodsic_desktop import __version__
from moodsic_desktop.cli import self_test
from moodsic_desktop.cli._common import EXIT_FAILURE, EXIT_INTERRUPTED, UserError
from moodsic_desktop.cli.analyze import add_analyze_parser
from moodsic_desktop.cli.autostart import add_autostart_parser
from moodsic_desktop.cli.dayplan import add_dayplan_parser
from moodsic_desktop.cli.evaluate import add_eval_parser
from moodsic_desktop.cli.library import add_library_parser
from moodsic_desktop.cli.models import add_bench_parser, add_models_parser
from moodsic_desktop.cli.self_test import asks_for_self_test


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moodsic", description="Moodsic Desktop: music that follows the mood.")
    parser.add_argument("--version", action="version", version=f"moodsic {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the whole program headless on a generated clip and exit, as main.py --self-test "
        "(takes --library DEAM_FOLDER and --verbose); exit status 0: passed, 1: a stage failed, "
        "3: every stage passed but no sound output opens",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_analyze_parser(commands)
    add_library_parser(commands)
    add_models_parser(commands)
    add_bench_parser(commands)
    add_eval_parser(commands)
    add_autostart_parser(commands)
    add_dayplan_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if asks_for_self_test(argv):  # `python -m moodsic_desktop --self-test` works as `main.py --self-test`
        return self_test.main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    actions = ("library_command", "models_command", "export_kind", "eval_dataset", "dayplan_command")
    command = " ".join(filter(None, (args.command, *(getattr(args, a, None) for a in actions))))
    try:
        return args.run(args)
    except UserError as error:
        print(f"moodsic {command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"moodsic {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
