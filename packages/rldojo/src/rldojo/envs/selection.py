"""``create_env_manager``: env workers in this process, in worker processes, or as Ray actors (``--ray``)."""

from __future__ import annotations

from importlib import metadata

from rldojo.envs.factory import env_provider
from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.manager import EnvManager, InProcessEnvManager
from rldojo.envs.subprocess_manager import SubprocessEnvManager
from rldojo.errors import ConfigError
from rldojo.settings import EnvironmentSettings, RaySettings

__all__ = ["ENV_MANAGER_GROUP", "IN_PROCESS_ATTRIBUTE", "create_env_manager", "runs_in_process"]

ENV_MANAGER_GROUP = "rldojo.env_manager"
"""Entry points ``name = fn(launcher, env_settings, ray_settings) -> EnvManager`` (rldojo-ray: ``ray``)."""

IN_PROCESS_ATTRIBUTE = "runs_in_process"
"""A provider factory with this attribute set to True builds cheap in-process envs (``gym:``)."""


def runs_in_process(spec: str | None) -> bool:
    """Whether the provider of env spec ``spec`` declares its envs cheap Python objects.

    Such an env steps in microseconds, so a worker process would spend far more time on the pipe than on
    the env; one copy per agent inside one env (``num_areas``) is how such envs are vectorised.
    """
    provider = env_provider(spec) if spec else None
    return provider is not None and bool(getattr(provider[0], IN_PROCESS_ATTRIBUTE, False))


def create_env_manager(
    launcher: EnvLauncher, env_settings: EnvironmentSettings, ray_settings: RaySettings | None = None
) -> EnvManager:
    """Ray actors when ``ray_settings`` has an address; else one worker of an in-process provider runs in
    this process, and anything else (Unity builds, ``sim:``, ``--num-envs`` > 1) in supervised worker
    processes."""
    if ray_settings is not None and ray_settings.address is not None:
        return _ray_env_manager(launcher, env_settings, ray_settings)
    if env_settings.num_envs == 1 and runs_in_process(env_settings.env_path):
        manager = InProcessEnvManager(launcher)
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
