"""Action heads: a Gaussian for continuous actions, one masked categorical per discrete branch, or both."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from mlagents_envs.base_env import ActionSpec
from torch import nn

__all__ = ["ActionHead", "ActionSample", "PolicyDistribution", "clip_continuous", "sample_categorical"]

MASKED_LOGIT = -1.0e8
CONTINUOUS_CLIP = 3.0
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def clip_continuous(actions: torch.Tensor) -> torch.Tensor:
    """What the environment receives from a Gaussian sample: clamp to [-3, 3] then scale to [-1, 1]."""
    return torch.clamp(actions, -CONTINUOUS_CLIP, CONTINUOUS_CLIP) / CONTINUOUS_CLIP


@dataclass
class ActionSample:
    """Actions for a batch of agents, with what PPO needs to evaluate them later."""

    continuous: torch.Tensor  # [batch, continuous_size], unclipped Gaussian sample
    discrete: torch.Tensor  # [batch, num_branches], int64
    log_probs: torch.Tensor  # [batch, continuous_size + num_branches], one per action dimension
    entropy: torch.Tensor  # [batch]
    memories: torch.Tensor | None = None  # [batch, memory_size]: after this step, for networks with memory


@dataclass
class PolicyDistribution:
    """A reparameterised sample of the policy for a batch of states: what SAC's losses and behavioral
    cloning need."""

    continuous: (
        torch.Tensor
    )  # [batch, continuous_size] in [-1, 1] (what the environment receives), differentiable
    continuous_log_probs: torch.Tensor  # [batch, continuous_size]
    branch_log_probs: list[torch.Tensor]  # per branch [batch, size]: log-probabilities of every action
    memories: torch.Tensor | None = None  # [sequences, memory_size] after the last step (with memory)

    def rows(self, keep: torch.Tensor | slice) -> PolicyDistribution:
        """The distribution at the rows ``keep`` selects (a boolean mask or a slice; memories left out)."""
        return PolicyDistribution(
            self.continuous[keep], self.continuous_log_probs[keep], [b[keep] for b in self.branch_log_probs]
        )


def sample_categorical(probabilities: torch.Tensor) -> torch.Tensor:
    """One action [batch, 1] per row of ``probabilities`` [batch, size]: what
    ``torch.multinomial(probabilities, 1)`` draws, from the same random numbers (the exponential race it runs
    for one sample: the argmax of p / E, E ~ Exp(1)), without its input checks, which cost more than the draw
    on a small batch. ONNX export keeps ``multinomial`` (the graph's Multinomial op)."""
    if torch.jit.is_tracing():  # ONNX export traces the network
        return torch.multinomial(probabilities, 1)
    race = torch.empty_like(probabilities).exponential_()
    return torch.argmax(probabilities / race, dim=1, keepdim=True)


def _scaled_linear(inputs: int, outputs: int, gain: float) -> nn.Linear:
    layer = nn.Linear(inputs, outputs)
    nn.init.kaiming_normal_(layer.weight)
    with torch.no_grad():
        layer.weight.mul_(gain)
        layer.bias.zero_()
    return layer


class ActionHead(nn.Module):
    """Maps encoded features to an action distribution for any ML-Agents ``ActionSpec`` (hybrid included)."""

    def __init__(self, hidden_size: int, action_spec: ActionSpec, log_std_init: float = 0.0):
        super().__init__()
        self.continuous_size = action_spec.continuous_size
        self.branch_sizes = tuple(int(size) for size in action_spec.discrete_branches)
        self.mean = _scaled_linear(hidden_size, self.continuous_size, 0.2) if self.continuous_size else None
        self.log_std = (
            nn.Parameter(torch.full((1, self.continuous_size), float(log_std_init)))
            if self.continuous_size
            else None
        )
        total_branches = sum(self.branch_sizes)
        self.logits = _scaled_linear(hidden_size, total_branches, 0.1) if total_branches else None

    def _gaussian(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Mean [batch, c] and log standard deviation [1, c], or None without continuous actions."""
        if self.mean is None or self.log_std is None:
            return None
        return self.mean(hidden), self.log_std

    def _branch_log_probs(self, hidden: torch.Tensor, masks: torch.Tensor | None) -> list[torch.Tensor]:
        """Per branch: log-probabilities [batch, branch_size]; masked actions get ~zero probability."""
        if self.logits is None:
            return []
        return self.branch_log_probs_of(self.logits(hidden), masks)

    def branch_log_probs_of(self, logits: torch.Tensor, masks: torch.Tensor | None) -> list[torch.Tensor]:
        """Per branch: log-probabilities [batch, branch_size] from what the logits layer gave [batch,
        sum(branch sizes)]; masked actions get ~zero probability."""
        if masks is not None:
            logits = logits.masked_fill(masks < 0.5, MASKED_LOGIT)
        # one branch (most discrete envs) needs no split: every op saved is also a backward node saved
        branches = [logits] if len(self.branch_sizes) == 1 else logits.split(self.branch_sizes, dim=1)
        return [torch.log_softmax(branch, dim=1) for branch in branches]

    @staticmethod
    def _log_probs_and_entropy(
        gaussian: tuple[torch.Tensor, torch.Tensor] | None,
        branches: list[torch.Tensor],
        continuous: torch.Tensor,
        discrete: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        log_probs, entropy_terms = [], []
        if gaussian is not None:
            mean, log_std = gaussian
            log_probs.append(-0.5 * ((continuous - mean) / log_std.exp()) ** 2 - log_std - HALF_LOG_2PI)
            # mean entropy over dimensions, as ML-Agents reports it
            entropy_terms.append(
                (log_std + 0.5 + HALF_LOG_2PI).mean(dim=1, keepdim=True).expand(len(mean), 1)
            )
        for index, branch in enumerate(branches):
            log_probs.append(branch.gather(1, discrete[:, index : index + 1]))
            entropy_terms.append(-(branch.exp() * branch).sum(dim=1, keepdim=True))
        if len(log_probs) == 1:  # the same values without a concatenation of one tensor
            return log_probs[0], entropy_terms[0].squeeze(1)
        return torch.cat(log_probs, dim=1), torch.cat(entropy_terms, dim=1).sum(dim=1)

    def sample(
        self, hidden: torch.Tensor, masks: torch.Tensor | None, deterministic: bool = False
    ) -> ActionSample:
        """Draw actions (or take the mode when ``deterministic``). ``masks`` is 1 for allowed actions."""
        return self._sample(
            self._gaussian(hidden), self._branch_log_probs(hidden, masks), hidden, deterministic
        )

    def sample_from_logits(
        self, logits: torch.Tensor, masks: torch.Tensor | None, deterministic: bool = False
    ) -> ActionSample:
        """:meth:`sample` of a head without continuous actions, from what its logits layer gave."""
        return self._sample(None, self.branch_log_probs_of(logits, masks), logits, deterministic)

    def _sample(
        self,
        gaussian: tuple[torch.Tensor, torch.Tensor] | None,
        branches: list[torch.Tensor],
        rows: torch.Tensor,
        deterministic: bool,
    ) -> ActionSample:
        batch = rows.shape[0]
        if gaussian is None:
            continuous = rows.new_zeros(batch, 0)
        else:
            mean, log_std = gaussian
            continuous = mean if deterministic else mean + torch.randn_like(mean) * log_std.exp()
        if branches:
            chosen = [
                branch.argmax(dim=1, keepdim=True) if deterministic else sample_categorical(branch.exp())
                for branch in branches
            ]
            discrete = chosen[0] if len(chosen) == 1 else torch.cat(chosen, dim=1)
        else:
            discrete = torch.zeros(batch, 0, dtype=torch.long, device=rows.device)
        log_probs, entropy = self._log_probs_and_entropy(gaussian, branches, continuous, discrete)
        return ActionSample(continuous, discrete, log_probs, entropy)

    def distribution(self, hidden: torch.Tensor, masks: torch.Tensor | None) -> PolicyDistribution:
        """A reparameterised sample, clipped as the environment receives it, and each branch's log-probs."""
        gaussian = self._gaussian(hidden)
        continuous = log_probs = hidden.new_zeros(hidden.shape[0], 0)
        if gaussian is not None:
            mean, log_std = gaussian
            noise = torch.randn_like(mean)
            continuous = clip_continuous(mean + noise * log_std.exp())
            log_probs = -0.5 * noise**2 - log_std - HALF_LOG_2PI
        return PolicyDistribution(continuous, log_probs, self._branch_log_probs(hidden, masks))

    def evaluate(
        self,
        hidden: torch.Tensor,
        masks: torch.Tensor | None,
        continuous: torch.Tensor,
        discrete: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities [batch, dims] and entropy [batch] of given actions under the current weights."""
        return self._log_probs_and_entropy(
            self._gaussian(hidden), self._branch_log_probs(hidden, masks), continuous, discrete
        )
