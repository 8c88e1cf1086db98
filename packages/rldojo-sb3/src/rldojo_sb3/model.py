"""Building an SB3 algorithm for one behavior without giving it an environment to step.

SB3 reads the spaces from a :class:`SpacesOnlyEnv` (the behavior's Gymnasium spaces from
``rldojo_gym.spaces``); rldojo's env workers step the real environment and the trainer feeds SB3's buffers.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from mlagents_envs.base_env import BehaviorSpec
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

from rldojo.errors import ConfigError
from rldojo.settings import TrainerSettings
from rldojo_gym.spaces import ActionLayout, ObservationLayout
from rldojo_sb3.algorithms import ActionKind, Algorithm
from rldojo_sb3.settings import SB3HyperparamSettings

__all__ = ["SpacesOnlyEnv", "behavior_layouts_for", "build_model"]

ACTION_NOISES = {"normal": NormalActionNoise, "ornstein_uhlenbeck": OrnsteinUhlenbeckActionNoise}


class SpacesOnlyEnv(gymnasium.Env):
    """Carries a behavior's spaces into the SB3 constructor; it is never stepped."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space):
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        raise RuntimeError("rldojo's env workers step the environment; SB3 never resets this one")

    def step(self, action: Any) -> Any:
        raise RuntimeError("rldojo's env workers step the environment; SB3 never steps this one")


def behavior_layouts_for(
    algorithm: Algorithm, behavior: str, spec: BehaviorSpec
) -> tuple[ObservationLayout, ActionLayout]:
    """The behavior's spaces, or a ConfigError when ``algorithm`` cannot act in them."""
    where = f"behavior {behavior} ({algorithm.trainer_type})"
    if any(len(obs.shape) != 1 for obs in spec.observation_specs):
        raise ConfigError(f"{where}: sb3_* trainer types take vector observations only; use ppo or sac")
    if spec.action_spec.continuous_size and spec.action_spec.discrete_branches:
        raise ConfigError(f"{where}: SB3 has no hybrid (continuous + discrete) actions; use ppo or sac")
    actions = ActionLayout(spec.action_spec)
    kind = ActionKind(type(actions.space).__name__)
    if kind not in algorithm.action_kinds:
        accepted = ", ".join(k.value for k in algorithm.action_kinds)
        raise ConfigError(
            f"{where}: its actions are {kind.value} ({actions.space}) but "
            f"{algorithm.algorithm_class.__name__} takes {accepted}; choose another trainer_type"
        )
    return ObservationLayout(spec.observation_specs), actions


def _policy_kwargs(settings: TrainerSettings, given: dict[str, Any] | None) -> dict[str, Any]:
    """``network_settings`` as ``net_arch``, then the raw ``policy_kwargs`` (activation names allowed)."""
    network = settings.network_settings
    kwargs: dict[str, Any] = {"net_arch": [network.hidden_units] * network.num_layers, **(given or {})}
    activation = kwargs.get("activation_fn")
    if isinstance(activation, str):
        if not isinstance(getattr(torch.nn, activation, None), type):
            raise ConfigError(
                f"policy_kwargs.activation_fn '{activation}' is not a torch.nn module (e.g. Tanh)"
            )
        kwargs["activation_fn"] = getattr(torch.nn, activation)
    return kwargs


def _action_noise(given: Any, action_space: spaces.Space) -> Any:
    """``action_noise: {kind: normal|ornstein_uhlenbeck, sigma: 0.1}`` as an SB3 ActionNoise."""
    if not isinstance(given, dict):
        return given
    kind, sigma = given.get("kind", "normal"), float(given.get("sigma", 0.1))
    if kind not in ACTION_NOISES or set(given) - {"kind", "sigma"}:
        raise ConfigError(
            f"action_noise takes {{kind: {' | '.join(ACTION_NOISES)}, sigma: <std>}}, got {given}"
        )
    size = int(np.prod(action_space.shape or ()))
    return ACTION_NOISES[kind](mean=np.zeros(size), sigma=sigma * np.ones(size))


def build_model(
    algorithm: Algorithm,
    behavior: str,
    settings: TrainerSettings,
    layouts: tuple[ObservationLayout, ActionLayout],
    seed: int,
    device: torch.device,
) -> BaseAlgorithm:
    """The SB3 algorithm for one behavior, set up for ``settings.max_steps`` steps."""
    observations, actions = layouts
    assert isinstance(settings.hyperparameters, SB3HyperparamSettings)
    kwargs = settings.hyperparameters.algorithm_kwargs()
    kwargs["policy_kwargs"] = _policy_kwargs(settings, kwargs.get("policy_kwargs"))
    if "action_noise" in kwargs:
        kwargs["action_noise"] = _action_noise(kwargs["action_noise"], actions.space)
    policy = "MultiInputPolicy" if isinstance(observations.space, spaces.Dict) else "MlpPolicy"
    env = SpacesOnlyEnv(observations.space, actions.space)
    try:
        model = algorithm.algorithm_class(policy, env, seed=seed, device=device, verbose=0, **kwargs)
    except (TypeError, ValueError, AssertionError, KeyError) as error:
        raise ConfigError(
            f"behaviors.{behavior}.hyperparameters: {algorithm.algorithm_class.__name__} rejected them "
            f"({type(error).__name__}: {error})".splitlines()[0]
        ) from None
    model._total_timesteps = settings.max_steps
    return model
