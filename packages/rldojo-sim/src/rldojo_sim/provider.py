"""The ``sim`` env provider for the ``rldojo.env`` entry-point group (``sim:<Scene>`` specs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel.side_channel import SideChannel

from rldojo_sim.environment import make_env
from rldojo_sim.scenes import scene_class

IGNORED_OPTIONS = ("log_folder", "timeout_wait", "no_graphics", "additional_args", "base_port")


def create_sim_env(
    name: str,
    *,
    worker_id: int = 0,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    **options: Any,
) -> BaseEnv:
    """Create scene ``name`` in process; options meant for launched builds are ignored.

    The environment is seeded with ``seed`` exactly as a Unity player receiving ``seed`` in the
    handshake would be, so ``worker_id`` does not change it (give workers distinct seeds to decorrelate
    them); the remaining ``options`` are scene options (e.g. ``num_areas``).
    """
    del worker_id
    scene_options = {key: value for key, value in options.items() if key not in IGNORED_OPTIONS}
    return make_env(name, seed=seed, side_channels=side_channels, **scene_options)


create_sim_env.check_name = scene_class  # type: ignore[attr-defined]  # rldojo's env-spec check


def env_providers() -> dict[str, Callable[..., BaseEnv]]:
    """Entry point of ``rldojo.env``: the ``sim`` scheme."""
    return {"sim": create_sim_env}
