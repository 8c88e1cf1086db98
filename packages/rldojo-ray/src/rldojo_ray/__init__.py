"""rldojo on a Ray cluster: env runners as Ray actors (``rldojo learn --ray``), sweeps (``rldojo sweep``)."""

from rldojo_ray.cluster import connect
from rldojo_ray.manager import RayEnvManager, create_ray_env_manager
from rldojo_ray.runner import EnvRunner

__all__ = ["EnvRunner", "RayEnvManager", "connect", "create_ray_env_manager"]
