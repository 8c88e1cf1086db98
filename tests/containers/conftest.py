"""A real Docker engine for the ``docker`` tests: installed, started and stopped here when needed.

No image registry is reachable from CI, so the base image is a Debian made with debootstrap, built
once and kept (tag ``rldojo-test-base:bookworm``) in the engine's data root. Set ``RLDOJO_SKIP_DOCKER=1``
to skip these tests on a machine that cannot run an engine; otherwise an engine that cannot start fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "rldojo-test-base:bookworm"
IMAGE = "rldojo-test:latest"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
ENGINE_SOCKET = "unix:///run/rldojo-test-docker.sock"
ENGINE_DATA_ROOT = Path("/var/lib/rldojo-test-docker")
"""Kept between sessions, so later runs reuse the base image and the image's dependency layers."""
ENGINE_START_SECONDS = 60
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def rldojo_command() -> str:
    return str(Path(sys.executable).with_name("rldojo"))


def _ping(host: str | None) -> bool:
    import docker

    try:
        client = docker.DockerClient(base_url=host) if host else docker.from_env()
        return bool(client.ping())
    except docker.errors.DockerException:
        return False


def _install_missing(package_of_command: dict[str, str]) -> None:
    """apt-get the Debian package of each command that is not on PATH (needs root)."""
    missing = [package for command, package in package_of_command.items() if not shutil.which(command)]
    if not missing:
        return
    if os.geteuid() != 0:
        pytest.fail(
            f"the docker tests need Debian's {' and '.join(missing)}: install them (or run as root), "
            "or set RLDOJO_SKIP_DOCKER=1 to skip these tests"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL
    )


def _start_engine(log_path: Path) -> subprocess.Popen[bytes] | None:
    """dockerd on its own socket, data root and pid file; fails the session with its log if it won't start.

    None when another test session's dockerd started on the same socket first (that one is used).
    """
    ENGINE_DATA_ROOT.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        engine = subprocess.Popen(
            [
                "dockerd",
                "--host", ENGINE_SOCKET,
                "--data-root", str(ENGINE_DATA_ROOT),
                "--exec-root", "/run/rldojo-test-docker",
                "--pidfile", "/run/rldojo-test-docker.pid",
                "--iptables=false",
                "--bridge=none",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # signals meant for the test session's process group never reach it
        )  # fmt: skip
    deadline = time.monotonic() + ENGINE_START_SECONDS
    while time.monotonic() < deadline:
        if _ping(ENGINE_SOCKET):
            return engine if engine.poll() is None else None
        time.sleep(0.5)
    engine.terminate()
    engine.wait(timeout=30)
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
    pytest.fail(
        f"dockerd did not start within {ENGINE_START_SECONDS} s (set RLDOJO_SKIP_DOCKER=1 to skip the docker "
        f"tests on a machine without one); its log:\n{tail}"
    )


@pytest.fixture(scope="session")
def docker_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DOCKER_HOST of a running engine: the machine's own, or a dockerd started (and stopped) here."""
    if os.environ.get("RLDOJO_SKIP_DOCKER") == "1":
        pytest.skip("RLDOJO_SKIP_DOCKER=1")
    if _ping(None):
        yield os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return
    _install_missing({"dockerd": "docker.io"})
    engine = (
        None if _ping(ENGINE_SOCKET) else _start_engine(tmp_path_factory.mktemp("dockerd") / "dockerd.log")
    )
    try:
        yield ENGINE_SOCKET
    finally:
        if engine is not None:
            engine.terminate()
            engine.wait(timeout=60)


@pytest.fixture(scope="session")
def docker_client(docker_host: str) -> Iterator[Any]:
    import docker

    client = docker.DockerClient(base_url=docker_host)
    yield client
    try:  # layers of earlier builds, superseded by this one: tidying only, so an engine gone by now is fine
        client.images.prune(filters={"dangling": True})
    except docker.errors.APIError as error:  # another session's prune is running: it does the same work
        if error.status_code != 409:
            raise
    except requests.exceptions.ConnectionError as error:
        warnings.warn(
            f"could not prune dangling images: the engine at {docker_host} is gone ({error})", stacklevel=2
        )
    client.close()


def _debootstrap_base(client: Any) -> None:
    """Tag BASE_IMAGE as a minimal Debian bookworm made by debootstrap (python3 comes from the Dockerfile)."""
    _install_missing({"debootstrap": "debootstrap"})
    with tempfile.TemporaryDirectory(prefix="rldojo-debootstrap-") as scratch:
        root = Path(scratch) / "root"
        subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(root), DEBIAN_MIRROR],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        repository, _, tag = BASE_IMAGE.partition(":")
        client.api.import_image_from_stream(tar.stdout, repository=repository, tag=tag)
        assert tar.wait() == 0


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """The debootstrap Debian base image, made on the first run and reused after."""
    import docker

    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        _debootstrap_base(docker_client)
    return BASE_IMAGE


@pytest.fixture(scope="session")
def rldojo_image(docker_host: str, base_image: str) -> str:
    """The rldojo image of this checkout, built on the base image by ``rldojo docker build``."""
    command = [rldojo_command(), "docker", "--image", IMAGE, "--network", "host", "build"]
    command += ["--context", str(REPO_ROOT), "--base-image", base_image]
    if HOST_CA_BUNDLE.is_file():  # this machine's CAs, for networks behind a TLS-intercepting proxy
        command += ["--extra-ca", str(HOST_CA_BUNDLE)]
    built = subprocess.run(
        command, env={**os.environ, "DOCKER_HOST": docker_host}, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, f"image build failed:\n{built.stdout[-4000:]}\n{built.stderr[-2000:]}"
    return IMAGE
