"""Environments: creation from an env spec, and the managers that step env workers."""

from rldojo.envs.factory import create_env
from rldojo.envs.manager import EnvironmentStep, EnvManager, InProcessEnvManager
from rldojo.envs.unity_build import launch_unity_build

__all__ = ["EnvManager", "EnvironmentStep", "InProcessEnvManager", "create_env", "launch_unity_build"]
