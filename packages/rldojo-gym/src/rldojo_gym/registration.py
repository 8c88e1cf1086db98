"""Gymnasium ids for Unity environments: ``rldojo/<Scene>-v0`` per catalogued scene, ``rldojo/Unity-v0``.

The scenes come from the installed scene catalogs (:mod:`rldojo_gym.scene_catalogs`; rldojo-sim is
one), so a new scene gets its id without a change here. ``gymnasium.make("rldojo/3DBall-v0")`` runs
the scene in process with one training area (one agent: a single-agent view); ``launch=True``
launches it as a build over gRPC, exactly like a Unity player. ``gymnasium.make("rldojo/Unity-v0",
file_name="path/to/Build.x86_64")`` launches any Unity build. ``gymnasium.make_vec(id)`` gives
:class:`~rldojo_gym.UnityVectorEnv` over all agents of the scene (all its areas). Gymnasium 1.x no
longer loads ``gymnasium.envs`` entry points itself, so the ids exist once ``rldojo_gym`` is imported
(or use ``gymnasium.make("rldojo_gym:rldojo/3DBall-v0")``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gymnasium.envs.registration import namespace, register, registry
from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel import SideChannel
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

from rldojo_gym.behavior_link import SeededEnvFactory
from rldojo_gym.env_side_channels import IgnoredChannel
from rldojo_gym.errors import GymEnvError
from rldojo_gym.scene_catalogs import catalog_of, scene_catalogs
from rldojo_gym.unity_env import UnityGymEnv
from rldojo_gym.vector_env import UnityVectorEnv

__all__ = [
    "NAMESPACE",
    "UNITY_ENVIRONMENT_OPTIONS",
    "make_build_env",
    "make_build_vector_env",
    "make_scene_env",
    "make_scene_vector_env",
    "register_envs",
    "scene_factory",
]

NAMESPACE = "rldojo"

_WRAPPER_OPTIONS = ("behavior_name", "visual_format", "render_mode")
UNITY_ENVIRONMENT_OPTIONS = (
    "worker_id",
    "base_port",
    "no_graphics",
    "timeout_wait",
    "log_folder",
    "additional_args",
)
"""Options of a launched build's ``UnityEnvironment``; other options of a scene are scene options."""


def _launcher(
    file_name: str | Path, side_channels: Sequence[SideChannel], **unity_options: Any
) -> SeededEnvFactory:
    """A factory launching the build with a seed, on a leased loopback port unless ``base_port`` is set.

    Custom stats the build sends are dropped unless a stats channel is given, so mlagents_envs does
    not warn about an unknown side channel on every episode end.
    """
    from rldojo_unity.environment import open_unity_environment

    options = {"no_graphics": True, **unity_options}
    stats_id = StatsSideChannel().channel_id
    channels = list(side_channels)
    if stats_id not in {channel.channel_id for channel in channels}:
        channels.append(IgnoredChannel(stats_id))

    def launch(seed: int) -> BaseEnv:
        return open_unity_environment(str(file_name), seed=seed, side_channels=channels, **options)

    return launch


def scene_factory(
    scene: str, launch: bool = False, side_channels: Sequence[SideChannel] = (), **options: Any
) -> SeededEnvFactory:
    """``seed -> BaseEnv`` for a catalogued scene, in process or (``launch=True``) as a launched build.

    Scene options (``num_areas``, ``max_steps``, ...) go to the catalog's ``make_env`` in process and
    become ``--kebab-case`` build arguments when launched; ``UnityEnvironment`` options need ``launch=True``.
    """
    catalog = catalog_of(scene)
    unity = {key: options.pop(key) for key in UNITY_ENVIRONMENT_OPTIONS if key in options}
    if not launch:
        if unity:
            raise GymEnvError(f"{sorted(unity)} apply to launched builds only: pass launch=True")
        return lambda seed: catalog.make_env(scene, seed=seed, side_channels=side_channels, **options)
    scene_arguments = [
        part for key, value in options.items() for part in (f"--{key.replace('_', '-')}", str(value))
    ]
    unity["additional_args"] = [*unity.get("additional_args", ()), *scene_arguments]
    build_dir = Path(tempfile.mkdtemp(prefix=f"rldojo-{scene}-"))
    return _launcher(catalog.build(scene, build_dir), side_channels, **unity)


def _split_wrapper_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    wrapper = {key: options.pop(key) for key in _WRAPPER_OPTIONS if key in options}
    return wrapper, options


def make_scene_env(
    scene: str,
    *,
    launch: bool = False,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    **options: Any,
) -> UnityGymEnv:
    """A catalogued scene as a :class:`UnityGymEnv` (in process, or ``launch=True`` over gRPC).

    ``options``: ``behavior_name`` (default: the scene's first behavior), ``visual_format``,
    ``render_mode``, scene options (``num_areas``, default 1 here so that the env has one agent;
    ``max_steps``, ...) and, with ``launch=True``, ``UnityEnvironment`` options (``worker_id``,
    ``base_port``, ``timeout_wait``, ``log_folder``, ...).
    """
    wrapper, unity = _split_wrapper_options(options)
    unity.setdefault("num_areas", 1)
    return UnityGymEnv(scene_factory(scene, launch, side_channels, **unity), seed=seed, **wrapper)


def make_scene_vector_env(
    scene: str,
    *,
    launch: bool = False,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    num_envs: int | None = None,
    **options: Any,
) -> UnityVectorEnv:
    """A catalogued scene as a :class:`UnityVectorEnv` (``gymnasium.make_vec`` entry point)."""
    wrapper, unity = _split_wrapper_options(options)
    env = UnityVectorEnv(scene_factory(scene, launch, side_channels, **unity), seed=seed, **wrapper)
    return _checked_size(env, num_envs)


def make_build_env(
    file_name: str | Path, *, seed: int = 0, side_channels: Sequence[SideChannel] = (), **options: Any
) -> UnityGymEnv:
    """Any Unity build as a :class:`UnityGymEnv`.

    ``options``: ``behavior_name``, ``visual_format`` and ``UnityEnvironment`` options
    (``worker_id``, ``base_port``, ``timeout_wait``, ``additional_args``, ...).
    """
    wrapper, unity = _split_wrapper_options(options)
    return UnityGymEnv(_launcher(file_name, side_channels, **unity), seed=seed, **wrapper)


def make_build_vector_env(
    file_name: str | Path,
    *,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    num_envs: int | None = None,
    **options: Any,
) -> UnityVectorEnv:
    """Any Unity build as a :class:`UnityVectorEnv` (``gymnasium.make_vec`` entry point)."""
    wrapper, unity = _split_wrapper_options(options)
    env = UnityVectorEnv(_launcher(file_name, side_channels, **unity), seed=seed, **wrapper)
    return _checked_size(env, num_envs)


def _checked_size(env: UnityVectorEnv, num_envs: int | None) -> UnityVectorEnv:
    """``make_vec`` passes ``num_envs`` (1 by default); the scene's agent count decides the size."""
    if num_envs not in (None, 1, env.num_envs):
        env.close()
        raise GymEnvError(
            f"this scene has {env.num_envs} agents of {env.behavior_name!r}, so its vector env has "
            f"{env.num_envs} sub-environments: leave num_envs out or pass num_envs={env.num_envs}"
        )
    return env


def register_envs() -> None:
    """Register ``rldojo/<Scene>-v0`` for every catalogued scene and ``rldojo/Unity-v0`` (idempotent)."""
    with namespace(NAMESPACE):
        for scene in scene_catalogs():
            if f"{NAMESPACE}/{scene}-v0" not in registry:
                register(
                    id=f"{scene}-v0",
                    entry_point="rldojo_gym.registration:make_scene_env",
                    vector_entry_point="rldojo_gym.registration:make_scene_vector_env",
                    kwargs={"scene": scene},
                )
        if f"{NAMESPACE}/Unity-v0" not in registry:
            register(
                id="Unity-v0",
                entry_point="rldojo_gym.registration:make_build_env",
                vector_entry_point="rldojo_gym.registration:make_build_vector_env",
            )
