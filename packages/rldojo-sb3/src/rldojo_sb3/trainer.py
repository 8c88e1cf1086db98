"""SB3Trainer: an rldojo trainer whose policy, buffers and ``train()`` are a Stable-Baselines3 algorithm's.

rldojo's env workers and AgentProcessor deliver trajectories of every agent of the behavior; the trainer
writes them into SB3's buffer and calls the algorithm's ``train()`` at SB3's cadence (a full rollout of
``n_steps`` rows for PPO/A2C; ``gradient_steps`` every ``train_freq`` after ``learning_starts`` for
off-policy algorithms), keeping ``num_timesteps``, the progress schedules, ``_on_step`` (DQN's
exploration rate and target updates) and ``_n_updates`` as SB3 keeps them when it drives an env with
``n_envs=1``. Checkpoints hold the SB3 policy, its optimizers and variables, and the replay buffer.
"""

from __future__ import annotations

import abc
import operator
from collections import deque
from typing import Any

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.type_aliases import TrainFrequencyUnit
from stable_baselines3.common.utils import obs_as_tensor
from torch import nn

from rldojo.errors import ConfigError
from rldojo.networks import default_device
from rldojo.trainers import RLTrainer
from rldojo.trainers.optimizer import Optimizer
from rldojo.trajectory import Trajectory
from rldojo_sb3.algorithms import algorithms
from rldojo_sb3.buffers import (
    RolloutSegment,
    add_transitions,
    buffer_actions,
    fill_rollout_buffer,
    load_replay_buffer_state,
    replay_buffer_state,
)
from rldojo_sb3.model import behavior_layouts_for, build_model
from rldojo_sb3.network import SB3PolicyNetwork
from rldojo_sb3.policy import SampledActions, SB3Policy
from rldojo_sb3.sampling import sample_actor_critic
from rldojo_sb3.stats_logger import stats_reporter_logger

__all__ = ["SB3OffPolicyTrainer", "SB3OnPolicyTrainer", "SB3Trainer"]


class SB3Optimizers(Optimizer[Any, SB3Policy]):
    """The SB3 model's torch optimizers, for checkpoints; SB3's ``train()`` does the updates."""

    def __init__(self, policy: SB3Policy, model: BaseAlgorithm, trainer_settings: Any):
        super().__init__(policy, trainer_settings)
        self.model = model

    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        raise NotImplementedError("sb3_* trainers update through the SB3 algorithm's train()")

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        state_dicts, _ = self.model._get_torch_save_params()
        return {
            f"SB3:{name}": operator.attrgetter(name)(self.model) for name in state_dicts if name != "policy"
        }


def _forget_last_distributions(policy: nn.Module) -> None:
    """SB3 keeps, on the policy, the action distribution of the last batch it evaluated: after ``train()``
    one holding that batch's autograd graph, which cannot be deep-copied (ONNX export copies the policy)
    and holds memory. Every use builds a new one first, so it is dropped."""
    for module in policy.modules():
        action_dist = getattr(module, "action_dist", None)
        if action_dist is not None and hasattr(action_dist, "distribution"):
            del action_dist.distribution


class SB3Trainer(RLTrainer[Any, SB3Policy]):
    """Base of the sb3_* trainer types; the algorithm is the one named by ``trainer_type``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.algorithm = algorithms()[self.trainer_settings.trainer_type]
        if self.trainer_settings.network_settings.normalize:
            raise ConfigError(
                f"behaviors.{self.behavior_name}.network_settings.normalize: SB3 policies do not normalise "
                "observations; set it to false for sb3_* trainer types"
            )
        self.model: Any = (
            None  # the SB3 algorithm (OnPolicyAlgorithm or OffPolicyAlgorithm), built with the policy
        )

    @staticmethod
    def get_trainer_name() -> str:
        return "sb3"

    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> SB3Policy:
        layouts = behavior_layouts_for(self.algorithm, self.behavior_name, behavior_spec)
        device = default_device()
        self.model = build_model(
            self.algorithm, self.behavior_name, self.trainer_settings, layouts, self.seed, device
        )
        self.model.set_logger(stats_reporter_logger(self.stats_reporter))
        self.model.policy.set_training_mode(False)  # acting mode, as after each train()
        observations = layouts[0]
        keys = observations.keys if len(observations.keys) > 1 else None
        network = SB3PolicyNetwork(self.model.policy, behavior_spec, keys)
        return SB3Policy(behavior_spec, network, self.model.device, observations, self.sample_actions)

    def create_optimizer(self) -> SB3Optimizers:
        assert self.policy is not None
        return SB3Optimizers(self.policy, self.model, self.trainer_settings)

    @abc.abstractmethod
    def sample_actions(self, observations: Any) -> SampledActions:
        """Exploring actions, as the algorithm's own rollout collection chooses them."""

    def _observations(self, batch: list[np.ndarray]) -> Any:
        assert self.policy is not None
        return self.policy.layout.convert(batch)

    def _train(self, train: Any) -> None:
        """Run one SB3 ``train`` call at the current progress, then pass its logger output on."""
        self.model._update_current_progress_remaining(self.model.num_timesteps, self.get_max_steps)
        train()
        self.model.policy.set_training_mode(False)  # as SB3's predict() sets it for acting
        _forget_last_distributions(self.model.policy)
        self.model.logger.dump(step=self._step)

    def _trainer_state(self) -> dict[str, Any]:
        _, variables = self.model._get_torch_save_params()
        return {
            "num_timesteps": int(self.model.num_timesteps),
            "n_updates": int(self.model._n_updates),
            "variables": {name: operator.attrgetter(name)(self.model).detach().cpu() for name in variables},
        }

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        self.model.num_timesteps = int(state["num_timesteps"])
        self.model._n_updates = int(state["n_updates"])
        with torch.no_grad():
            for name, value in state["variables"].items():
                operator.attrgetter(name)(self.model).copy_(value)


class SB3OnPolicyTrainer(SB3Trainer):
    """PPO, A2C: a RolloutBuffer of ``n_steps`` rows (all agents), trained when full."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pending: deque[RolloutSegment] = deque()

    def sample_actions(self, observations: Any) -> SampledActions:
        return sample_actor_critic(self.model.policy, observations)

    @torch.no_grad()
    def _values(self, observations: Any) -> np.ndarray:
        tensors = obs_as_tensor(observations, self.model.device)
        return self.model.policy.predict_values(tensors).cpu().numpy().reshape(-1)

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        if not self.is_training:
            return
        self.model.num_timesteps = self._step
        obs = self._observations(trajectory.obs)
        values = self._values(obs)
        rewards = trajectory.rewards.copy()
        if not trajectory.terminated:
            rewards[-1] += self.model.gamma * self._values(self._observations(trajectory.next_obs))[0]
        segment = RolloutSegment(obs, buffer_actions(trajectory), rewards, values, trajectory.log_probs[:, 0])
        self.pending.append(segment)
        fill_rollout_buffer(self.model.rollout_buffer, self.pending, self.model.gamma)

    def _is_ready_update(self) -> bool:
        return bool(self.model.rollout_buffer.full)

    def _update_policy(self) -> bool:
        buffer = self.model.rollout_buffer
        # every segment's last reward already holds its bootstrap: no value after the buffer's last row
        buffer.compute_returns_and_advantage(last_values=torch.zeros(1), dones=np.ones(1))
        self._train(self.model.train)
        buffer.reset()
        fill_rollout_buffer(buffer, self.pending, self.model.gamma)
        return True


class SB3OffPolicyTrainer(SB3Trainer):
    """DQN, SAC, TD3 (QR-DQN, TQC): a ReplayBuffer of transitions, ``train(gradient_steps)`` every
    ``train_freq`` steps (or episodes) once ``learning_starts`` steps were collected."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.collected = 0  # train_freq units (steps or episodes) since the last train()
        self.collected_steps = 0  # steps since the last train(), for gradient_steps: -1

    def sample_actions(self, observations: Any) -> SampledActions:
        model = self.model
        n = len(next(iter(observations.values())) if isinstance(observations, dict) else observations)
        if hasattr(model, "exploration_rate"):  # DQN, QR-DQN: epsilon-greedy, one draw per agent
            explore = np.random.rand(n) < model.exploration_rate
            choices = np.random.randint(model.action_space.n, size=n)
            if not explore.all():  # as SB3's predict: no network pass while every agent explores
                choices = np.where(explore, choices, self._policy_actions(observations))
            return SampledActions(choices.reshape(n, 1), np.zeros((n, 0)), np.zeros(0))
        if self.is_training and model.num_timesteps < model.learning_starts and not model.use_sde_at_warmup:
            actions = np.random.uniform(-1.0, 1.0, size=(n, *model.action_space.shape))
        else:  # the squashed policy output is the scaled action
            actions = self._policy_actions(observations)
        if model.action_noise is not None:
            actions = np.clip(actions + np.stack([model.action_noise() for _ in range(n)]), -1.0, 1.0)
        return SampledActions(actions.reshape(n, -1), np.zeros((n, 0)), np.zeros(0))

    @torch.no_grad()
    def _policy_actions(self, observations: Any) -> np.ndarray:
        """The policy's actions for a batch: DQN's greedy ones, SAC's and TD3's sampled (``policy._predict``,
        without ``predict``'s per-call checks; :meth:`_train` leaves the policy in evaluation mode)."""
        return self.model.policy._predict(obs_as_tensor(observations, self.model.device)).cpu().numpy()

    def _on_row(self) -> None:
        """One environment step of one agent, as SB3 counts it with ``n_envs=1``."""
        self.model.num_timesteps += 1
        self.model._update_current_progress_remaining(self.model.num_timesteps, self.get_max_steps)
        self.model._on_step()

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        if not self.is_training:
            return
        obs = self._observations(trajectory.obs)
        next_obs = self._observations(trajectory.next_observations())
        add_transitions(self.model.replay_buffer, obs, next_obs, trajectory, self._on_row)
        if self.model.num_timesteps <= self.model.learning_starts:
            return  # SB3 trains no rollout collected during the warm-up
        by_episode = self.model.train_freq.unit is TrainFrequencyUnit.EPISODE
        self.collected += int(trajectory.done_reached) if by_episode else len(trajectory)
        self.collected_steps += len(trajectory)

    def _is_ready_update(self) -> bool:
        return self.collected >= self.model.train_freq.frequency

    def _update_policy(self) -> bool:
        model = self.model
        rollouts, self.collected = divmod(self.collected, model.train_freq.frequency)
        steps = model.gradient_steps * rollouts if model.gradient_steps >= 0 else self.collected_steps
        self.collected_steps = 0
        if steps <= 0:
            return False
        self._train(lambda: model.train(gradient_steps=steps, batch_size=model.batch_size))
        return True

    def _trainer_state(self) -> dict[str, Any]:
        state = super()._trainer_state()
        state["collected"] = [self.collected, self.collected_steps]
        state["n_calls"] = int(getattr(self.model, "_n_calls", 0))
        state["exploration_rate"] = float(getattr(self.model, "exploration_rate", 0.0))
        if self.hyperparameters.save_replay_buffer:
            state["replay_buffer"] = replay_buffer_state(self.model.replay_buffer)
        return state

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        super()._load_trainer_state(state)
        self.collected, self.collected_steps = (int(n) for n in state["collected"])
        if hasattr(self.model, "_n_calls"):
            self.model._n_calls = state["n_calls"]
        if hasattr(self.model, "exploration_rate"):
            self.model.exploration_rate = state["exploration_rate"]
        if state.get("replay_buffer") is not None:
            load_replay_buffer_state(self.model.replay_buffer, state["replay_buffer"])
