"""A :class:`~rldojo_gym.UnityVectorEnv` as a Stable-Baselines3 ``VecEnv`` (needs stable-baselines3).

Any Gymnasium ``VectorEnv`` in ``AutoresetMode.SAME_STEP`` works the same way.

All agents of the scene train together through one simulation::

    from stable_baselines3 import PPO
    from rldojo_gym.sb3 import to_sb3_vec_env

    venv = to_sb3_vec_env(gymnasium.make_vec("rldojo/3DBall-v0"))
    PPO("MlpPolicy", venv).learn(50_000)

SB3 autoresets in the same step as Gymnasium's ``SAME_STEP`` mode, so episode ends map directly:
``dones = terminated | truncated``, the last observation in ``info["terminal_observation"]`` and
``info["TimeLimit.truncated"]`` for interrupted episodes (so SB3 bootstraps them). The slots share
one scene: ``get_attr``/``set_attr``/``env_method`` act on that scene once, except
``env_method("action_masks")``, which gives each slot its own mask (for sb3-contrib's MaskablePPO).
:func:`to_sb3_vec_env` wraps the adapter in SB3's ``VecMonitor``, so episode returns and lengths
reach ``info["episode"]`` and SB3 logs ``rollout/ep_rew_mean`` and ``rollout/ep_len_mean``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from rldojo_gym.errors import GymEnvError
from rldojo_gym.spaces import take_row

try:
    from stable_baselines3.common.vec_env import VecEnv, VecMonitor
    from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn
except ImportError as error:
    raise ImportError("rldojo_gym.sb3 needs Stable-Baselines3: pip install stable-baselines3") from error

__all__ = ["UnitySB3VecEnv", "to_sb3_vec_env"]


class UnitySB3VecEnv(VecEnv):
    """Stable-Baselines3 ``VecEnv`` over a :class:`~rldojo_gym.UnityVectorEnv`; one slot per agent."""

    def __init__(self, env: VectorEnv):
        mode = env.metadata.get("autoreset_mode")
        if mode is not AutoresetMode.SAME_STEP:
            raise GymEnvError(
                f"SB3 resets an env in the step that ends its episode: give a VectorEnv in "
                f"AutoresetMode.SAME_STEP (as UnityVectorEnv is), not {mode}"
            )
        self.env = env
        self._actions: np.ndarray | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> VecEnvObs:
        # SB3's seed(s) asks for s, s+1, ... per slot; the slots share one scene, seeded with s.
        observations, info = self.env.reset(seed=self._seeds[0])
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._slot_infos(info)
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminated, truncated, info = self.env.step(self._actions)
        infos = self._slot_infos(info)
        for slot in np.flatnonzero(terminated | truncated):
            infos[slot]["terminal_observation"] = info["final_obs"][slot]
            infos[slot]["TimeLimit.truncated"] = bool(truncated[slot] and not terminated[slot])
        return observations, rewards.astype(np.float32), terminated | truncated, infos

    def _slot_infos(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if "action_mask" in info:
            for slot, slot_info in enumerate(infos):
                slot_info["action_mask"] = take_row(info["action_mask"], slot)
        return infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.env, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        slots: Sequence[int] = list(self._get_indices(indices))
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        if method_name == "action_masks":
            return [result[slot] for slot in slots]
        return [result for _ in slots]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def to_sb3_vec_env(env: VectorEnv) -> VecMonitor:
    """Adapt ``env`` (e.g. ``gymnasium.make_vec("rldojo/3DBall-v0")``) to Stable-Baselines3, monitored.

    The result is ``VecMonitor(UnitySB3VecEnv(env))``: SB3 sees each finished episode's return and
    length (``info["episode"]``), as with its own ``make_vec_env``.
    """
    return VecMonitor(UnitySB3VecEnv(env))
