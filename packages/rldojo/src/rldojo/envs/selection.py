"""``create_env_manager``: env workers in this process, in worker processes, or as Ray actors (``--ray``)."""

from __future__ import annotations

from importlib import metadata

from rldojo.envs.factory import env_provider
from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.manager import EnvManager, InProcessEnvManager
from rldojo.envs.subprocess_manager import SubprocessEnvManager
from rldojo.errors import ConfigError
from rldojo.settings import EnvironmentSettings, RaySettings

__all__ = [
    "ENV_MANAGER_GROUP",
    "IN_PROCESS_ATTRIBUTE",
    "create_env_manager",
    "runs_in_process",
    "steps_in_process",
]

ENV_MANAGER_GROUP = "rldojo.env_manager"
"""Entry points ``name = fn(launcher, env_settings, ray_settings) -> EnvManager`` (rldojo-ray: ``ray``)."""

IN_PROCESS_ATTRIBUTE = "runs_in_process"
"""A provider factory with this attribute set to True builds Python envs that can step in the trainer's
process (``sim:``, ``gym:``)."""


def runs_in_process(spec: str | None) -> bool:
    """Whether the provider of env spec ``spec`` declares its envs Python objects that can step in the
    trainer's process.

    Such an env steps in microseconds, so a worker process would spend more time on the pipe than on the
    env; one copy per agent inside one env (``num_areas``) is how such envs are vectorised.
    """
    provider = env_provider(spec) if spec else None
    return provider is not None and bool(getattr(provider[0], IN_PROCESS_ATTRIBUTE, False))


def steps_in_process(env_settings: EnvironmentSettings, ray_settings: RaySettings | None = None) -> bool:
    """Whether the run's env steps in the trainer's process, as ``env_settings.in_process`` asks.

    ``auto``: yes for one env (``num_envs: 1``, no Ray) of a provider that :func:`runs_in_process`.
    ``true`` where that cannot be is a ConfigError saying why; ``false``: never (worker processes).
    """
    choice = env_settings.in_process
    using_ray = ray_settings is not None and ray_settings.address is not None
    capable = runs_in_process(env_settings.env_path)
    if choice is True:
        if not capable:
            raise ConfigError(
                f"in_process: true (--in-process true): env {env_settings.env_path} cannot step in the "
                "trainer's process (a Unity build always runs in its own); set it to auto or false, or use "
                "an in-process env such as sim:3DBall or gym:CartPole-v1"
            )
        if env_settings.num_envs > 1 or using_ray:
            many = "--ray runs envs as Ray actors" if using_ray else f"--num-envs {env_settings.num_envs}"
            raise ConfigError(
                f"in_process: true (--in-process true) steps one env in the trainer's process, but {many}; "
                "set in_process to auto or false, or use one env"
            )
        return True
    return choice == "auto" and capable and env_settings.num_envs == 1 and not using_ray


def create_env_manager(
    launcher: EnvLauncher, env_settings: EnvironmentSettings, ray_settings: RaySettings | None = None
) -> EnvManager:
    """Ray actors when ``ray_settings`` has an address; else the env steps in this process when
    :func:`steps_in_process` says so, and anything else (Unity builds, ``--num-envs`` > 1,
    ``in_process: false``) in supervised worker processes."""
    in_process = steps_in_process(env_settings, ray_settings)
    if ray_settings is not None and ray_settings.address is not None:
        return _ray_env_manager(launcher, env_settings, ray_settings)
    if in_process:
        manager = InProcessEnvManager(launcher, env_spec=env_settings.env_path)
        manager.set_environment_parameters(launcher.environment_parameters)  # as a worker process starts
        return manager
    return SubprocessEnvManager(launcher, env_settings)


def _ray_env_manager(
    launcher: EnvLauncher, env_settings: EnvironmentSettings, ray_settings: RaySettings
) -> EnvManager:
    entry_point = next(iter(metadata.entry_points(group=ENV_MANAGER_GROUP, name="ray")), None)
    if entry_point is None:
        raise ConfigError("--ray (ray: address) needs rldojo-ray: pip install rldojo-ray")
    manager: EnvManager = entry_point.load()(launcher, env_settings, ray_settings)
    return manager
