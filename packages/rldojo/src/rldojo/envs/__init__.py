"""Environments: creation from an env spec, and the managers that step env workers.

``launch_unity_build`` is imported on first use: it brings mlagents-envs' gRPC side, which only the
processes that step a Unity build need.
"""

from rldojo.envs.factory import create_env
from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.manager import EnvironmentStep, EnvManager, InProcessEnvManager
from rldojo.envs.selection import create_env_manager
from rldojo.envs.subprocess_manager import SubprocessEnvManager
from rldojo.envs.supervision import EnvFailedInProcess, EnvWorkerFailed
from rldojo.lazy_imports import lazy_exports

__all__ = [
    "EnvFailedInProcess",
    "EnvLauncher",
    "EnvManager",
    "EnvWorkerFailed",
    "EnvironmentStep",
    "InProcessEnvManager",
    "SubprocessEnvManager",
    "create_env",
    "create_env_manager",
    "launch_unity_build",
]

__getattr__ = lazy_exports(__name__, {"launch_unity_build": "rldojo.envs.unity_build"})
