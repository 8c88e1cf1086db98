"""``rldojo-sim``: list scenes, write their builds and record demonstrations of their scripted policies."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rldojo_sim.builds import build
from rldojo_sim.errors import SimError
from rldojo_sim.record import record_demonstration
from rldojo_sim.scenes import SCENES, parse_scene_options, scene_class, scene_names


class _Parser(argparse.ArgumentParser):
    """Takes flags only as spelled in full (``--episode`` is an error, not ``--episodes``) and reports a bad
    command line in one line (exit 2) instead of argparse's usage block; its subcommands' parsers are too."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rldojo-sim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the simulated scenes")
    build_parser = commands.add_parser("build", help="write build launchers that UnityEnvironment can start")
    build_parser.add_argument("name", nargs="?", help="scene to build (see `rldojo-sim list`)")
    build_parser.add_argument(
        "--out", type=Path, help="folder for one scene's build, e.g. unity_builds/Basic"
    )
    build_parser.add_argument("--all", action="store_true", help="build every scene into --out-root/<Name>")
    build_parser.add_argument(
        "--out-root", type=Path, default=Path("unity_builds"), help="root folder for --all"
    )
    record_parser = commands.add_parser(
        "record",
        help="write ML-Agents demonstrations (.demo) of a scene's scripted policy",
        epilog="Scene options (e.g. --num-areas 2, --room-size 7) follow as --kebab-case arguments.",
    )
    record_parser.add_argument("name", help="scene to record (see `rldojo-sim list`)")
    record_parser.add_argument("--episodes", type=int, required=True, help="episodes to record")
    record_parser.add_argument("--out", type=Path, required=True, help="the .demo file to write")
    record_parser.add_argument("--behavior", help="behavior to record, for scenes with several")
    record_parser.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    return parser


def _record(parser: argparse.ArgumentParser, args: argparse.Namespace, rest: list[str]) -> None:
    values, unknown = parse_scene_options(scene_class(args.name), rest)
    if unknown:
        parser.error(f"record: unrecognized arguments: {' '.join(unknown)}")
    meta = record_demonstration(
        args.name, args.episodes, args.out, behavior=args.behavior, seed=args.seed, **values
    )
    print(
        f"{meta.path}: {meta.number_episodes} episodes, {meta.number_steps} records, "
        f"mean reward {meta.mean_reward:.3f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "record":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "list":
        for name in scene_names():
            print(f"{name}\t{SCENES[name].__doc__}")
        return 0
    if args.command == "record":
        try:
            _record(parser, args, rest)
        except SimError as error:
            print(f"rldojo-sim: error: {error}", file=sys.stderr)
            return 2
        return 0
    if args.all == bool(args.name):
        parser.error("build: give either a scene name or --all")
    targets = (
        [(name, args.out_root / name) for name in scene_names()]
        if args.all
        else [(args.name, args.out or Path("unity_builds") / args.name)]
    )
    try:
        for name, out in targets:
            print(build(name, out))
    except SimError as error:
        print(f"rldojo-sim: error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
