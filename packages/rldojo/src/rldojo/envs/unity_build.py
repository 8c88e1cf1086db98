"""Launching a Unity build (or an rldojo-sim build) with mlagents-envs over gRPC, through rldojo-unity."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlagents_envs.base_env import BaseEnv
from mlagents_envs.exception import UnityException
from mlagents_envs.side_channel.side_channel import SideChannel

from rldojo.errors import ConfigError, RldojoError
from rldojo.settings.run import DEFAULT_BASE_PORT
from rldojo_unity.environment import open_unity_environment

__all__ = ["launch_unity_build"]

BUILD_SUFFIXES = ("", ".x86_64", ".x86")


def _existing_build(path: Path) -> Path | None:
    for suffix in BUILD_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def launch_unity_build(
    path: Path,
    *,
    worker_id: int = 0,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    log_folder: Path | str | None = None,
    timeout_wait: int = 60,
    no_graphics: bool = False,
    additional_args: Sequence[str] | None = None,
    base_port: int | None = None,
    num_areas: int = 1,
) -> BaseEnv:
    """Start the build at ``path`` and connect to it; its player log goes to ``log_folder/Player-<id>.log``.

    With the default base port (5005) the first free port from there is leased, so concurrent runs on one
    host never collide; any other ``base_port`` is used exactly (``base_port + worker_id``).
    """
    build = _existing_build(path)
    if build is None:
        raise ConfigError(
            f"environment build not found: {path} (give an existing executable or <scheme>:<name>)"
        )
    try:
        return open_unity_environment(
            str(build),
            worker_id=worker_id,
            base_port=None if base_port in (None, DEFAULT_BASE_PORT) else base_port,
            seed=seed,
            no_graphics=no_graphics,
            timeout_wait=timeout_wait,
            additional_args=list(additional_args or []),
            side_channels=list(side_channels),
            log_folder=str(log_folder) if log_folder is not None else None,
            num_areas=num_areas,
        )
    except UnityException as error:
        raise RldojoError(f"could not start environment {build}: {error}".splitlines()[0]) from error
