"""RLTrainer: the base of every trainer (ML-Agents' trainer API, as its plugin tutorial documents it).

A trainer owns one behavior: it creates the policy and optimizer, receives trajectories, counts steps,
writes summaries every ``summary_freq`` steps and checkpoints every ``checkpoint_interval`` steps.
"""

from __future__ import annotations

import abc
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.checkpoint import (
    load_checkpoint,
    load_latest_checkpoint,
    restore_rng_state,
    save_trainer_checkpoint,
)
from rldojo.errors import RldojoError
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.stats import StatsAggregationMethod, StatsPropertyType, StatsReporter
from rldojo.trainers.optimizer import Optimizer
from rldojo.trajectory import Trajectory

__all__ = ["RLTrainer"]


class RLTrainer(abc.ABC):
    """Base trainer. Subclasses implement :meth:`create_policy`, :meth:`create_optimizer`,
    :meth:`_is_ready_update` and :meth:`_update_policy`, and extend :meth:`_process_trajectory`
    (calling ``super()`` first)."""

    def __init__(
        self,
        behavior_name: str,
        reward_buff_cap: int,
        trainer_settings: TrainerSettings,
        training: bool,
        load: bool,
        seed: int,
        artifact_path: str | Path,
        *,
        stats_reporter: StatsReporter | None = None,
    ):
        self.brain_name = behavior_name
        self.trainer_settings = trainer_settings
        self.hyperparameters: Any = trainer_settings.hyperparameters
        self.is_training = training
        self.load = load
        self.seed = seed
        self.artifact_path = Path(artifact_path)
        self._stats_reporter = stats_reporter or StatsReporter(behavior_name)
        self._reward_buffer: deque[float] = deque(maxlen=reward_buff_cap)
        self.policy: Policy | None = None
        self.optimizer: Optimizer | None = None
        self.trajectory_queue: deque[Trajectory] = deque()
        self._episode_rewards: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._episode_lengths: dict[str, int] = defaultdict(int)
        self._step = 0
        self._next_summary_step = trainer_settings.summary_freq
        self._next_save_step = trainer_settings.checkpoint_interval
        self._stats_reporter.add_property(
            StatsPropertyType.HYPERPARAMETERS, trainer_settings.model_dump(mode="json")
        )

    # ----- properties of ML-Agents' Trainer -----
    @property
    def stats_reporter(self) -> StatsReporter:
        return self._stats_reporter

    @property
    def parameters(self) -> TrainerSettings:
        return self.trainer_settings

    @property
    def get_step(self) -> int:
        return self._step

    @property
    def get_max_steps(self) -> int:
        return self.trainer_settings.max_steps

    @property
    def should_still_train(self) -> bool:
        return self.is_training and self._step < self.get_max_steps

    @property
    def reward_buffer(self) -> deque[float]:
        """Cumulative rewards of the most recent episodes (``reward_buff_cap`` of them)."""
        return self._reward_buffer

    # ----- what a trainer type supplies -----
    @abc.abstractmethod
    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> Policy:
        """A new policy for ``behavior_spec``."""

    @abc.abstractmethod
    def create_optimizer(self) -> Optimizer:
        """The optimizer for ``self.policy``."""

    @abc.abstractmethod
    def _is_ready_update(self) -> bool:
        """Whether enough experience was gathered for :meth:`_update_policy`."""

    @abc.abstractmethod
    def _update_policy(self) -> bool:
        """Update the policy from the gathered experience; True when it changed."""

    @staticmethod
    def get_trainer_name() -> str:
        raise NotImplementedError

    # ----- policy and lifecycle -----
    def add_policy(self, parsed_behavior_id: str, policy: Policy) -> None:
        """Adopt ``policy``, create the optimizer, then resume or initialise from a checkpoint if asked."""
        self.policy = policy
        self.optimizer = self.create_optimizer()
        if self.load:
            self._load_state(load_latest_checkpoint(self.artifact_path, policy.device), full=True)
        elif self.trainer_settings.init_path:
            self._load_state(
                load_checkpoint(Path(self.trainer_settings.init_path), policy.device), full=False
            )

    def get_policy(self, name_behavior_id: str) -> Policy:
        assert self.policy is not None, "add_policy() was not called"
        return self.policy

    def advance(self) -> None:
        """Process the trajectories received since the last call, then update the policy when ready."""
        while self.trajectory_queue:
            self._process_trajectory(self.trajectory_queue.popleft())
        if self.should_still_train and self._is_ready_update():
            self._update_policy()

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """Count steps, write summaries and checkpoints at their intervals, track episode rewards."""
        step_after = self._step + len(trajectory)
        if step_after >= self._next_summary_step and self._step != 0:
            self._write_summary(self._next_summary_step)
        if step_after >= self._next_save_step and self._step != 0:
            self.save_model()
        self._increment_step(len(trajectory))
        if trajectory.episode_start:  # what was counted for this agent before was a dropped episode
            self._episode_lengths.pop(trajectory.agent_id, None)
            for totals in self._episode_rewards.values():
                totals.pop(trajectory.agent_id, None)
        self._episode_lengths[trajectory.agent_id] += len(trajectory)
        self._add_episode_reward("environment", trajectory, trajectory.rewards.sum())

    def _add_episode_reward(self, signal: str, trajectory: Trajectory, reward: float) -> None:
        """Accumulate ``reward`` for the agent's episode; report the total when the episode ends."""
        totals = self._episode_rewards[signal]
        totals[trajectory.agent_id] += float(reward)
        if not trajectory.done_reached:
            return
        total = totals.pop(trajectory.agent_id)
        if signal == "environment":
            self._reward_buffer.append(total)
            self._stats_reporter.add_stat(
                "Environment/Cumulative Reward", total, StatsAggregationMethod.HISTOGRAM
            )
            length = self._episode_lengths.pop(trajectory.agent_id)
            self._stats_reporter.add_episode(trajectory.agent_id, total, length, self._step)
        else:
            self._stats_reporter.add_stat(f"Policy/{signal.title()} Reward", total)

    def _increment_step(self, n_steps: int) -> None:
        self._step += n_steps
        interval = self.trainer_settings.summary_freq
        self._next_summary_step = self._step + interval - self._step % interval
        interval = self.trainer_settings.checkpoint_interval
        self._next_save_step = self._step + interval - self._step % interval
        self._stats_reporter.set_stat("Step", float(self._step))

    def _write_summary(self, step: int) -> None:
        self._stats_reporter.add_stat("Is Training", float(self.should_still_train))
        self._stats_reporter.write_stats(int(step))

    def _report_update_stats(self, stats: list[dict[str, float]]) -> None:
        """Report the mean of each value over the minibatches of one update."""
        for key in stats[0] if stats else ():
            self._stats_reporter.add_stat(key, sum(s[key] for s in stats) / len(stats))

    # ----- checkpoints -----
    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """Everything with a state dict that a checkpoint holds, by ML-Agents' module names."""
        assert self.policy is not None and self.optimizer is not None
        return {"Policy": self.policy.actor, **self.optimizer.get_modules()}

    def _trainer_state(self) -> dict[str, Any]:
        """Extra state of a trainer type (tensors and primitives only); see OffPolicyTrainer."""
        return {}

    def _load_trainer_state(self, state: dict[str, Any]) -> None:  # noqa: B027 (optional hook)
        """Restore what :meth:`_trainer_state` returned."""

    def save_model(self, final: bool = False) -> Path:
        """Write a checkpoint of everything needed to resume at the current step, then (best effort) its
        ONNX model beside it; the final one is also copied to ``<run folder>/<behavior>.onnx``."""
        from rldojo.export import behavior_spec_state, export_beside_checkpoint  # it imports the trainers

        assert self.policy is not None
        state = {
            "behavior_name": self.brain_name,
            "behavior_spec": behavior_spec_state(self.policy.behavior_spec),
            "trainer_type": self.trainer_settings.trainer_type,
            "modules": {name: module.state_dict() for name, module in self.get_modules().items()},
            "trainer_state": self._trainer_state(),
        }
        step_file = save_trainer_checkpoint(
            self.artifact_path,
            self.brain_name,
            self._step,
            state,
            self.trainer_settings.keep_checkpoints,
            sum(self._reward_buffer) / len(self._reward_buffer) if self._reward_buffer else None,
            final=final,
        )
        final_model = self.artifact_path.parent / f"{self.artifact_path.name}.onnx" if final else None
        export_beside_checkpoint(self.policy.actor, self.policy.behavior_spec, step_file, final_model)
        return step_file

    def _load_state(self, state: dict[str, Any], full: bool) -> None:
        """Load a checkpoint: networks only (``--initialize-from``) or everything (``--resume``)."""
        for name, module in self.get_modules().items():
            if name not in state["modules"]:
                raise RldojoError(
                    f"the checkpoint of {self.brain_name} has no '{name}' "
                    f"(it has {sorted(state['modules'])}); was it written by another trainer type?"
                )
            if full or isinstance(module, nn.Module):
                module.load_state_dict(state["modules"][name])
        if full:
            self._step = int(state["step"])
            self._increment_step(0)
            self._load_trainer_state(state["trainer_state"])
            restore_rng_state(state["rng"])
