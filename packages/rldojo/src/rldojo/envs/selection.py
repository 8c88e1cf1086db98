"""``create_env_manager``: env workers in this process or in worker processes, whichever fits the env."""

from __future__ import annotations

from rldojo.envs.factory import env_provider
from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.manager import EnvManager, InProcessEnvManager
from rldojo.envs.subprocess_manager import SubprocessEnvManager
from rldojo.settings import EnvironmentSettings

__all__ = ["IN_PROCESS_ATTRIBUTE", "create_env_manager", "runs_in_process"]

IN_PROCESS_ATTRIBUTE = "runs_in_process"
"""A provider factory with this attribute set to True builds cheap in-process envs (``gym:``)."""


def runs_in_process(spec: str | None) -> bool:
    """Whether the provider of env spec ``spec`` declares its envs cheap Python objects.

    Such an env steps in microseconds, so a worker process would spend far more time on the pipe than on
    the env; one copy per agent inside one env (``num_areas``) is how such envs are vectorised.
    """
    provider = env_provider(spec) if spec else None
    return provider is not None and bool(getattr(provider[0], IN_PROCESS_ATTRIBUTE, False))


def create_env_manager(launcher: EnvLauncher, env_settings: EnvironmentSettings) -> EnvManager:
    """One worker of an in-process provider runs in this process; anything else (Unity builds, ``sim:``,
    ``--num-envs`` > 1) runs in supervised worker processes."""
    if env_settings.num_envs == 1 and runs_in_process(env_settings.env_path):
        manager = InProcessEnvManager(launcher)
        manager.set_environment_parameters(launcher.environment_parameters)  # as a worker process starts
        return manager
    return SubprocessEnvManager(launcher, env_settings)
