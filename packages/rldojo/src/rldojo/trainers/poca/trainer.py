"""MA-POCA (ML-Agents' cooperative trainer): PPO's policy update with a centralized critic over the agent's
group and a counterfactual baseline per agent.

Every member's return includes the group reward. The value (over all members' observations) gives the
lambda returns; the advantage of an agent's action is that return minus its baseline (its own observations
and its groupmates' observations and actions). An agent whose episode ends while its group plays on
bootstraps from the group's value, so an agent that leaves still shares in what the group earns later.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rldojo.buffer import observations
from rldojo.networks import Actor
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.stats import StatsAggregationMethod
from rldojo.trainers.on_policy import OnPolicyOptimizer, OnPolicyTrainer, gae
from rldojo.trainers.optimizer import UpdateStats
from rldojo.trainers.poca.networks import GroupCritic, Groupmates
from rldojo.trainers.poca.settings import TRAINER_NAME, POCASettings
from rldojo.trainers.schedules import DecayedValue
from rldojo.trajectory import GroupSteps, Trajectory

__all__ = ["POCAOptimizer", "POCATrainer"]

MATE_CONTINUOUS = "mate_continuous_actions"
MATE_DISCRETE = "mate_discrete_actions"
MATES_PRESENT = "mates_present"


def mate_obs_key(index: int) -> str:
    """Update-buffer column of the groupmates' observation ``index``."""
    return f"mate_obs_{index}"


def clipped_value_loss(
    estimates: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], old_prefix: str, epsilon: float
) -> torch.Tensor:
    """Mean over reward signals of the squared error to the returns, each update clipped to ``epsilon``
    around the estimate stored under ``old_prefix``."""
    losses = []
    for name, estimate in estimates.items():
        old, returns = batch[f"{old_prefix}_{name}"], batch[f"returns_{name}"]
        clipped = old + torch.clamp(estimate - old, -epsilon, epsilon)
        losses.append(torch.max((returns - estimate) ** 2, (returns - clipped) ** 2).mean())
    return torch.stack(losses).mean()


class POCAOptimizer(OnPolicyOptimizer[POCASettings]):
    """A :class:`GroupCritic` and one Adam over actor and critic; learning rate, epsilon and beta follow
    their schedules over ``max_steps``."""

    critic: GroupCritic

    def __init__(self, policy: Policy[Actor], trainer_settings: TrainerSettings):
        hp = trainer_settings.hyperparameters
        assert isinstance(hp, POCASettings)
        spec = policy.behavior_spec
        critic = GroupCritic(
            list(trainer_settings.reward_signals),
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
    def bootstrap_values(self, next_obs: Sequence[torch.Tensor], next_mates: Groupmates) -> dict[str, float]:
        """The group's value after the last step (the agent's next observation and its groupmates still
        playing)."""
        return {name: float(v[0]) for name, v in self.critic(next_obs, next_mates).items()}

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
        policy_loss = -torch.min(ratio * advantages, clipped * advantages).mean()
        value_loss = clipped_value_loss(self.critic(obs, mates), batch, "values", epsilon)
        baseline_loss = clipped_value_loss(self.critic.baseline(obs, mates), batch, "baselines", epsilon)

        loss = policy_loss + 0.5 * (value_loss + 0.5 * baseline_loss) - beta * entropy.mean()
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
        values, baselines = self.optimizer.group_estimates(obs, mates)
        next_mates = Groupmates(
            [obs[None] for obs in self.policy.to_tensors(group.next_mate_obs)],
            torch.zeros(0),  # the value needs no actions
            torch.zeros(0),
            torch.ones(1, len(group.next_mate_obs[0]), device=self.policy.device),
        )
        bootstrap = self.optimizer.bootstrap_values(self.policy.to_tensors(trajectory.next_obs), next_mates)
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
