"""The ``sim`` env provider for the ``rldojo.env`` entry-point group (``sim:<Scene>`` specs)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel.side_channel import SideChannel

from rldojo_sim.environment import make_env
from rldojo_sim.scenes import parse_scene_options, scene_class

logger = logging.getLogger(__name__)

IGNORED_OPTIONS = ("log_folder", "timeout_wait", "no_graphics", "additional_args", "base_port")


def create_sim_env(
    name: str,
    *,
    worker_id: int = 0,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    **options: Any,
) -> BaseEnv:
    """Create scene ``name`` in process; options meant for launched builds are ignored, except scene
    options among a build's ``additional_args`` (``env_settings.env_args``, e.g. ``--room-size 7``).

    The environment is seeded with ``seed`` exactly as a Unity player receiving ``seed`` in the
    handshake would be, so ``worker_id`` does not change it (give workers distinct seeds to decorrelate
    them); the remaining ``options`` are scene options (e.g. ``num_areas``).
    """
    del worker_id
    scene_options = {key: value for key, value in options.items() if key not in IGNORED_OPTIONS}
    build_options, ignored = parse_scene_options(scene_class(name), options.get("additional_args") or [])
    if ignored:
        logger.warning("Ignoring arguments that are not scene options of %s: %s", name, " ".join(ignored))
    return make_env(name, seed=seed, side_channels=side_channels, **(build_options | scene_options))


def check_scene_args(name: str, args: Sequence[str]) -> None:
    """SceneOptionError for a scene option in ``args`` (``env_settings.env_args``) with a bad value."""
    parse_scene_options(scene_class(name), args)


create_sim_env.check_name = scene_class  # type: ignore[attr-defined]  # rldojo's env-spec check
create_sim_env.check_args = check_scene_args  # type: ignore[attr-defined]  # and its env_args check
create_sim_env.runs_in_process = True  # type: ignore[attr-defined]  # rldojo's env_settings.in_process: auto


def env_providers() -> dict[str, Callable[..., BaseEnv]]:
    """Entry point of ``rldojo.env``: the ``sim`` scheme."""
    return {"sim": create_sim_env}
