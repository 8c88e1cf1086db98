"""rldojo-gym: Unity ML-Agents environments as Gymnasium envs, and Gymnasium envs as ML-Agents envs.

- :class:`UnityGymEnv`: one agent of one behavior of any mlagents_envs ``BaseEnv``.
- :class:`UnityVectorEnv`: every agent of a behavior as a Gymnasium ``VectorEnv`` (same-step autoreset).
- :func:`rldojo_gym.sb3.to_sb3_vec_env`: that vector env as a Stable-Baselines3 ``VecEnv``.
- Gymnasium ids ``rldojo/<Scene>-v0`` for every scene of the installed scene catalogs (rldojo-sim's
  Basic, 3DBall, GridWorld, Tennis, ...) and ``rldojo/Unity-v0``, registered when this package is imported.
- The ``gym:`` env provider for rldojo's trainers (:mod:`rldojo_gym.provider`).
- :class:`GymEnvError`: what it raises for a behavior, space, option or action it cannot serve.

Public API: the names in ``__all__``, plus ``rldojo_gym.sb3``, ``rldojo_gym.provider`` and the
scene-catalog contract ``rldojo_gym.scene_catalogs``. Every other module is internal.
"""

from rldojo_gym.errors import GymEnvError
from rldojo_gym.gymnasium_base_env import GymnasiumBaseEnv
from rldojo_gym.registration import register_envs
from rldojo_gym.spaces import VisualFormat
from rldojo_gym.unity_env import UnityGymEnv
from rldojo_gym.vector_env import UnityVectorEnv

__version__ = "0.1.0"

__all__ = [
    "GymEnvError",
    "GymnasiumBaseEnv",
    "UnityGymEnv",
    "UnityVectorEnv",
    "VisualFormat",
    "__version__",
    "register_envs",
]

register_envs()
