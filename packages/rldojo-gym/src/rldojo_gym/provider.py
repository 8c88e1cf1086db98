"""The ``gym:`` env provider (entry-point group ``rldojo.env``): any Gymnasium env as a ``BaseEnv``.

``gym:CartPole-v1`` gives rldojo's trainers ``num_areas`` copies of ``gymnasium.make("CartPole-v1")``
as the agents of behavior ``CartPole``. Every worker of ``--num-envs`` calls the factory with its
own ``worker_id``, and each copy of each worker is seeded independently from (seed, worker_id, copy).

A Gymnasium env steps in microseconds, far less than one message to a worker process costs, so the
factory declares ``runs_in_process``: with one worker (``--num-envs 1``, the default) rldojo steps it in
the trainer's process, and ``num_areas`` copies inside it are the vectorisation (as SB3's ``DummyVecEnv``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium
from gymnasium.envs.registration import parse_env_id
from mlagents_envs.side_channel import SideChannel

from rldojo_gym.errors import GymEnvError
from rldojo_gym.gymnasium_base_env import GymnasiumBaseEnv, area_seeds

__all__ = ["UNITY_ONLY_OPTIONS", "env_providers", "make_gym_base_env"]

UNITY_ONLY_OPTIONS = frozenset({"log_folder", "timeout_wait", "no_graphics", "additional_args", "base_port"})
"""Options the core passes to every provider that only a Unity player uses; ignored here."""


def make_gym_base_env(
    name: str,
    *,
    worker_id: int = 0,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    num_areas: int = 1,
    behavior_name: str | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> GymnasiumBaseEnv:
    """Build ``num_areas`` copies of the Gymnasium env ``name`` as one ``BaseEnv``.

    Args:
        name: a Gymnasium id (``CartPole-v1``; ``module:Env-v0`` imports ``module`` first).
        worker_id: this worker's index; seeds differ per worker.
        seed: the run's seed.
        side_channels: mlagents_envs side channels, served as a Unity player would.
        num_areas: env copies in this worker, one agent each.
        behavior_name: defaults to the id's name without namespace and version (``CartPole``).
        env_kwargs: keyword arguments for ``gymnasium.make``.
        options: Unity launch options (``log_folder``, ``base_port``, ...), ignored.
    """
    unknown = sorted(set(options) - UNITY_ONLY_OPTIONS)
    if unknown:
        raise GymEnvError(
            f"gym:{name} got unknown option(s) {unknown}; "
            "gym: envs take num_areas, behavior_name and env_kwargs"
        )
    env_id = gymnasium.spec(name).id  # fails early, with Gymnasium's "did you mean" hint, on a bad id
    return GymnasiumBaseEnv(
        functools.partial(gymnasium.make, name, **dict(env_kwargs or {})),
        behavior_name=behavior_name or parse_env_id(env_id)[1],
        num_areas=num_areas,
        seeds=area_seeds(seed, worker_id, num_areas),
        side_channels=side_channels,
    )


make_gym_base_env.runs_in_process = True  # type: ignore[attr-defined]  # see rldojo.envs.selection
make_gym_base_env.check_name = gymnasium.spec  # type: ignore[attr-defined]  # see rldojo.envs.factory


def env_providers() -> dict[str, Callable[..., GymnasiumBaseEnv]]:
    """Entry point of group ``rldojo.env``: the ``gym`` scheme."""
    return {"gym": make_gym_base_env}
