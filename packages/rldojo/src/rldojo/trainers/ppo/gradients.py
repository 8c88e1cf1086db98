"""PPO's loss differentiated by hand with respect to the networks' outputs (the actor's logits, the critic's
value heads), for :class:`~rldojo.networks.PlainMLP` gradient steps: the same loss as
:meth:`PPOOptimizer.update <rldojo.trainers.ppo.PPOOptimizer.update>` writes for autograd, discrete actions.

Per branch with log-probabilities ``lp = log_softmax(z)``, probabilities ``p``, entropy ``H = -sum p lp`` and
taken action ``a``: d lp_a / d z = onehot(a) - p and d H / d z = -p (lp + H). The clipped surrogate
min(r A, clip(r) A) has derivative r A with respect to lp_a where the unclipped term is the smaller (or they
are equal), 0 elsewhere; the clipped value loss max((R - v)^2, (R - v_clipped)^2) has 2 (v - R) inside the
clip range (where v_clipped is v up to rounding) or where the unclipped term is the larger, 0 elsewhere. Ties
split the gradient in autograd; they only occur where both terms have the same gradient, except at
measure-zero points outside the clip range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rldojo.networks.action_heads import MASKED_LOGIT

__all__ = ["PPOLossGradients", "policy_loss_gradients", "value_loss_gradients"]


@dataclass
class PPOLossGradients:
    """d loss / d network outputs and the loss terms (detached) that one minibatch reports."""

    logits: torch.Tensor  # [batch, sum(branch sizes)]: d loss / d the actor's logits
    values: torch.Tensor  # [batch, streams]: d loss / d the critic's value heads
    log_probs: torch.Tensor  # [batch, branches]: of the taken actions, under the current weights
    policy_loss: torch.Tensor
    value_loss: torch.Tensor


def policy_loss_gradients(
    logits: torch.Tensor,
    masks: torch.Tensor | None,
    actions: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    branch_sizes: Sequence[int],
    epsilon: float,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """d / d ``logits`` of -mean(min(r A, clip(r, 1 ± epsilon) A)) - beta mean(entropy), r the ratio per
    branch; also the policy loss and the taken actions' log-probabilities [batch, branches]."""
    if masks is not None:
        logits = logits.masked_fill(masks < 0.5, MASKED_LOGIT)
    branches = [logits] if len(branch_sizes) == 1 else list(logits.split(list(branch_sizes), dim=1))
    log_softmaxes = [torch.log_softmax(branch, dim=1) for branch in branches]
    actions = actions.long()
    columns = [actions[:, index : index + 1] for index in range(len(branches))]
    taken = [lp.gather(1, column) for lp, column in zip(log_softmaxes, columns, strict=True)]
    log_probs = taken[0] if len(taken) == 1 else torch.cat(taken, dim=1)

    ratio = torch.exp(log_probs - old_log_probs)
    advantages = advantages.unsqueeze(1)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - epsilon, 1.0 + epsilon) * advantages
    policy_loss = -torch.min(unclipped, clipped).mean()
    # d loss / d lp_a: -r A / (batch * branches) where the unclipped term counts
    taken_gradient = unclipped * (unclipped <= clipped) * (-1.0 / ratio.numel())

    entropy_scale = beta / len(logits)
    gradients = []
    for index, lp in enumerate(log_softmaxes):
        probabilities = lp.exp()
        action_gradient = taken_gradient[:, index : index + 1]
        if beta:
            entropy = -(probabilities * lp).sum(dim=1, keepdim=True)
            gradient = probabilities * ((lp + entropy) * entropy_scale - action_gradient)
        else:  # no entropy bonus (RL Zoo's ent_coef 0): fewer operations
            gradient = probabilities * -action_gradient
        gradients.append(gradient.scatter_add_(1, columns[index], action_gradient))
    gradient = gradients[0] if len(gradients) == 1 else torch.cat(gradients, dim=1)
    if masks is not None:
        gradient.masked_fill_(masks < 0.5, 0.0)
    return gradient, policy_loss, log_probs


def value_loss_gradients(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    epsilon: float | None,
    scale: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """d / d ``values`` [batch, streams] of ``scale`` x the mean squared error to ``returns`` (with
    ``epsilon``: the larger of it and that of ``old_values`` + the change clipped to ± epsilon), and that
    mean (the value loss, averaged over streams)."""
    errors = values - returns
    losses = errors.square()
    if epsilon is not None:
        changes = values - old_values
        clipped_changes = torch.clamp(changes, -epsilon, epsilon)
        clipped_losses = (returns - (old_values + clipped_changes)).square()
        # inside the clip range both terms have gradient 2 (v - R), whichever rounding makes the larger
        counts = (losses >= clipped_losses) | (clipped_changes == changes)
        losses = torch.max(losses, clipped_losses)
        errors = errors * counts
    return errors * (2.0 * scale / errors.numel()), losses.mean()
