"""The Docker engine behind ``rldojo docker``: reach it, build the rldojo image, train in a container.

The image is the one of ``containers/Dockerfile``; training runs its entrypoint's ``train`` (the
Makefile's ``make train``) with the host's results folder mounted and the host user's uid:gid, so the
files it writes belong to that user.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rldojo.errors import ConfigError, RldojoError
from rldojo.run_directory import git_state

DEFAULT_IMAGE = "rldojo"
DOCKERFILE = "containers/Dockerfile"
EXTRA_CA_DIR = Path("containers/extra-ca-certificates")
RESULTS_IN_IMAGE = "/app/results"
CONFIGS_IN_IMAGE = "/app/configs"
DEFAULT_ALGO = "dqn"
"""The Makefile's default ``ALGO``."""
TRAIN_VARIABLES = ("ALGO", "ENV", "RUN_ID", "DEVICE", "ARGS")
"""The ``KEY=VALUE`` settings the image's ``train`` takes (those of ``make train``)."""


def connect() -> Any:
    """A ``docker.DockerClient`` of a running engine, or RldojoError saying how to get one."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise RldojoError(
            f"cannot reach the Docker engine at {where} ({str(error).splitlines()[0]}): start it "
            "(`sudo systemctl start docker`) or point DOCKER_HOST at a running one"
        ) from None
    return client


def build_image(
    client: Any,
    context: Path,
    tag: str,
    *,
    base_image: str | None = None,
    network: str | None = None,
    extra_ca: Path | None = None,
) -> None:
    """Build ``containers/Dockerfile`` of the repository at ``context`` as ``tag``, printing the output."""
    if not (context / DOCKERFILE).is_file():
        raise ConfigError(f"{context.resolve()} is not an rldojo checkout (no {DOCKERFILE}); pass --context")
    if extra_ca is not None:
        if not extra_ca.is_file():
            raise ConfigError(f"--extra-ca {extra_ca}: no such file")
        shutil.copyfile(extra_ca, context / EXTRA_CA_DIR / "extra-ca.crt")
    source = git_state(context) or {}
    buildargs = {
        **({"BASE_IMAGE": base_image} if base_image else {}),
        **(
            {"RLDOJO_GIT_COMMIT": source["commit"], "RLDOJO_GIT_DIRTY": str(source["dirty"]).lower()}
            if source
            else {}
        ),
    }
    output = client.api.build(
        path=str(context),
        dockerfile=DOCKERFILE,
        tag=tag,
        buildargs=buildargs,
        network_mode=network,
        rm=True,
        forcerm=True,  # no stopped containers left behind by a failed step
        decode=True,
    )
    for chunk in output:
        if "error" in chunk:
            error = chunk["error"].strip()
            raise RldojoError(f"the image build failed: {error}{proxy_hint(error)}")
        print(chunk.get("stream", ""), end="", flush=True)


def proxy_hint(error: str) -> str:
    """For a build error about TLS certificates: how to give the build a proxy's CA certificate."""
    if not re.search(r"certificate|CERTIFICATE|SSL|x509", error):
        return ""
    return (
        "; behind a TLS-intercepting proxy? give the build its CA certificate: "
        "rldojo docker build --extra-ca proxy-ca.pem (make docker-build EXTRA_CA=proxy-ca.pem)"
    )


def train_settings(assignments: Sequence[str]) -> list[str]:
    """Check ``KEY=VALUE`` settings for the image's ``train`` (ConfigError naming the bad one)."""
    for assignment in assignments:
        key, equals, _ = assignment.partition("=")
        if not equals or key not in TRAIN_VARIABLES:
            raise ConfigError(
                f"'{assignment}' is not a training setting: give KEY=VALUE with KEY one of "
                f"{', '.join(TRAIN_VARIABLES)} (e.g. ALGO=dqn ARGS='--seed 1')"
            )
    return list(assignments)


def train_in_container(
    client: Any,
    image: str,
    settings: Sequence[str],
    results_dir: Path,
    *,
    user: str,
    config: Path | None = None,
    gpu: bool = False,
    network: str | None = None,
) -> int:
    """Run ``train SETTINGS`` in a container of ``image``, streaming its output; return its exit code.

    ``config`` replaces the image's ``configs/<ALGO>.yaml`` (mounted read-only).
    """
    import docker

    results_dir.mkdir(parents=True, exist_ok=True)
    volumes = {str(results_dir.resolve()): {"bind": RESULTS_IN_IMAGE, "mode": "rw"}}
    if config is not None:
        if not config.is_file():
            raise ConfigError(f"--config {config}: no such file")
        algo = next((s.partition("=")[2] for s in settings if s.startswith("ALGO=")), DEFAULT_ALGO)
        volumes[str(config.resolve())] = {"bind": f"{CONFIGS_IN_IMAGE}/{algo}.yaml", "mode": "ro"}
    try:
        container = client.containers.run(
            image,
            ["train", *settings, *(["DEVICE=cuda"] if gpu else [])],
            user=user,
            volumes=volumes,
            device_requests=[docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])] if gpu else None,
            network_mode=network,
            detach=True,
        )
    except docker.errors.ImageNotFound:
        raise ConfigError(f"no image '{image}': build it first with `rldojo docker build`") from None
    try:
        for line in container.logs(stream=True, follow=True):
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
        return int(container.wait()["StatusCode"])
    finally:
        container.remove(force=True)
