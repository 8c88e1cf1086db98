"""OnPolicyTrainer: value estimates, GAE and the update buffer; ``num_epoch`` epochs of minibatches on every
``buffer_size`` steps. An algorithm on it supplies only its loss (an :class:`OnPolicyOptimizer`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.buffer import SEQUENCE_MASK, AgentBuffer, as_tensors, observations, padded_sequences
from rldojo.errors import ConfigError
from rldojo.networks import Actor, Critic, PlainMLP, RunningNormalizer, default_device
from rldojo.policy import Policy
from rldojo.settings import AdvantageNormalization, OnPolicyHyperparamSettings, TrainerSettings
from rldojo.trainers.optimizer import (
    HandGradients,
    Optimizer,
    UpdateStats,
    adam,
    adam_step,
    clip_grad_norm,
    overrides,
)
from rldojo.trainers.rl_trainer import RLTrainer
from rldojo.trainers.schedules import DecayedValue
from rldojo.trajectory import Trajectory

__all__ = [
    "OnPolicyOptimizer",
    "OnPolicySettingsT",
    "OnPolicyTrainer",
    "discounted_cumsum",
    "gae",
    "in_sequences",
    "normalized",
    "trajectories_gae",
]

OnPolicySettingsT = TypeVar("OnPolicySettingsT", bound=OnPolicyHyperparamSettings)


def discounted_cumsum(values: np.ndarray, discount: float, last: float = 0.0) -> np.ndarray:
    """``out[t] = values[t] + discount * out[t + 1]``, with ``out[T] = last``."""
    out = np.empty(len(values), dtype=np.float32)
    running = last
    for t in range(len(values) - 1, -1, -1):
        running = values[t] + discount * running
        out[t] = running
    return out


def gae(rewards: np.ndarray, values: np.ndarray, bootstrap: float, gamma: float, lambd: float) -> np.ndarray:
    """Advantages A_t = sum_k (gamma * lambd)^k delta_{t+k}, delta_t = r_t + gamma V_{t+1} - V_t.

    ``bootstrap`` is V after the last step: 0 when the episode terminated, the critic's estimate otherwise.
    """
    return trajectories_gae(rewards, values, np.array([bootstrap]), np.array([len(rewards)]), gamma, lambd)


def trajectories_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    bootstraps: np.ndarray,
    lengths: np.ndarray,
    gamma: float,
    lambd: float,
) -> np.ndarray:
    """:func:`gae` of several trajectories at once, vectorised over them: ``rewards`` and ``values`` [sum of
    ``lengths``] hold their steps one trajectory after the other, ``bootstraps`` [trajectories] the value
    after each one's last step. The same advantages [sum of lengths] as :func:`gae` trajectory by trajectory,
    bit for bit (float64 deltas and sums, float32 results)."""
    ends = np.cumsum(lengths)
    next_values = np.empty(len(values), dtype=np.float64)
    next_values[:-1] = values[1:]
    next_values[ends - 1] = bootstraps
    deltas = rewards + gamma * next_values - values
    # [trajectories, longest]: each trajectory's deltas from its first step, zeros after its last
    trajectory = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(len(values)) - np.repeat(ends - lengths, lengths)
    padded = np.zeros((len(lengths), int(lengths.max(initial=0))), dtype=np.float64)
    padded[trajectory, position] = deltas
    discount = gamma * lambd
    running = np.zeros(len(lengths), dtype=np.float64)
    for t in range(padded.shape[1] - 1, -1, -1):
        running = padded[:, t] + discount * running
        padded[:, t] = running
    return padded[trajectory, position].astype(np.float32)


def normalized(advantages: torch.Tensor, sequence_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Advantages shifted and scaled to mean 0 and standard deviation 1 (over the real steps: the padding
    of sequences, where ``sequence_mask`` is 0, is left out)."""
    real = advantages if sequence_mask is None else advantages[sequence_mask > 0]
    return (advantages - real.mean()) / (real.std() + 1e-10)


Estimate = Callable[[slice, torch.Tensor], tuple[dict[str, torch.Tensor], torch.Tensor | None]]
"""Estimates per name of some rows of a trajectory from the memory before them, and the memory after."""


def in_sequences(
    estimate: Estimate, steps: int, sequence_length: int, memory: torch.Tensor
) -> tuple[dict[str, np.ndarray], np.ndarray, torch.Tensor]:
    """``estimate`` over ``steps`` rows, sequence by sequence of ``sequence_length`` (the last may be
    shorter), each from the memory the one before left: the estimates [steps] per name, the memory at each
    sequence's start [sequences, memory_size] and the memory after the last row."""
    chunks: dict[str, list[torch.Tensor]] = {}
    starts = []
    for start in range(0, steps, sequence_length):
        starts.append(memory)
        values, next_memory = estimate(slice(start, start + sequence_length), memory)
        assert next_memory is not None, "estimates in sequences come from a network with memory"
        memory = next_memory
        for name, value in values.items():
            chunks.setdefault(name, []).append(value)
    estimates = {name: torch.cat(parts).cpu().numpy() for name, parts in chunks.items()}
    return estimates, torch.cat(starts).cpu().numpy(), memory


class OnPolicyOptimizer(Optimizer[OnPolicySettingsT, Policy[Actor]]):
    """A critic (its own encoder, the actor's with ``shared_critic``, or ``critic`` when given) and one Adam
    over actor and critic, with the gradient clipped to ``max_grad_norm`` when one is given.

    Subclasses write the loss in :meth:`update`, using :meth:`evaluate_actions`, :meth:`critic_values`,
    :meth:`masked_mean` and :meth:`apply_gradients`. With ``network_settings.memory`` a minibatch is whole
    sequences of :attr:`sequence_length` steps (padding masked out by :meth:`masked_mean`).
    """

    def __init__(
        self,
        policy: Policy[Actor],
        trainer_settings: TrainerSettings,
        shared_critic: bool = False,
        max_grad_norm: float | None = None,
        critic: Critic | None = None,
    ):
        super().__init__(policy, trainer_settings)
        hp = self.hyperparameters
        spec = policy.behavior_spec
        shared_encoder = policy.actor.encoder if shared_critic else None
        if critic is None:
            network = trainer_settings.network_settings
            if shared_critic and network.critic is not None:
                raise ConfigError(
                    "network_settings.critic sizes a critic of its own, but shared_critic puts the value "
                    "heads on the policy's network; remove one of them"
                )
            critic = Critic(
                self.reward_signal_names, spec.observation_specs, network.critic_settings(), shared_encoder
            )
        self.critic = critic.to(policy.device)
        parameters = {id(p): p for p in [*policy.actor.parameters(), *self.critic.parameters()]}
        self.parameters = list(parameters.values())
        self.optimizer = adam(self.parameters, hp)
        self.max_grad_norm = max_grad_norm
        self.decay_learning_rate = DecayedValue(
            hp.learning_rate_schedule, hp.learning_rate, 1e-10, trainer_settings.max_steps
        )
        self.num_obs = len(spec.observation_specs)
        memory = trainer_settings.network_settings.memory
        self.sequence_length = memory.sequence_length if memory is not None else 1
        self.actions_masked = True
        """Whether some action of the update buffer was not allowed (the trainer sets it per update);
        :meth:`evaluate_actions` skips masking otherwise (the same values, fewer operations)."""
        self.normalizes_observations = any(
            isinstance(module, RunningNormalizer)
            for network in (policy.actor, self.critic)
            for module in network.modules()
        )
        """Whether the actor or critic normalise observations with running statistics (``normalize``): the
        trainer then values each trajectory before the next one updates them."""

    def hand_gradients(self) -> HandGradients[PlainMLP] | None:
        """Gradient steps without autograd (:class:`HandGradients`) for an actor and a critic that are each
        a :class:`~rldojo.networks.PlainMLP` (the actor's output: its logits with discrete actions only, its
        Gaussian mean with continuous actions only; the log standard deviation loose), with no memory and
        encoders of their own; None otherwise, and where a subclass of the actor, the critic or this
        optimizer overrides a method the autograd loss goes through. A subclass whose loss has a
        hand-derived gradient opts in."""
        actor, head, critic = self.policy.actor, self.policy.actor.action_head, self.critic
        if actor.memory is not None or critic.memory is not None or critic.shares_encoder:
            return None
        if (head.logits is None) == (head.mean is None):
            return None  # hybrid actions
        if (
            overrides(actor, Actor, ["evaluate"])
            or overrides(critic, Critic, ["forward", "values_and_memories"])
            or overrides(self, OnPolicyOptimizer, ["evaluate_actions", "critic_values", "apply_gradients"])
        ):
            return None
        output = head.logits if head.logits is not None else head.mean
        assert output is not None
        actor_mlp = PlainMLP.of(actor.encoder, output)
        critic_mlp = PlainMLP.of(self.critic.encoder, self.critic.value_heads)
        if actor_mlp is None or critic_mlp is None:
            return None
        loose = [head.log_std] if head.log_std is not None else []
        return HandGradients.of([actor_mlp, critic_mlp], self.optimizer, self.max_grad_norm, loose)

    @torch.no_grad()
    def value_estimates(
        self, obs: Sequence[torch.Tensor], next_obs: Sequence[torch.Tensor], terminated: bool
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Critic values [T] per reward signal, and the value after the last step (0 if it terminated,
        unless the signal has ``ignore_done``)."""
        values, bootstraps = self.trajectory_value_estimates(obs, next_obs, np.array([terminated]))
        return values, {name: float(after[0]) for name, after in bootstraps.items()}

    @torch.no_grad()
    def trajectory_value_estimates(
        self, obs: Sequence[torch.Tensor], next_obs: Sequence[torch.Tensor], terminated: np.ndarray
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """:meth:`value_estimates` of several trajectories in one critic pass: ``obs`` holds their steps one
        trajectory after the other, ``next_obs`` [trajectories] the observation after each one's last step.
        Per reward signal the values [steps] and each trajectory's value after its last step [trajectories]
        (float64; 0 where ``terminated``, unless the signal has ``ignore_done``)."""
        steps = len(obs[0])
        rows = [torch.cat([o, after]) for o, after in zip(obs, next_obs, strict=True)]
        values, bootstraps = {}, {}
        for name, estimates in self.critic(rows).items():
            estimates = estimates.cpu().numpy()
            values[name] = estimates[:steps]
            bootstraps[name] = estimates[steps:].astype(np.float64)
            if not self.reward_signals[name].ignore_done:
                bootstraps[name][terminated] = 0.0
        return values, bootstraps

    def _bootstrap(self, next_values: dict[str, torch.Tensor], terminated: bool) -> dict[str, float]:
        return {
            name: 0.0 if terminated and not self.reward_signals[name].ignore_done else float(v[0])
            for name, v in next_values.items()
        }

    @torch.no_grad()
    def sequence_value_estimates(
        self,
        obs: Sequence[torch.Tensor],
        next_obs: Sequence[torch.Tensor],
        terminated: bool,
        memory: torch.Tensor,
    ) -> tuple[dict[str, np.ndarray], dict[str, float], np.ndarray, torch.Tensor]:
        """With memory: :meth:`value_estimates` from the critic's ``memory`` [1, memory_size] before the first
        step, run sequence by sequence; also the critic's memory at the start of each sequence
        [sequences, memory_size] and after the last step."""
        values, starts, memory = in_sequences(
            lambda rows, start: self.critic.values_and_memories(
                [o[rows] for o in obs], start, len(obs[0][rows])
            ),
            len(obs[0]),
            self.sequence_length,
            memory,
        )
        after, _ = self.critic.values_and_memories(next_obs, memory)
        return values, self._bootstrap(after, terminated), starts, memory

    def critic_values(
        self, obs: list[torch.Tensor], batch: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """The critic's values of a minibatch (with memory: from each sequence's stored critic memory)."""
        if "critic_memories" not in batch:
            return self.critic(obs)
        length = self.sequence_length
        return self.critic.values_and_memories(obs, batch["critic_memories"][::length], length)[0]

    @staticmethod
    def masked_mean(values: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean over the minibatch's real steps (all of them unless it is padded into sequences)."""
        if SEQUENCE_MASK not in batch:
            return values.mean()
        mask = batch[SEQUENCE_MASK].reshape(-1, *[1] * (values.dim() - 1)).expand_as(values)
        return (values * mask).sum() / mask.sum().clamp(min=1.0)

    def evaluate_actions(
        self, batch: dict[str, torch.Tensor]
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """The batch's observations, and the current policy's log-probabilities and entropy of its actions."""
        obs = observations(batch, self.num_obs)
        masks = batch["action_masks"] if self.policy.branch_sizes and self.actions_masked else None
        actions = (batch["continuous_actions"], batch["discrete_actions"])
        if "memories" not in batch:
            log_probs, entropy = self.policy.actor.evaluate(obs, masks, *actions)
        else:
            length = self.sequence_length
            log_probs, entropy = self.policy.actor.evaluate(
                obs, masks, *actions, memories=batch["memories"][::length], sequence_length=length
            )
        return obs, log_probs, entropy

    def apply_gradients(self, loss: torch.Tensor, learning_rate: float) -> None:
        """One Adam step on ``loss`` at ``learning_rate`` (gradient clipped to ``max_grad_norm``)."""
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
            for parameter in group["params"]:
                parameter.grad = None  # what zero_grad() does, without its dispatch wrapper's cost
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm(self.parameters, self.max_grad_norm)
        adam_step(self.optimizer)

    def stops_epochs(self, stats: UpdateStats) -> bool:
        """Whether the update ends after the minibatch that returned ``stats`` (e.g. PPO's ``target_kl``);
        never by default."""
        return False

    def update_normalization(self, observations: list[torch.Tensor]) -> None:
        """The critic's normalizer follows the policy's (a shared encoder is updated once, by the policy)."""
        self.critic.update_normalization(observations)

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """The Adam and the critic, by ML-Agents' names."""
        return {"Optimizer:value_optimizer": self.optimizer, "Optimizer:critic": self.critic}


class OnPolicyTrainer(RLTrainer[OnPolicySettingsT, Policy[Actor]]):
    """Base of on-policy trainers (PPO, A2C). Each trajectory gets value estimates and per-signal GAE and
    joins :attr:`update_buffer`; once it holds more than ``buffer_size`` steps (with ``rollout_cuts``:
    ``buffer_size`` steps), ``num_epoch`` epochs of
    ``batch_size`` minibatches (advantages normalised as ``advantage_normalization`` says) go to
    ``optimizer.update``, until the optimizer :meth:`~OnPolicyOptimizer.stops_epochs`.

    Update-buffer columns: ``obs_<i>``, ``continuous_actions``, ``discrete_actions``, ``log_probs``,
    ``action_masks``, ``rewards``, ``dones``, ``advantages``, per reward signal ``values_<signal>`` and
    ``returns_<signal>``, and ``next_obs_<i>`` when a signal other than ``extrinsic`` learns from them
    (each minibatch goes to ``optimizer.update_reward_signals`` too).
    With memory each trajectory joins as whole sequences (``sequence_mask`` marks the padding) with the
    policy's ``memories`` per step and the critic's ``critic_memories`` at each sequence's start; the
    critic's memory is carried from trajectory to trajectory of an episode.
    A subclass implements :meth:`create_optimizer` (returning an :class:`OnPolicyOptimizer`); the policy
    is an :class:`~rldojo.networks.Actor` unless it overrides :meth:`create_policy`.
    """

    optimizer: OnPolicyOptimizer[Any]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.update_buffer = AgentBuffer()
        self._pending: list[tuple[Trajectory, dict[str, np.ndarray]]] = []  # with its signals' rewards
        self._pending_steps = 0  # their steps
        self._critic_memories: dict[str, torch.Tensor] = {}  # per agent, between trajectories of an episode

    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> Policy[Actor]:
        """An :class:`~rldojo.networks.Actor` for ``behavior_spec`` from ``network_settings``."""
        network = self.trainer_settings.network_settings
        actor = Actor(behavior_spec.observation_specs, network, behavior_spec.action_spec)
        return Policy(behavior_spec, actor, default_device(), deterministic=network.deterministic)

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """The reward signals' rewards now; value estimates, per-signal GAE and returns later, in one critic
        pass for every trajectory waiting for them (see :meth:`estimate_pending`)."""
        assert self.policy is not None
        rewards = self.evaluate_reward_signals(trajectory)
        if self.is_training:
            if self.optimizer.normalizes_observations:  # the waiting ones are valued before this update
                self.estimate_pending()
            self.policy.update_normalization(trajectory.obs)
            self.optimizer.update_normalization(self.policy.to_tensors(trajectory.obs))
        self._pending.append((trajectory, rewards))
        self._pending_steps += len(trajectory)
        if trajectory.memories is not None:  # the critic's memory goes on from this trajectory to the next
            self.estimate_pending()

    def estimate_pending(self) -> None:
        """Value estimates, per-signal GAE and returns of the trajectories processed since the last call (one
        critic pass over all of them, GAE vectorised across them); they then join the update buffer.
        Called before every update and summary, so the buffer and the stats hold every trajectory by then."""
        pending, self._pending, self._pending_steps = self._pending, [], 0
        if not pending:
            return
        if pending[0][0].memories is not None:
            ((trajectory, rewards),) = pending
            self._join_update_buffer_in_sequences(trajectory, rewards)
            return
        assert self.policy is not None
        trajectories = [trajectory for trajectory, _ in pending]
        lengths = np.array([len(trajectory) for trajectory in trajectories])
        observations = range(self.optimizer.num_obs)
        values, bootstraps = self.optimizer.trajectory_value_estimates(
            self.policy.to_tensors([np.concatenate([t.obs[i] for t in trajectories]) for i in observations]),
            self.policy.to_tensors(
                [np.concatenate([t.next_obs[i] for t in trajectories]) for i in observations]
            ),
            np.array([trajectory.terminated for trajectory in trajectories]),
        )
        rewards = {name: np.concatenate([signals[name] for _, signals in pending]) for name in values}
        columns = self._transition_columns(trajectories)
        columns |= self._advantage_columns(rewards, values, bootstraps, lengths)
        if self.is_training:
            self.update_buffer.append(columns)

    def _transition_columns(self, trajectories: Sequence[Trajectory]) -> dict[str, np.ndarray]:
        """The trajectories' transitions and log-probabilities, one trajectory after the other (the next
        observations only when an intrinsic signal reads them)."""
        next_obs = self.optimizer.has_intrinsic_signals
        parts = [
            trajectory.transitions(next_obs=next_obs) | {"log_probs": trajectory.log_probs}
            for trajectory in trajectories
        ]
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    def _advantage_columns(
        self,
        rewards: dict[str, np.ndarray],
        values: dict[str, np.ndarray],
        bootstraps: dict[str, np.ndarray],
        lengths: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Per reward signal the values and returns, and the advantages (the signals' mean, as ML-Agents
        averages them) of steps of trajectories of ``lengths``; each trajectory's mean value goes to the
        stats."""
        columns, advantages = {}, []
        starts = np.cumsum(lengths) - lengths
        for name, signal in self.optimizer.reward_signals.items():
            signal_advantages = trajectories_gae(
                rewards[name],
                values[name],
                bootstraps[name],
                lengths,
                signal.gamma,
                self.hyperparameters.lambd,
            )
            columns[f"values_{name}"] = values[name]
            columns[f"returns_{name}"] = signal_advantages + values[name]
            advantages.append(signal_advantages)
            for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
                self.stats_reporter.add_stat(
                    f"Policy/{name.title()} Value Estimate",
                    float(values[name][start : start + length].mean()),
                )
        columns["advantages"] = np.mean(advantages, axis=0)
        return columns

    def _join_update_buffer_in_sequences(
        self, trajectory: Trajectory, rewards: dict[str, np.ndarray]
    ) -> None:
        """With memory: value estimates from the critic memory carried over, GAE and returns of one
        trajectory, which joins the update buffer as whole sequences."""
        assert self.policy is not None and trajectory.memories is not None
        obs = self.policy.to_tensors(trajectory.obs)
        next_obs = self.policy.to_tensors(trajectory.next_obs)
        values, bootstrap, critic_memory_starts = self._sequence_value_estimates(trajectory, obs, next_obs)
        bootstraps = {name: np.array([after]) for name, after in bootstrap.items()}
        columns = self._transition_columns([trajectory])
        columns |= self._advantage_columns(rewards, values, bootstraps, np.array([len(trajectory)]))
        length = self.optimizer.sequence_length
        columns = padded_sequences(columns | {"memories": trajectory.memories}, length)
        columns["critic_memories"] = np.repeat(critic_memory_starts, length, axis=0)
        if self.is_training:
            self.update_buffer.append(columns)

    def _sequence_value_estimates(
        self, trajectory: Trajectory, obs: list[torch.Tensor], next_obs: list[torch.Tensor]
    ) -> tuple[dict[str, np.ndarray], dict[str, float], np.ndarray]:
        """Value estimates with the critic's memory carried over from the episode's previous trajectory
        (zeros when this one starts the episode)."""
        memory = self._carried_memory(self._critic_memories, trajectory)
        values, bootstrap, starts, after = self.optimizer.sequence_value_estimates(
            obs, next_obs, trajectory.terminated, memory
        )
        self._carry_memory(self._critic_memories, trajectory, after)
        return values, bootstrap, starts

    def _carried_memory(self, memories: dict[str, torch.Tensor], trajectory: Trajectory) -> torch.Tensor:
        """[1, memory_size]: the critic memory ``memories`` kept for the agent after its episode's previous
        trajectory, or zeros when ``trajectory`` starts the episode or follows a group change (the policy's
        memory restarts there too)."""
        assert self.policy is not None
        memory = memories.pop(trajectory.agent_id, None)
        if memory is None or trajectory.memory_reset or trajectory.episode_length == len(trajectory):
            memory = torch.zeros(1, self.optimizer.critic.memory_size, device=self.policy.device)
        return memory

    @staticmethod
    def _carry_memory(memories: dict[str, torch.Tensor], trajectory: Trajectory, after: torch.Tensor) -> None:
        """Keep ``after`` for the agent's next trajectory if its episode goes on."""
        if not trajectory.done_reached:
            memories[trajectory.agent_id] = after

    def write_summary(self, step: int) -> None:
        """The summary, with the value estimates of every trajectory processed before it."""
        self.estimate_pending()
        super().write_summary(step)

    def _is_ready_update(self) -> bool:
        """More than ``buffer_size`` steps in the update buffer (ML-Agents' rule); with ``rollout_cuts``, at
        least ``buffer_size`` (SB3's)."""
        size = self.update_buffer.num_experiences + self._pending_steps
        buffer_size = self.hyperparameters.buffer_size
        return size >= buffer_size if self.hyperparameters.rollout_cuts else size > buffer_size

    def _minibatches(self, batch: dict[str, torch.Tensor]) -> Iterator[dict[str, torch.Tensor]]:
        """``num_epoch`` shuffled passes over the update buffer's rows in ``batch``, ``batch_size`` rows at a
        time (rows left over by the last full minibatch of a pass are left out of that pass); with memory,
        ``batch_size // sequence_length`` whole sequences at a time."""
        assert self.policy is not None
        device = self.policy.device
        length = self.optimizer.sequence_length  # whole sequences with memory, single steps without
        size = self.update_buffer.num_experiences
        sequences, per_batch = size // length, max(1, min(self.hyperparameters.batch_size, size) // length)
        steps = torch.arange(length, device=device)
        for _ in range(self.hyperparameters.num_epoch):
            order = torch.randperm(sequences, device=device)
            for start in range(0, sequences - per_batch + 1, per_batch):
                chosen = order[start : start + per_batch]
                indices = chosen if length == 1 else (chosen[:, None] * length + steps).reshape(-1)
                yield {key: column.index_select(0, indices) for key, column in batch.items()}

    def _update_policy(self) -> bool:
        """``num_epoch`` shuffled passes of ``batch_size`` minibatches through ``optimizer.update`` (ended
        early when the optimizer :meth:`~OnPolicyOptimizer.stops_epochs`); the buffer is then emptied."""
        assert self.policy is not None
        self.estimate_pending()
        normalization = self.hyperparameters.advantage_normalization
        batch = as_tensors(self.update_buffer.arrays(), self.policy.device)
        self.optimizer.actions_masked = not bool((batch["action_masks"] > 0.5).all())
        if normalization is AdvantageNormalization.BUFFER:
            batch["advantages"] = normalized(batch["advantages"], batch.get(SEQUENCE_MASK))
        stats = []
        for minibatch in self._minibatches(batch):
            if normalization is AdvantageNormalization.MINIBATCH:
                minibatch["advantages"] = normalized(minibatch["advantages"], minibatch.get(SEQUENCE_MASK))
            update_stats = self.optimizer.update(minibatch, self._step)
            stats.append({**update_stats, **self.optimizer.update_reward_signals(minibatch)})
            if self.optimizer.stops_epochs(update_stats):
                break
        self._report_update_stats(stats)
        self.update_buffer.clear()
        return True
