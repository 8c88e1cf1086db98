"""MA-POCA (ML-Agents' cooperative trainer): PPO's policy update with a centralized critic over the agent's
group and a counterfactual baseline per agent.

Every member's return includes the group reward. The value (over all members' observations) gives the
lambda returns; the advantage of an agent's action is that return minus its baseline (its own observations
and its groupmates' observations and actions). An agent whose episode ends while its group plays on
bootstraps from the group's value, so an agent that leaves still shares in what the group earns later.

With ``network_settings.memory`` the policy, the value and the baseline each carry a memory per agent:
trajectories join the update buffer as padded sequences with the value's and the baseline's memory at
each sequence's start (``critic_memories``, ``baseline_memories``), and the losses are means over the
real steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch
from torch import nn

from rldojo.buffer import observations, padded_sequences
from rldojo.networks import Actor, ordered_signal_names
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.stats import StatsAggregationMethod
from rldojo.trainers.on_policy import OnPolicyOptimizer, OnPolicyTrainer, gae, in_sequences
from rldojo.trainers.optimizer import UpdateStats
from rldojo.trainers.poca.networks import GroupCritic, Groupmates
from rldojo.trainers.poca.settings import TRAINER_NAME, POCASettings
from rldojo.trainers.schedules import DecayedValue
from rldojo.trajectory import GroupSteps, Trajectory

__all__ = ["GroupMemories", "POCAOptimizer", "POCATrainer"]

MATE_CONTINUOUS = "mate_continuous_actions"
MATE_DISCRETE = "mate_discrete_actions"
MATES_PRESENT = "mates_present"


class GroupMemories(NamedTuple):
    """The value's and the baseline's memory of one agent [1, memory_size]."""

    value: torch.Tensor
    baseline: torch.Tensor


def mate_obs_key(index: int) -> str:
    """Update-buffer column of the groupmates' observation ``index``."""
    return f"mate_obs_{index}"


BASELINE_MEMORIES = "baseline_memories"


def clipped_value_loss(
    estimates: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], old_prefix: str, epsilon: float
) -> torch.Tensor:
    """Mean over reward signals of the squared error to the returns (over the real steps), each update
    clipped to ``epsilon`` around the estimate stored under ``old_prefix``."""
    losses = []
    for name, estimate in estimates.items():
        old, returns = batch[f"{old_prefix}_{name}"], batch[f"returns_{name}"]
        clipped = old + torch.clamp(estimate - old, -epsilon, epsilon)
        error = torch.max((returns - estimate) ** 2, (returns - clipped) ** 2)
        losses.append(OnPolicyOptimizer.masked_mean(error, batch))
    return torch.stack(losses).mean()


class POCAOptimizer(OnPolicyOptimizer[POCASettings]):
    """A :class:`GroupCritic` and one Adam over actor and critic; learning rate, epsilon and beta follow
    their schedules over ``max_steps``."""

    critic: GroupCritic
    former_module_names: ClassVar[dict[str, str]] = {"Optimizer:adam": "Optimizer:value_optimizer"}

    def __init__(self, policy: Policy[Actor], trainer_settings: TrainerSettings):
        hp = trainer_settings.hyperparameters
        assert isinstance(hp, POCASettings)
        spec = policy.behavior_spec
        critic = GroupCritic(
            ordered_signal_names(trainer_settings.reward_signals),
            spec.observation_specs,
            trainer_settings.network_settings,
            spec.action_spec,
        )
        super().__init__(policy, trainer_settings, critic=critic)
        max_steps = trainer_settings.max_steps
        self.decay_epsilon = DecayedValue(
            hp.epsilon_schedule or hp.learning_rate_schedule, hp.epsilon, 0.1, max_steps
        )
        self.decay_beta = DecayedValue(
            hp.beta_schedule or hp.learning_rate_schedule, hp.beta, 1e-5, max_steps
        )

    @torch.no_grad()
    def group_estimates(
        self, obs: Sequence[torch.Tensor], mates: Groupmates
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Values and baselines [T] per reward signal."""
        values = {name: v.cpu().numpy() for name, v in self.critic(obs, mates).items()}
        baselines = {name: b.cpu().numpy() for name, b in self.critic.baseline(obs, mates).items()}
        return values, baselines

    @torch.no_grad()
    def sequence_group_estimates(
        self, obs: Sequence[torch.Tensor], mates: Groupmates, memories: GroupMemories
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], GroupMemories]:
        """With memory: :meth:`group_estimates` sequence by sequence from the value's and the baseline's
        ``memories`` [1, memory_size] before the first step; also their memories at each sequence's start
        (update-buffer columns ``critic_memories`` and ``baseline_memories``, one row per sequence) and
        after the last step."""
        steps, length = len(obs[0]), self.sequence_length
        values, value_starts, value_after = in_sequences(
            lambda rows, memory: self.critic.values_and_memories(
                [o[rows] for o in obs], memory, len(obs[0][rows]), mates.rows(rows)
            ),
            steps,
            length,
            memories.value,
        )
        baselines, baseline_starts, baseline_after = in_sequences(
            lambda rows, memory: self.critic.baseline_and_memories(
                [o[rows] for o in obs], mates.rows(rows), memory, len(obs[0][rows])
            ),
            steps,
            length,
            memories.baseline,
        )
        starts = {"critic_memories": value_starts, BASELINE_MEMORIES: baseline_starts}
        return values, baselines, starts, GroupMemories(value_after, baseline_after)

    @torch.no_grad()
    def bootstrap_values(
        self, next_obs: Sequence[torch.Tensor], next_mates: Groupmates, memory: torch.Tensor | None = None
    ) -> dict[str, float]:
        """The group's value after the last step (the agent's next observation and its groupmates still
        playing; with memory, from the value's ``memory`` after the last step)."""
        values, _ = self.critic.values_and_memories(next_obs, memory, mates=next_mates)
        return {name: float(v[0]) for name, v in values.items()}

    def _current_estimates(
        self, obs: list[torch.Tensor], mates: Groupmates, batch: dict[str, torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Values and baselines of a minibatch under the current weights (with memory: from each sequence's
        stored memories)."""
        if "critic_memories" not in batch:
            return self.critic(obs, mates), self.critic.baseline(obs, mates)
        length = self.sequence_length
        values, _ = self.critic.values_and_memories(obs, batch["critic_memories"][::length], length, mates)
        baselines, _ = self.critic.baseline_and_memories(
            obs, mates, batch[BASELINE_MEMORIES][::length], length
        )
        return values, baselines

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """The Adam and the critic, by ML-Agents' POCA names."""
        return {"Optimizer:adam": self.optimizer, "Optimizer:critic": self.critic}

    def update(self, batch: dict[str, torch.Tensor], step: int) -> UpdateStats:
        lr, epsilon, beta = self.decay_learning_rate(step), self.decay_epsilon(step), self.decay_beta(step)
        obs, log_probs, entropy = self.evaluate_actions(batch)
        mates = Groupmates(
            observations(batch, self.num_obs, mate_obs_key),
            batch[MATE_CONTINUOUS],
            batch[MATE_DISCRETE],
            batch[MATES_PRESENT],
        )
        # ratio per action dimension, as ML-Agents computes it
        ratio = torch.exp(log_probs - batch["log_probs"])
        advantages = batch["advantages"].unsqueeze(1)
        clipped = torch.clamp(ratio, 1.0 - epsilon, 1.0 + epsilon)
        policy_loss = -self.masked_mean(torch.min(ratio * advantages, clipped * advantages), batch)
        values, baselines = self._current_estimates(obs, mates, batch)
        value_loss = clipped_value_loss(values, batch, "values", epsilon)
        baseline_loss = clipped_value_loss(baselines, batch, "baselines", epsilon)

        entropy_bonus = beta * self.masked_mean(entropy, batch)
        loss = policy_loss + 0.5 * (value_loss + 0.5 * baseline_loss) - entropy_bonus
        self.apply_gradients(loss, lr)
        return {
            "Losses/Policy Loss": policy_loss.detach().abs(),
            "Losses/Value Loss": value_loss.detach(),
            "Losses/Baseline Loss": baseline_loss.detach(),
            "Policy/Learning Rate": lr,
            "Policy/Epsilon": epsilon,
            "Policy/Beta": beta,
        }


class POCATrainer(OnPolicyTrainer[POCASettings]):
    """MA-POCA: an :class:`OnPolicyTrainer` whose trajectories carry their group (an agent outside any group
    is a group of one). Update-buffer columns besides PPO's: ``mate_obs_<i>``, ``mate_continuous_actions``,
    ``mate_discrete_actions``, ``mates_present`` and, per reward signal, ``baselines_<signal>``."""

    optimizer: POCAOptimizer

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._baseline_memories: dict[str, torch.Tensor] = {}  # per agent, as the critic's memories

    def create_optimizer(self) -> POCAOptimizer:
        assert self.policy is not None
        return POCAOptimizer(self.policy, self.trainer_settings)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """Values and baselines over the group, lambda returns of each reward signal (extrinsic: the agent's
        plus the group's rewards), advantages against the baselines; the trajectory then joins the update
        buffer."""
        assert self.policy is not None
        group = trajectory.group or _group_of_one(trajectory)
        obs = self.policy.to_tensors(trajectory.obs)
        if self.is_training:
            self.policy.update_normalization(trajectory.obs)
            self.optimizer.update_normalization(obs)
        mates = self._groupmates(group)
        next_mates = Groupmates(
            [obs[None] for obs in self.policy.to_tensors(group.next_mate_obs)],
            torch.zeros(0),  # the value needs no actions
            torch.zeros(0),
            torch.ones(1, len(group.next_mate_obs[0]), device=self.policy.device),
        )
        next_obs = self.policy.to_tensors(trajectory.next_obs)
        memory_starts: dict[str, np.ndarray] = {}
        if trajectory.memories is None:
            values, baselines = self.optimizer.group_estimates(obs, mates)
            bootstrap = self.optimizer.bootstrap_values(next_obs, next_mates)
        else:
            memories = GroupMemories(
                self._carried_memory(self._critic_memories, trajectory),
                self._carried_memory(self._baseline_memories, trajectory),
            )
            values, baselines, memory_starts, after = self.optimizer.sequence_group_estimates(
                obs, mates, memories
            )
            bootstrap = self.optimizer.bootstrap_values(next_obs, next_mates, after.value)
            self._carry_memory(self._critic_memories, trajectory, after.value)
            self._carry_memory(self._baseline_memories, trajectory, after.baseline)
        group_terminated = trajectory.terminated and group.all_done
        for name, signal in self.optimizer.reward_signals.items():
            if group_terminated and not signal.ignore_done:
                bootstrap[name] = 0.0
        rewards = self.evaluate_reward_signals(trajectory)

        columns = trajectory.transitions() | {"log_probs": trajectory.log_probs}
        if not self.optimizer.has_intrinsic_signals:  # only they read the next observations
            columns = {key: column for key, column in columns.items() if not key.startswith("next_obs_")}
        columns |= {mate_obs_key(i): o for i, o in enumerate(group.mate_obs)} | {
            MATE_CONTINUOUS: group.mate_continuous_actions,
            MATE_DISCRETE: group.mate_discrete_actions,
            MATES_PRESENT: group.mates_present,
        }
        advantages = []
        for name, signal in self.optimizer.reward_signals.items():
            lambda_returns = values[name] + gae(
                rewards[name], values[name], bootstrap[name], signal.gamma, self.hyperparameters.lambd
            )
            columns[f"values_{name}"] = values[name]
            columns[f"baselines_{name}"] = baselines[name]
            columns[f"returns_{name}"] = lambda_returns
            advantages.append(lambda_returns - baselines[name])
            self.stats_reporter.add_stat(f"Policy/{name.title()} Value Estimate", float(values[name].mean()))
            self.stats_reporter.add_stat(
                f"Policy/{name.title()} Baseline Estimate", float(baselines[name].mean())
            )
        columns["advantages"] = np.mean(advantages, axis=0)
        if trajectory.memories is not None:
            length = self.optimizer.sequence_length
            columns = padded_sequences(columns | {"memories": trajectory.memories}, length)
            columns |= {key: np.repeat(starts, length, axis=0) for key, starts in memory_starts.items()}
        if self.is_training:
            self.update_buffer.append(columns)
        if trajectory.done_reached and group.all_done:
            self.stats_reporter.add_stat(
                "Environment/Group Cumulative Reward",
                group.episode_group_return,
                StatsAggregationMethod.HISTOGRAM,
            )

    def _groupmates(self, group: GroupSteps) -> Groupmates:
        assert self.policy is not None
        device = self.policy.device
        return Groupmates(
            self.policy.to_tensors(group.mate_obs),
            torch.as_tensor(group.mate_continuous_actions, device=device),
            torch.as_tensor(group.mate_discrete_actions, device=device),
            torch.as_tensor(group.mates_present, device=device),
        )


def _group_of_one(trajectory: Trajectory) -> GroupSteps:
    """The group columns of an agent outside any group: no groupmates, no group reward."""
    steps = len(trajectory)
    return GroupSteps(
        rewards=np.zeros(steps, dtype=np.float32),
        mate_obs=[np.zeros((steps, 0, *obs.shape[1:]), dtype=obs.dtype) for obs in trajectory.obs],
        mate_continuous_actions=np.zeros(
            (steps, 0, trajectory.continuous_actions.shape[1]), dtype=np.float32
        ),
        mate_discrete_actions=np.zeros((steps, 0, trajectory.discrete_actions.shape[1]), dtype=np.int64),
        mates_present=np.zeros((steps, 0), dtype=np.float32),
        next_mate_obs=[np.zeros((0, *obs.shape[1:]), dtype=obs.dtype) for obs in trajectory.obs],
        all_done=True,
        episode_group_return=0.0,
    )
