"""``rldojo docker build|train``: the rldojo image through the Docker engine (``make docker-*`` in Python)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rldojo.docker_engine import DEFAULT_IMAGE


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "docker",
        help="build the rldojo image, or train inside it",
        description="Build the rldojo image (containers/Dockerfile) or train in a container of it, with "
        "./results mounted and your uid:gid, so the run's files are yours.",
    )
    parser.add_argument("--image", default=DEFAULT_IMAGE, help=f"image tag (default: {DEFAULT_IMAGE})")
    parser.add_argument(
        "--network", default="host", help="network of the build and of training (default: host)"
    )
    actions = parser.add_subparsers(dest="docker_action", metavar="ACTION", required=True)

    build = actions.add_parser("build", help="build the image from this checkout")
    build.add_argument("--context", type=Path, default=Path("."), help="repository root (default: .)")
    build.add_argument("--base-image", help="BASE_IMAGE build argument (e.g. a CUDA runtime image)")
    build.add_argument(
        "--extra-ca", type=Path, metavar="FILE", help="CA certificates (PEM) of a TLS-intercepting proxy"
    )
    build.set_defaults(command_function=run_build)

    train = actions.add_parser(
        "train",
        help="train in a container: rldojo docker train ALGO=dqn [ENV=...] [RUN_ID=...] [ARGS=...]",
    )
    train.add_argument("settings", nargs="*", metavar="KEY=VALUE", help="ALGO, ENV, RUN_ID, DEVICE, ARGS")
    train.add_argument("--results-dir", type=Path, default=Path("results"), help="default: results")
    train.add_argument(
        "--user", default=f"{os.getuid()}:{os.getgid()}", help="UID:GID in the container (default: yours)"
    )
    train.add_argument(
        "--config", type=Path, metavar="FILE", help="use FILE as the image's configs/<ALGO>.yaml (no rebuild)"
    )
    train.add_argument("--gpu", action="store_true", help="all GPUs (NVIDIA container toolkit), DEVICE=cuda")
    train.set_defaults(command_function=run_train)


def run_build(args: argparse.Namespace) -> int:
    from rldojo.docker_engine import build_image, connect

    build_image(
        connect(),
        args.context,
        args.image,
        base_image=args.base_image,
        network=args.network,
        extra_ca=args.extra_ca,
    )
    print(f"built image '{args.image}'")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from rldojo.docker_engine import connect, train_in_container, train_settings

    settings = train_settings(args.settings)
    return train_in_container(
        connect(),
        args.image,
        settings,
        args.results_dir,
        user=args.user,
        config=args.config,
        gpu=args.gpu,
        network=args.network,
    )
