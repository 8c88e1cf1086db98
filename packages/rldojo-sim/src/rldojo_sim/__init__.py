"""rldojo-sim: headless simulated environments that speak the real ML-Agents wire protocol.

Each scene runs in process (``make_env``, a ``BaseEnv``) or as a launched build (``build``, an
executable that ``mlagents_envs.environment.UnityEnvironment(file_name=...)`` starts).

Public API: the names in ``__all__``, plus ``rldojo_sim.play`` (random and scripted episodes) and
``rldojo_sim.scenes.scene_class`` (a scene's heuristic). Every other module is internal.
"""

from rldojo_sim.builds import build
from rldojo_sim.environment import make_env
from rldojo_sim.errors import SceneOptionError, SimError, UnknownSceneError
from rldojo_sim.scenes import scene_names

__version__ = "0.1.0"

__all__ = [
    "SceneOptionError",
    "SimError",
    "UnknownSceneError",
    "__version__",
    "build",
    "make_env",
    "scene_names",
]
