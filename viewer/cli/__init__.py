"""``nodulelens`` command line: one subcommand per module in :mod:`viewer.cli.commands`.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``
and keeps its heavy imports inside ``run`` so that ``nodulelens --help`` stays instant.
Errors a user can act on (:class:`inference.imaging.ImagingError` and the other typed errors) are
printed as one line and give exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand name → module under viewer.cli.commands (order = order in --help)
COMMANDS: dict[str, str] = {
    "open": "open_scan",
    "info": "info",
    "demo": "demo",
    "snapshot": "snapshot",
    "detect": "detect",
    "measure": "measure",
    "evaluate": "evaluate",
    "train": "train",
    "models": "models",
    "screen": "screen",
    "export": "export",
    "readers": "readers",
    "pacs": "pacs",
    "listen": "listen",
    "followup": "followup",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nodulelens",
        description="Review AI-flagged low-dose chest CT for lung nodules. "
        "With no subcommand, opens the built-in demo scan.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"viewer.cli.commands.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["open", *(argv or [])])
    from viewer.errors import user_facing_errors

    try:
        return int(args._run(args) or 0)
    except user_facing_errors() as exc:  # typed, actionable errors: one line, no traceback
        print(f"nodulelens {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nodulelens {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
