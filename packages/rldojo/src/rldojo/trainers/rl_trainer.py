"""RLTrainer: the lifecycle of every trainer (ML-Agents' trainer API, as its plugin tutorial documents it).

A trainer owns one behavior: it creates the policy and optimizer, takes trajectories in, updates the
policy when enough experience is gathered, and holds the state a checkpoint saves. When summaries and
checkpoints are written (and ONNX exported) is the controller's business, not the trainer's.
"""

from __future__ import annotations

import abc
import logging
import warnings
from collections import defaultdict, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Generic, cast

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.checkpoint import load_checkpoint, load_latest_checkpoint, restore_rng_state
from rldojo.errors import RldojoError
from rldojo.export.spec import behavior_spec_state
from rldojo.networks import reorder_streams
from rldojo.reward_signals.base import transition_batch
from rldojo.settings import CoreHyperparamSettings, TrainerSettings
from rldojo.stats import StatsAggregationMethod, StatsPropertyType, StatsReporter
from rldojo.trainers.behavioral_cloning import BehavioralCloning
from rldojo.trainers.demonstrations import check_demonstrations
from rldojo.trainers.optimizer import Optimizer, PolicyT, SettingsT, UpdateStats
from rldojo.trainers.reward_normalization import ReturnNormalizer
from rldojo.trajectory import Trajectory

__all__ = ["RLTrainer"]

logger = logging.getLogger(__name__)


class RLTrainer(abc.ABC, Generic[SettingsT, PolicyT]):
    """Base trainer, generic over its settings class and its policy. Subclasses implement
    :meth:`create_policy`, :meth:`create_optimizer`, :meth:`_process_trajectory`, :meth:`_is_ready_update`
    and :meth:`_update_policy` (:class:`OnPolicyTrainer` and :class:`OffPolicyTrainer` implement the last
    three). None of them needs to call ``super()``: counting steps and episodes happens before the hook.
    """

    def __init__(
        self,
        behavior_name: str,
        reward_buff_cap: int,
        trainer_settings: TrainerSettings,
        training: bool,
        resume: bool,
        seed: int,
        artifact_path: str | Path,
        *,
        stats_reporter: StatsReporter | None = None,
    ):
        self.behavior_name = behavior_name
        self.trainer_settings = trainer_settings
        # the registry validated ``hyperparameters:`` with the settings class of this trainer type
        self.hyperparameters = cast(SettingsT, trainer_settings.hyperparameters)
        self.is_training = training
        self.resume = resume
        self.seed = seed
        self.artifact_path = Path(artifact_path)
        self._stats_reporter = stats_reporter or StatsReporter(behavior_name)
        self._reward_buffer: deque[float] = deque(maxlen=reward_buff_cap)
        self.policy: PolicyT | None = None
        self.optimizer: Optimizer[SettingsT, PolicyT] | None = None
        self.behavioral_cloning: BehavioralCloning | None = None
        self.trajectory_queue: deque[Trajectory] = deque()
        self._step = 0
        self.reward_normalizer = self._reward_normalizer()
        self._episode_signal_rewards: defaultdict[str, defaultdict[str, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        self._stats_reporter.add_property(
            StatsPropertyType.HYPERPARAMETERS, trainer_settings.model_dump(mode="json")
        )

    def _reward_normalizer(self) -> ReturnNormalizer | None:
        """With ``norm_reward`` (rldojo's own trainer bases), what scales every trajectory's rewards."""
        hp = self.hyperparameters
        if not (isinstance(hp, CoreHyperparamSettings) and hp.norm_reward):
            return None
        extrinsic = self.trainer_settings.reward_signals.get("extrinsic")
        return ReturnNormalizer(extrinsic.gamma if extrinsic else 0.99, hp.clip_reward)

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

    @property
    def brain_name(self) -> str:
        """Deprecated name of :attr:`behavior_name`."""
        warnings.warn("RLTrainer.brain_name is now behavior_name", DeprecationWarning, stacklevel=2)
        return self.behavior_name

    @property
    def load(self) -> bool:
        """Deprecated name of :attr:`resume`."""
        warnings.warn("RLTrainer.load is now resume", DeprecationWarning, stacklevel=2)
        return self.resume

    # ----- what a trainer type supplies -----
    @abc.abstractmethod
    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> PolicyT:
        """A new policy for ``behavior_spec`` (``parsed_behavior_id`` may carry ``?team=N``)."""

    @abc.abstractmethod
    def create_optimizer(self) -> Optimizer[SettingsT, PolicyT]:
        """The optimizer for ``self.policy`` (called once the policy is set)."""

    @abc.abstractmethod
    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """Turn one trajectory into training data (steps and episodes are already counted)."""

    @abc.abstractmethod
    def _is_ready_update(self) -> bool:
        """Whether enough experience was gathered for :meth:`_update_policy`."""

    @abc.abstractmethod
    def _update_policy(self) -> bool:
        """Update the policy from the gathered experience; True when it changed."""

    @staticmethod
    def get_trainer_name() -> str:
        """The ``trainer_type:`` this class is registered under."""
        raise NotImplementedError

    def _trainer_state(self) -> dict[str, Any]:
        """Extra state a checkpoint keeps for ``--resume`` (tensors and primitives only)."""
        return {}

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`_trainer_state` returned."""

    # ----- lifecycle -----
    def add_policy(self, parsed_behavior_id: str, policy: PolicyT) -> None:
        """Adopt ``policy``, check the behavior's demonstrations against its spec, create the optimizer (and
        behavioral cloning, when set), then resume or initialise from a checkpoint if asked."""
        self.policy = policy
        check_demonstrations(self.trainer_settings.demo_paths(), policy.behavior_spec, self.behavior_name)
        self.optimizer = self.create_optimizer()
        cloning = self.trainer_settings.behavioral_cloning
        if cloning is not None and self.is_training:
            self.behavioral_cloning = BehavioralCloning(
                cloning,
                policy,
                self.behavior_name,
                self.hyperparameters.learning_rate,
                self.hyperparameters.batch_size,
                self.trainer_settings.trainer_type,
                memory.sequence_length if (memory := self.trainer_settings.network_settings.memory) else 1,
            )
        if self.resume:
            self.load_state(load_latest_checkpoint(self.artifact_path, policy.device), full=True)
        elif self.trainer_settings.init_path:
            self.load_state(load_checkpoint(Path(self.trainer_settings.init_path), policy.device), full=False)

    def get_policy(self, name_behavior_id: str) -> PolicyT:
        assert self.policy is not None, "add_policy() was not called"
        return self.policy

    def advance(self) -> None:
        """Process the trajectories received since the last call, then update the policy when ready."""
        while self.trajectory_queue:
            self.process_trajectory(self.trajectory_queue.popleft())
        self.update_when_ready()

    def process_trajectory(self, trajectory: Trajectory) -> None:
        """Count the trajectory's steps, then the hook :meth:`_process_trajectory` (rewards normalised first
        with ``norm_reward``), then report the episode it ended (if any)."""
        self._step += len(trajectory)
        self._stats_reporter.set_stat("Step", float(self._step))
        if self.reward_normalizer is not None:
            trajectory = self.reward_normalizer.normalize(trajectory)
        self._process_trajectory(trajectory)
        if trajectory.done_reached:
            self._report_episode(trajectory)

    @torch.no_grad()
    def evaluate_reward_signals(
        self, trajectory: Trajectory, transitions: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Each reward signal's rewards [T] for the trajectory, times its ``strength``; their sums count
        towards the episode's ``Policy/<Signal> Reward``. ``transitions``: ``trajectory.transitions()``
        (with more columns, if any), when the caller has them already."""
        assert self.policy is not None and self.optimizer is not None
        batch = transition_batch(trajectory, self.policy.device, transitions)
        rewards = {}
        for name, signal in self.optimizer.reward_signals.items():
            rewards[name] = signal.rewards(batch).float().cpu().numpy() * np.float32(signal.strength)
            self._episode_signal_rewards[name][trajectory.agent_id] += float(rewards[name].sum())
        return rewards

    def update_when_ready(self) -> bool:
        """:meth:`_update_policy` while training, once :meth:`_is_ready_update`; behavioral cloning follows
        every update that changed the policy. Whether the policy changed."""
        if not (self.should_still_train and self._is_ready_update()):
            return False
        if not self._update_policy():
            return False
        if self.behavioral_cloning is not None:
            self._report_update_stats([self.behavioral_cloning.update(self._step)])
        return True

    def _report_episode(self, trajectory: Trajectory) -> None:
        """The episode's return (the agent processor totals it), in the reward buffer and the stats; each
        reward signal's total from :meth:`evaluate_reward_signals` as ``Policy/<Signal> Reward``."""
        total = trajectory.episode_return
        self._reward_buffer.append(total)
        self._stats_reporter.add_stat(
            "Environment/Cumulative Reward", total, StatsAggregationMethod.HISTOGRAM
        )
        self._stats_reporter.add_episode(trajectory.agent_id, total, trajectory.episode_length, self._step)
        for name, per_agent in self._episode_signal_rewards.items():
            if trajectory.agent_id in per_agent:
                episode_reward = per_agent.pop(trajectory.agent_id)
                self._stats_reporter.add_stat(f"Policy/{name.title()} Reward", episode_reward)

    def write_summary(self, step: int) -> None:
        """Hand this summary period's stats to the writers, labelled ``step`` (the controller calls it)."""
        self._stats_reporter.add_stat("Is Training", float(self.should_still_train))
        self._stats_reporter.write_stats(int(step))

    def _report_update_stats(self, stats: Sequence[UpdateStats]) -> None:
        """Report the mean of each value over the batches of one update. Tensor values are averaged on
        their device and read back together, once per update rather than once per batch."""
        if not stats:
            return
        keys = list(stats[0])
        on_device = [key for key in keys if isinstance(stats[0][key], torch.Tensor)]
        means = {key: sum(float(s[key]) for s in stats) / len(stats) for key in keys if key not in on_device}
        if on_device:
            columns = [torch.stack([torch.as_tensor(s[key]) for s in stats]) for key in on_device]
            read_back = torch.stack(columns).float().mean(dim=1).tolist()  # one synchronisation
            means |= dict(zip(on_device, read_back, strict=True))
        for key in keys:
            self._stats_reporter.add_stat(key, means[key])

    # ----- checkpoints -----
    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """Everything with a state dict that a checkpoint holds, by ML-Agents' module names."""
        assert self.policy is not None and self.optimizer is not None
        return {"Policy": self.policy.actor, **self.optimizer.get_modules()}

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to resume at the current step (the controller writes it to a file)."""
        assert self.policy is not None
        return {
            "behavior_name": self.behavior_name,
            "behavior_spec": behavior_spec_state(self.policy.behavior_spec),
            "trainer_type": self.trainer_settings.trainer_type,
            "modules": {name: module.state_dict() for name, module in self.get_modules().items()},
            "reward_signals": {
                name: signal.state_dict() for name, signal in self._optimizer().reward_signals.items()
            },
            "value_head_order": list(self._optimizer().reward_signal_names),
            "trainer_state": self._trainer_state(),
            "reward_normalizer": self.reward_normalizer.state_dict() if self.reward_normalizer else None,
            "behavioral_cloning": self.behavioral_cloning.state_dict() if self.behavioral_cloning else None,
        }

    def _optimizer(self) -> Optimizer[SettingsT, PolicyT]:
        assert self.optimizer is not None, "add_policy() was not called"
        return self.optimizer

    def load_state(self, state: dict[str, Any], full: bool) -> None:
        """Load a checkpoint: networks only (``--initialize-from``) or everything (``--resume``)."""
        saved_signals = state.get("reward_signals", {})
        # older checkpoints: heads in the order of the YAML they were written with (as their signals)
        saved_order = state.get("value_head_order", list(saved_signals))
        names = self._optimizer().reward_signal_names
        if full and saved_order and sorted(saved_order) != sorted(names):
            raise RldojoError(
                f"the checkpoint of {self.behavior_name} was trained with the reward signals "
                f"{', '.join(saved_order)}, and this configuration has {', '.join(names)}: its value heads "
                "answer for one signal each, so --resume needs the run's reward_signals (in any order); give "
                "them back, or train a new run"
            )
        saved, former_names = state["modules"], self._optimizer().former_module_names
        for name, module in self.get_modules().items():
            key = name if name in saved else former_names.get(name, name)
            if key not in saved:
                raise RldojoError(
                    f"the checkpoint of {self.behavior_name} has no '{name}' "
                    f"(it has {sorted(saved)}); was it written by another trainer type?"
                )
            if full or isinstance(module, nn.Module):
                try:
                    module.load_state_dict(saved[key])
                except (RuntimeError, ValueError) as error:
                    raise RldojoError(
                        f"the checkpoint's '{name}' of {self.behavior_name} does not fit this network: it "
                        "was written with other network_settings or by an rldojo whose network differs "
                        f"({str(error).splitlines()[0]}); train afresh or give its settings back"
                    ) from error
        if saved_order != names and sorted(saved_order) == sorted(names):
            reorder_streams(self.get_modules().values(), saved_order)
        for name, signal in self._optimizer().reward_signals.items():
            if name in saved_signals:
                signal.load_state_dict(saved_signals[name], full)
            elif signal.get_modules():
                logger.warning(
                    "the checkpoint of %s has no state for reward signal '%s'; it starts afresh",
                    self.behavior_name,
                    name,
                )
        if full:
            self._step = int(state["step"])
            self._stats_reporter.set_stat("Step", float(self._step))
            self._load_trainer_state(state["trainer_state"])
            if self.reward_normalizer is not None and state.get("reward_normalizer"):
                self.reward_normalizer.load_state_dict(state["reward_normalizer"])
            if self.behavioral_cloning is not None and state.get("behavioral_cloning"):
                self.behavioral_cloning.load_state_dict(state["behavioral_cloning"])
            restore_rng_state(state["rng"])
