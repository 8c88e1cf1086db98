"""SAC with ML-Agents' structure: twin Q-networks, a state-value network with a soft-updated target, and
entropy coefficients learned per action part (continuous, each discrete branch), for continuous, discrete
(masked, multi-branch) and hybrid actions."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple, cast

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.buffer import SEQUENCE_MASK, next_obs_key, observations
from rldojo.networks import Critic, PlainMLP, StackedMLP, clip_continuous, default_device
from rldojo.networks.mlp_gradients import HandNetwork
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.trainers.off_policy import OffPolicyTrainer
from rldojo.trainers.optimizer import (
    HandGradients,
    Optimizer,
    TargetNetwork,
    UpdateStats,
    adam,
    adam_step,
    mean_of,
    overrides,
)
from rldojo.trainers.sac.gradients import squashed_gaussian_gradient, twin_minimum_gradient
from rldojo.trainers.sac.networks import (
    PolicyDistribution,
    SACActor,
    TwinQEnsemble,
    squashed_gaussian,
    twin_q_networks,
)
from rldojo.trainers.sac.policy import SACPolicy
from rldojo.trainers.sac.settings import TRAINER_NAME, SACSettings
from rldojo.trainers.schedules import DecayedValue

__all__ = ["EntropyCoefficients", "SACHandGradients", "SACLosses", "SACOptimizer", "SACTrainer"]

DISCRETE_TARGET_ENTROPY_SCALE = 0.2


def _real_rows(values: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
    """The rows of ``values`` that ``real`` marks (the steps of sequences, not their padding); all of them,
    with no indexing operation, when ``real`` is None."""
    return values if real is None else values[real]


@contextmanager
def _frozen(parameters: list[nn.Parameter]) -> Iterator[None]:
    """``parameters`` take no gradient from what is computed inside (their values still carry it onward)."""
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)


class EntropyCoefficients(nn.Module):
    """log(alpha) for the continuous actions and for each discrete branch, with their target entropies;
    fixed (not ``learned``) when SB3's ``ent_coef`` gives a number."""

    def __init__(
        self,
        continuous_size: int,
        branch_sizes: tuple[int, ...],
        initial: float,
        learned: bool = True,
        continuous_target: float | None = None,
    ):
        super().__init__()
        self.learned = learned
        self.log_continuous = nn.Parameter(torch.tensor(math.log(initial)), requires_grad=learned)
        self.log_discrete = nn.Parameter(
            torch.full((len(branch_sizes),), math.log(initial)), requires_grad=learned
        )
        self.continuous_target = -float(continuous_size) if continuous_target is None else continuous_target
        self.discrete_targets = [DISCRETE_TARGET_ENTROPY_SCALE * math.log(size) for size in branch_sizes]

    def entropy_bonus(self, policy: PolicyDistribution) -> torch.Tensor:
        """[batch]: sum over action parts of alpha * E[log pi] (negative: alpha times the entropy)."""
        bonus = self.log_continuous.exp().detach() * policy.continuous_log_probs.sum(dim=1)
        for alpha, branch in zip(self.log_discrete.exp().detach(), policy.branch_log_probs, strict=True):
            bonus = bonus + alpha * (branch.exp() * branch).sum(dim=1)
        return bonus

    def loss(self, policy: PolicyDistribution) -> torch.Tensor:
        """Raises alpha where the policy's entropy is below its target and lowers it where above."""
        terms = []
        if policy.continuous_log_probs.shape[1]:
            gap = policy.continuous_log_probs.sum(dim=1) + self.continuous_target  # target - entropy
            terms.append(-(self.log_continuous * gap.detach()).mean())
        for log_alpha, branch, target in zip(
            self.log_discrete, policy.branch_log_probs, self.discrete_targets, strict=True
        ):
            gap = (branch.exp() * branch).sum(dim=1) + target
            terms.append(-(log_alpha * gap.detach()).mean())
        return terms[0] if len(terms) == 1 else torch.stack(terms).sum()


class SACLosses(NamedTuple):
    """One gradient step's losses: the policy's (moves the actor), the twin Q networks' and the state value's
    (move the value networks), the entropy coefficients' (None when they are fixed)."""

    policy: torch.Tensor
    q1: torch.Tensor
    q2: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor | None


@dataclass(frozen=True)
class SACHandGradients:
    """The networks of a SAC gradient step without autograd, and a :class:`HandGradients` for the policy's
    optimizer and one for the value networks'."""

    actor: PlainMLP
    q_networks: StackedMLP
    value: PlainMLP
    target: PlainMLP
    policy_step: HandGradients[PlainMLP]
    value_step: HandGradients[HandNetwork]


class SACOptimizer(Optimizer[SACSettings, Policy[SACActor]]):
    """Three Adam optimizers (policy, value networks, entropy coefficients) updated from one minibatch.

    Each reward signal has its own twin Q heads and state-value head, with its own discount; the policy
    maximises their mean, as in ML-Agents.

    With memory a minibatch is whole sequences: the actor starts each from the memory it acted with, the
    value networks (Q, V and target) from zeros; the padding after a trajectory's end is left out of the
    losses.
    """

    def __init__(self, policy: Policy[SACActor], trainer_settings: TrainerSettings):
        super().__init__(policy, trainer_settings)
        hp = self.hyperparameters
        spec = policy.behavior_spec
        network = trainer_settings.network_settings
        device = policy.device
        self.actor = policy.actor
        streams = self.reward_signal_names
        critic = network.critic_settings()
        q_networks = twin_q_networks(streams, spec.observation_specs, critic, spec.action_spec)
        self.q_networks = q_networks.to(device)
        self.value_network = Critic(streams, spec.observation_specs, critic).to(device)
        self.target = TargetNetwork(self.value_network)
        self.target_network = self.target.network
        self.entropy = EntropyCoefficients(
            spec.action_spec.continuous_size,
            self.actor.branch_sizes,
            hp.initial_entropy_coefficient,
            hp.learns_entropy_coefficient,
            hp.target_entropy,
        ).to(device)
        self.policy_optimizer = adam(self.actor.parameters(), hp)
        self.value_optimizer = adam([*self.q_networks.parameters(), *self.value_network.parameters()], hp)
        self.entropy_optimizer = adam(self.entropy.parameters(), hp)
        if isinstance(self.q_networks, TwinQEnsemble):  # loads Adam state from before the stacking
            ensemble, value_parameters = self.q_networks, len(list(self.value_network.parameters()))
            self.value_optimizer.register_load_state_dict_pre_hook(
                lambda _, state: ensemble.stack_adam_state(state, value_parameters)
            )
        self.q_parameters = list(self.q_networks.parameters())
        self.optimizers = [self.policy_optimizer, self.value_optimizer]
        if self.entropy.learned:
            self.optimizers.append(self.entropy_optimizer)
        self.decay_learning_rate = DecayedValue(
            hp.learning_rate_schedule, hp.learning_rate, 1e-10, trainer_settings.max_steps
        )
        self.num_obs = len(spec.observation_specs)
        self.sequence_length = network.memory.sequence_length if network.memory is not None else 1
        self.branch_offsets = torch.tensor([0, *self.actor.branch_sizes[:-1]], device=device).cumsum(0)
        """Each branch's first column in a row of discrete Q-values."""
        self.by_hand = self.hand_gradients()
        """Steps without autograd where the networks allow (:meth:`hand_gradients`); None: autograd."""

    def hand_gradients(self) -> SACHandGradients | None:
        """Gradient steps without autograd for continuous actions, vector observations and no memory (the
        actor, value and target networks each a :class:`~rldojo.networks.PlainMLP`, the twin Q networks a
        :class:`TwinQEnsemble`); None otherwise, and where a subclass of this optimizer or of its networks
        overrides a method the autograd loss goes through."""
        if self.actor.branch_sizes or self.actor.gaussian is None or self.actor.memory is not None:
            return None
        if (
            type(self.q_networks) is not TwinQEnsemble
            or type(self.value_network) is not Critic
            or self.value_network.memory is not None
            or overrides(self, SACOptimizer, ["losses", "update", "expected_q", "taken_q"])
            or overrides(self.actor, SACActor, ["distribution"])
        ):
            return None
        actor = PlainMLP.of(self.actor.encoder, self.actor.gaussian)
        q_networks = self.q_networks.stacked_mlp()
        value = PlainMLP.of(self.value_network.encoder, self.value_network.value_heads)
        target = PlainMLP.of(self.target_network.encoder, self.target_network.value_heads)
        if actor is None or q_networks is None or value is None or target is None:
            return None
        policy_step = HandGradients.of([actor], self.policy_optimizer, None)
        networks: list[HandNetwork] = [q_networks, value]
        value_step = HandGradients.of(networks, self.value_optimizer, None)
        if policy_step is None or value_step is None:
            return None
        return SACHandGradients(actor, q_networks, value, target, policy_step, value_step)

    def expected_q(self, q_values: torch.Tensor, policy: PolicyDistribution) -> torch.Tensor:
        """[batch]: Q under the policy's discrete probabilities (mean over branches), or Q itself."""
        if not policy.branch_log_probs:
            return q_values[:, 0]
        branches = torch.split(q_values, list(self.actor.branch_sizes), dim=1)
        per_branch = [
            (b.exp() * q).sum(dim=1) for b, q in zip(policy.branch_log_probs, branches, strict=True)
        ]
        return torch.stack(per_branch, dim=1).mean(dim=1)

    def taken_q(self, q_values: torch.Tensor, discrete: torch.Tensor) -> torch.Tensor:
        """[batch, branches]: Q of the stored discrete actions, or [batch, 1] for continuous actions only."""
        if not self.actor.branch_sizes:
            return q_values
        return q_values.gather(1, discrete.long() + self.branch_offsets)

    def losses(self, batch: dict[str, torch.Tensor]) -> SACLosses:
        """The losses of one gradient step on ``batch`` (the policy's sample drawn from torch's stream)."""
        obs = observations(batch, self.num_obs)
        next_obs = observations(batch, self.num_obs, next_obs_key)
        masks = batch["action_masks"] if self.actor.branch_sizes else None
        length = self.sequence_length
        real = batch[SEQUENCE_MASK] > 0 if SEQUENCE_MASK in batch else None  # None: every row is real
        with torch.no_grad():
            next_values = self.target_network.values_and_memories(next_obs, None, length)[0]
            q_targets = {}
            for name, signal in self.reward_signals.items():
                rewards = signal.rewards(batch) * signal.strength
                not_done = 1.0 if signal.ignore_done else 1.0 - batch["dones"]
                q_target = rewards + signal.gamma * not_done * next_values[name]
                q_targets[name] = _real_rows(q_target, real).unsqueeze(1)
        stored_continuous = clip_continuous(batch["continuous_actions"])  # what the environment received
        q1_taken, q2_taken = (
            {
                name: _real_rows(self.taken_q(q, batch["discrete_actions"]), real)
                for name, q in stream_q.items()
            }
            for stream_q in self.q_networks(obs, stored_continuous, length)
        )
        q1_loss = mean_of([((q1_taken[n] - q_targets[n]) ** 2).mean() for n in q_targets]) / 2
        q2_loss = mean_of([((q2_taken[n] - q_targets[n]) ** 2).mean() for n in q_targets]) / 2

        memories = batch["memories"][::length] if "memories" in batch else None
        sequences = self.actor.distribution(obs, masks, memories=memories, sequence_length=length)
        with _frozen(self.q_parameters):  # the policy loss moves the actor only
            q1_policy, q2_policy = self.q_networks(obs, sequences.continuous, length)
        policy = sequences if real is None else sequences.rows(real)
        expected_q = {
            n: self.expected_q(_real_rows(torch.min(q1_policy[n], q2_policy[n]), real), policy)
            for n in q1_policy
        }
        entropy_bonus = self.entropy.entropy_bonus(policy)
        policy_loss = (entropy_bonus - mean_of(list(expected_q.values()))).mean()
        values = {
            n: _real_rows(v, real)
            for n, v in self.value_network.values_and_memories(obs, None, length)[0].items()
        }
        value_loss = mean_of(
            [0.5 * ((values[n] - (expected_q[n] - entropy_bonus).detach()) ** 2).mean() for n in values]
        )
        entropy_loss = self.entropy.loss(policy) if self.entropy.learned else None
        return SACLosses(policy_loss, q1_loss, q2_loss, value_loss, entropy_loss)

    def update(self, batch: dict[str, torch.Tensor], step: int) -> UpdateStats:
        if self.by_hand is not None:
            return self.update_by_hand(batch, step)
        losses = self.losses(batch)
        # Each loss reaches only its own optimizer's parameters (targets and coefficients are detached, the Q
        # networks frozen under the policy), so one backward pass over their sum gives every gradient.
        loss = losses.policy + losses.q1 + losses.q2 + losses.value
        if losses.entropy is not None:
            loss = loss + losses.entropy
        lr = self.decay_learning_rate(step)
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad()
        loss.backward()
        for optimizer in self.optimizers:
            adam_step(optimizer)
        self.update_target_network()
        return self.update_stats(losses, lr)

    @torch.no_grad()
    def update_by_hand(self, batch: dict[str, torch.Tensor], step: int) -> UpdateStats:
        """:meth:`update`'s losses and steps for continuous actions, differentiated by hand
        (``sac/gradients.py``): the twin Q networks score the stored and the policy's actions in one pass."""
        hand = self.by_hand
        assert hand is not None
        obs = observations(batch, self.num_obs)
        next_values = hand.target.output(observations(batch, self.num_obs, next_obs_key))
        signals = list(self.reward_signals.values())
        q_targets = torch.stack(
            [
                signal.rewards(batch) * signal.strength
                + signal.gamma * (1.0 if signal.ignore_done else 1.0 - batch["dones"]) * next_values[:, index]
                for index, signal in enumerate(signals)
            ],
            dim=1,
        )
        outputs, actor_saved = hand.actor.forward(obs)
        sample = squashed_gaussian(outputs)
        rows, streams = len(outputs), len(signals)
        stored = clip_continuous(batch["continuous_actions"])
        q_inputs = cast(TwinQEnsemble, self.q_networks).body_inputs(  # hand_gradients() checked its type
            [torch.cat([o, o]) for o in obs], torch.cat([stored, sample.actions])
        )
        q_values, q_saved = hand.q_networks.forward(q_inputs)  # [2, stored rows then policy rows, streams]
        q_taken, (q1_policy, q2_policy) = q_values[:, :rows], q_values[:, rows:]
        values, value_saved = hand.value.forward(obs)

        td_errors = q_taken - q_targets
        q_losses = td_errors.square().mean(dim=(1, 2)) / 2
        alpha = self.entropy.log_continuous.exp()
        log_prob_sums = sample.log_probs.sum(dim=1)
        entropy_bonus = alpha * log_prob_sums
        min_q = torch.minimum(q1_policy, q2_policy)
        policy_loss = (entropy_bonus - min_q.mean(dim=1)).mean()
        value_errors = values - (min_q - entropy_bonus.unsqueeze(1))
        value_loss = 0.5 * value_errors.square().mean()

        scale = 1.0 / (rows * streams)
        q_gradient = torch.cat(
            [td_errors * scale, twin_minimum_gradient(q1_policy, q2_policy, -scale)], dim=1
        )
        lr = self.decay_learning_rate(step)
        hand.value_step.attach()
        q_input_gradient = hand.q_networks.backward_through(q_saved, q_gradient, rows)
        action_gradient = q_input_gradient[:, :, -sample.actions.shape[1] :].sum(dim=0)
        hand.value.backward(value_saved, value_errors * scale)
        hand.value_step.apply(lr)
        actor_gradient = squashed_gaussian_gradient(outputs, sample, alpha / rows, action_gradient)
        hand.policy_step.step([(actor_saved, actor_gradient)], lr)
        entropy_loss = None
        if self.entropy.learned:
            gap = log_prob_sums + self.entropy.continuous_target
            entropy_loss = -(self.entropy.log_continuous * gap).mean()
            self.entropy.log_continuous.grad = -gap.mean()
            self.entropy_optimizer.param_groups[0]["lr"] = lr
            adam_step(self.entropy_optimizer)
        self.update_target_network()
        losses = SACLosses(policy_loss, q_losses[0], q_losses[1], value_loss, entropy_loss)
        return self.update_stats(losses, lr)

    def update_stats(self, losses: SACLosses, lr: float) -> UpdateStats:
        """What :meth:`update` reports."""
        return {
            "Losses/Policy Loss": losses.policy.detach(),
            "Losses/Value Loss": losses.value.detach(),
            "Losses/Q1 Loss": losses.q1.detach(),
            "Losses/Q2 Loss": losses.q2.detach(),
            "Policy/Continuous Entropy Coeff": self.entropy.log_continuous.detach().exp(),
            "Policy/Discrete Entropy Coeff": self.entropy.log_discrete.detach().exp().mean()
            if self.actor.branch_sizes
            else 0.0,
            "Policy/Learning Rate": lr,
        }

    def update_target_network(self) -> None:
        """target <- tau * online + (1 - tau) * target for weights; normalizer statistics are copied."""
        self.target.follow(self.hyperparameters.tau)

    def update_normalization(self, observations: list[torch.Tensor]) -> None:
        """Observation statistics of the value networks follow the policy's."""
        self.q_networks.update_normalization(observations)
        self.value_network.update_normalization(observations)

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {
            "Optimizer:q_network": self.q_networks,
            "Optimizer:value_network": self.value_network,
            "Optimizer:target_network": self.target_network,
            "Optimizer:entropy_coefficients": self.entropy,
            "Optimizer:policy_optimizer": self.policy_optimizer,
            "Optimizer:value_optimizer": self.value_optimizer,
            "Optimizer:entropy_optimizer": self.entropy_optimizer,
        }


class SACTrainer(OffPolicyTrainer[SACSettings, Policy[SACActor]]):
    """Soft actor-critic: an :class:`OffPolicyTrainer` acting with a :class:`SACActor`."""

    optimizer: SACOptimizer

    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> Policy[SACActor]:
        network = self.trainer_settings.network_settings
        actor = SACActor(behavior_spec.observation_specs, network, behavior_spec.action_spec)
        return SACPolicy(behavior_spec, actor, default_device(), deterministic=network.deterministic)

    def create_optimizer(self) -> SACOptimizer:
        assert self.policy is not None
        return SACOptimizer(self.policy, self.trainer_settings)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME
