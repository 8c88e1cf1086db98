"""rldojo on a Ray cluster: env runners as Ray actors that the learner acts for or that act themselves
(``rldojo learn --ray``), sweeps (``rldojo sweep``).

The names in ``__all__`` are imported on first use: the ``rldojo sweep`` command's entry point imports
this package, and ``rldojo --help`` must not import Ray or torch.
Every other module is internal.
"""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports

if TYPE_CHECKING:
    from rldojo_ray.acting_manager import RayActingEnvManager
    from rldojo_ray.acting_runner import ActingEnvRunner
    from rldojo_ray.cluster import connect
    from rldojo_ray.manager import RayEnvManager, create_ray_env_manager
    from rldojo_ray.runner import EnvRunner

__version__ = "0.1.0"

__all__ = [
    "ActingEnvRunner",
    "EnvRunner",
    "RayActingEnvManager",
    "RayEnvManager",
    "__version__",
    "connect",
    "create_ray_env_manager",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ActingEnvRunner": "rldojo_ray.acting_runner",
        "EnvRunner": "rldojo_ray.runner",
        "RayActingEnvManager": "rldojo_ray.acting_manager",
        "RayEnvManager": "rldojo_ray.manager",
        "connect": "rldojo_ray.cluster",
        "create_ray_env_manager": "rldojo_ray.manager",
    },
)
