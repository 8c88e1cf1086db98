"""``rldojo builds list|fetch NAME``: the real Unity Linux builds of ``unity_builds/builds.toml``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rldojo.errors import ConfigError
from rldojo.unity_builds import DEFAULT_MANIFEST, load_manifest


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "builds",
        help="list or fetch the real Unity builds of unity_builds/builds.toml",
        description="Real Unity Linux builds named in a manifest: list them, or download one, check its "
        "sha256 and unpack it into <out-root>/<NAME>/.",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help=f"build manifest (default: {DEFAULT_MANIFEST})",
    )
    actions = parser.add_subparsers(dest="builds_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the builds of the manifest").set_defaults(command_function=run_list)
    fetch = actions.add_parser("fetch", help="download, verify and unpack one build")
    fetch.add_argument("name", metavar="NAME", help="a build name from the manifest")
    fetch.add_argument(
        "--out-root", type=Path, default=Path("unity_builds"), help="where builds go (default: unity_builds)"
    )
    fetch.add_argument("--force", action="store_true", help="replace an existing <out-root>/<NAME>/")
    fetch.set_defaults(command_function=run_fetch)


def run_list(args: argparse.Namespace) -> int:
    builds = load_manifest(args.manifest)
    if not builds:
        print(f"{args.manifest}: no builds listed (add a [builds.NAME] table; the file shows the format)")
    for entry in builds.values():
        print(f"{entry.name}  {entry.executable}  {entry.url}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from rldojo.unity_builds import fetch

    builds = load_manifest(args.manifest)
    if args.name not in builds:
        known = ", ".join(sorted(builds)) or "none"
        raise ConfigError(f"no build '{args.name}' in {args.manifest} (listed: {known})")
    executable = fetch(builds[args.name], args.out_root, force=args.force)
    print(f"{args.name}: {executable} (train with --env {executable})")
    return 0
