"""The ``gail`` reward signal: generative adversarial imitation learning (Ho & Ermon 2016,
https://arxiv.org/abs/1606.03476) with ML-Agents' losses and defaults, optionally with a variational
information bottleneck (VAIL, Peng et al. 2018, https://arxiv.org/abs/1810.00821).

A discriminator learns to tell the demonstration's states (and, with ``use_actions``, actions) from the
policy's; the reward is high where it mistakes the policy for the expert. A gradient penalty on inputs
interpolated between the two keeps the discriminator smooth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.adam import Adam
from rldojo.buffer import observations
from rldojo.networks import ObservationEncoder, clip_continuous
from rldojo.reward_signals.base import RewardSignal, SignalStats
from rldojo.reward_signals.settings import GAILSettings
from rldojo.trainers.demonstrations import ExpertDemonstration, load_expert_demonstration

__all__ = ["Discriminator", "GAILRewardSignal"]

EPSILON = 1e-7
GRADIENT_PENALTY_WEIGHT = 10.0
LATENT_SIZE = 128
"""Size of VAIL's latent code."""
INFORMATION_BOUND = 0.5
"""VAIL's target for the KL divergence of the code (I_c in the paper)."""
BETA_STEP = 5e-4
"""VAIL's dual step size: how fast beta follows the KL divergence's excess over the bound."""

Inputs = tuple[list[torch.Tensor], torch.Tensor | None]
"""What the discriminator reads: the observations, and the action inputs with ``use_actions``."""


class Discriminator(nn.Module):
    """D(s[, a, done]) in (0, 1): the probability that a transition comes from the demonstration."""

    beta: torch.Tensor

    def __init__(self, behavior_spec: BehaviorSpec, settings: GAILSettings):
        super().__init__()
        action_spec = behavior_spec.action_spec
        self.use_actions = settings.use_actions
        self.num_obs = len(behavior_spec.observation_specs)
        self.branch_sizes = [int(size) for size in action_spec.discrete_branches]
        action_inputs = action_spec.continuous_size + sum(self.branch_sizes) + 1 if self.use_actions else 0
        network = settings.network_settings
        self.encoder = ObservationEncoder(behavior_spec.observation_specs, network, action_inputs)
        hidden = network.hidden_units
        self.latent_mean: nn.Linear | None = None
        if settings.use_vail:
            self.latent_mean = nn.Linear(hidden, LATENT_SIZE)
            nn.init.kaiming_normal_(self.latent_mean.weight)
            with torch.no_grad():
                self.latent_mean.weight.mul_(0.1)
                self.latent_mean.bias.zero_()
            self.latent_std = nn.Parameter(torch.ones(LATENT_SIZE))
            hidden = LATENT_SIZE
        self.register_buffer("beta", torch.tensor(0.0))
        """VAIL's Lagrange multiplier of the information bound (not learned by gradient)."""
        self.estimator = nn.Linear(hidden, 1)
        nn.init.xavier_uniform_(self.estimator.weight, gain=0.2)
        nn.init.zeros_(self.estimator.bias)

    def inputs(
        self, obs: list[torch.Tensor], continuous: torch.Tensor, discrete: torch.Tensor, dones: torch.Tensor
    ) -> Inputs:
        """The observations and, with ``use_actions``, [batch, actions + 1]: the continuous actions as the
        environment received them, each branch's action one-hot, and whether the episode ended."""
        if not self.use_actions:
            return obs, None
        one_hots = [
            nn.functional.one_hot(discrete[:, i].long(), size) for i, size in enumerate(self.branch_sizes)
        ]
        return obs, torch.cat([continuous, *one_hots, dones.unsqueeze(1)], dim=1).float()

    def policy_inputs(self, batch: Mapping[str, torch.Tensor]) -> Inputs:
        """:meth:`inputs` of a batch of the policy's transitions."""
        continuous = clip_continuous(batch["continuous_actions"])
        return self.inputs(
            observations(batch, self.num_obs), continuous, batch["discrete_actions"], batch["dones"]
        )

    def expert_inputs(self, expert: ExpertDemonstration) -> Inputs:
        """:meth:`inputs` of demonstrated decisions."""
        return self.inputs(
            expert.observations, expert.continuous_actions, expert.discrete_actions, expert.dones
        )

    def estimate(
        self, obs: Sequence[torch.Tensor], actions: torch.Tensor | None, sample_latent: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """[batch] D of the inputs and, with VAIL, the latent means [batch, LATENT_SIZE]; the latent code is
        sampled when ``sample_latent``, otherwise its mean is used."""
        hidden = self.encoder(obs, actions)
        latent_mean = None
        if self.latent_mean is not None:
            latent_mean = self.latent_mean(hidden)
            noise = torch.randn_like(latent_mean) * self.latent_std if sample_latent else 0.0
            hidden = latent_mean + noise
        return torch.sigmoid(self.estimator(hidden)).squeeze(1), latent_mean

    def gradient_penalty(self, policy: Inputs, expert: Inputs) -> torch.Tensor:
        """(|grad D| - 1)^2 at random points between policy and expert inputs (Gulrajani et al. 2017). Every
        input is interpolated (each element by its own random fraction), but, as in ML-Agents, only the
        gradient with respect to the first observation is penalised, not the other observations' or the
        actions'."""
        mixed = [torch.lerp(e, p, torch.rand_like(p)) for p, e in zip(policy[0], expert[0], strict=True)]
        mixed[0].requires_grad_(True)
        mixed_actions = None
        if policy[1] is not None and expert[1] is not None:
            mixed_actions = torch.lerp(expert[1], policy[1], torch.rand_like(policy[1]))
        estimate, _ = self.estimate(mixed, mixed_actions, sample_latent=True)
        (gradient,) = torch.autograd.grad(estimate.sum(), mixed[0], create_graph=True)
        squared_norm = gradient.reshape(len(gradient), -1).pow(2).sum(dim=1)
        return ((squared_norm + EPSILON).sqrt() - 1.0).pow(2).mean()

    def update_normalization(self, obs: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(obs)


class GAILRewardSignal(RewardSignal[GAILSettings]):
    """Rewards -log(1 - D(s, a)): how expert-like the discriminator finds each transition."""

    def __init__(self, name: str, settings: GAILSettings, behavior_spec: BehaviorSpec, device: torch.device):
        super().__init__(name, settings, behavior_spec, device)
        self.discriminator = Discriminator(behavior_spec, settings).to(device)
        self.optimizer = Adam(self.discriminator.parameters(), lr=settings.learning_rate)
        self.expert = load_expert_demonstration(settings.demo_path, device)

    def rewards(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        estimate, _ = self.discriminator.estimate(
            *self.discriminator.policy_inputs(batch), sample_latent=False
        )
        return -torch.log(1.0 - estimate * (1.0 - EPSILON))

    def update(self, batch: Mapping[str, torch.Tensor]) -> SignalStats:
        """One discriminator step: the policy's batch against as many demonstrated decisions."""
        discriminator = self.discriminator
        sample = torch.randint(len(self.expert), (len(batch["dones"]),), device=self.device)
        expert = discriminator.expert_inputs(self.expert.rows(sample))
        discriminator.update_normalization(expert[0])
        policy = discriminator.policy_inputs(batch)
        policy_estimate, policy_latent = discriminator.estimate(*policy, sample_latent=True)
        expert_estimate, expert_latent = discriminator.estimate(*expert, sample_latent=True)
        gail_loss = -(
            torch.log(expert_estimate + EPSILON) + torch.log(1.0 - policy_estimate + EPSILON)
        ).mean()
        penalty = GRADIENT_PENALTY_WEIGHT * discriminator.gradient_penalty(policy, expert)
        loss = gail_loss + penalty
        stats: SignalStats = {
            "Policy/GAIL Policy Estimate": policy_estimate.detach().mean(),
            "Policy/GAIL Expert Estimate": expert_estimate.detach().mean(),
            "Losses/GAIL Loss": gail_loss.detach(),
            "Policy/GAIL Grad Mag Loss": penalty.detach(),
        }
        if policy_latent is not None and expert_latent is not None:
            variance = discriminator.latent_std**2
            kl = (
                -(1 + variance.log() - 0.5 * expert_latent**2 - 0.5 * policy_latent**2 - variance)
                .sum(dim=1)
                .mean()
            )
            loss = loss + discriminator.beta.clone() * (kl - INFORMATION_BOUND)  # the beta before this step
            with torch.no_grad():
                discriminator.beta.copy_(
                    (discriminator.beta + BETA_STEP * (kl - INFORMATION_BOUND)).clamp(min=0.0)
                )
            stats |= {"Policy/GAIL Beta": discriminator.beta.clone(), "Losses/GAIL KL Loss": kl.detach()}
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return stats

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"discriminator": self.discriminator, "optimizer": self.optimizer}
