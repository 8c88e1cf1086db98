"""The ``rldojo`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

RLDOJO_DISTRIBUTIONS = ("rldojo", "rldojo-unity", "rldojo-sim", "rldojo-stats", "rldojo-gym", "rldojo-sb3")


def installed_versions() -> dict[str, str]:
    """Versions of the rldojo distributions installed in this environment, by distribution name."""
    versions = {}
    for name in RLDOJO_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object):
        super().__init__(option_strings, dest, nargs=0, help="list installed rldojo packages and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        width = max(map(len, RLDOJO_DISTRIBUTIONS))
        lines = [f"{name:<{width}}  {version}" for name, version in installed_versions().items()]
        print("\n".join(lines))
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rldojo",
        description="Train reinforcement-learning agents in Unity ML-Agents and Gymnasium environments.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
