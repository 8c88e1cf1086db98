"""``rldojo-sim``: list scenes and write their builds."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rldojo_sim.builds import build
from rldojo_sim.errors import SimError
from rldojo_sim.scenes import SCENES, scene_names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rldojo-sim", description=__doc__)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in scene_names():
            print(f"{name}\t{SCENES[name].__doc__}")
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
