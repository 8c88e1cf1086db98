"""PPO's loss differentiated by hand with respect to the networks' outputs (the actor's logits, the critic's
value heads), for :class:`~rldojo.networks.PlainMLP` gradient steps: the same loss as
:meth:`PPOOptimizer.update <rldojo.trainers.ppo.PPOOptimizer.update>` writes for autograd, for discrete or
continuous actions.

Per branch with log-probabilities ``lp = log_softmax(z)``, probabilities ``p``, entropy ``H = -sum p lp`` and
taken action ``a``: d lp_a / d z = onehot(a) - p and d H / d z = -p (lp + H). Per Gaussian dimension with
mean m, log standard deviation s and ``u = (x - m) / exp(s)``: lp = -u^2 / 2 - s - log(2 pi) / 2,
d lp / d m = u / exp(s), d lp / d s = u^2 - 1, and the reported entropy (the mean over dimensions of
s + 1/2 + log(2 pi) / 2) has d / d s = 1 / dimensions. The clipped surrogate
min(r A, clip(r) A) has derivative r A with respect to lp_a where the unclipped term is the smaller (or they
are equal), 0 elsewhere; the clipped value loss max((R - v)^2, (R - v_clipped)^2) has 2 (v - R) inside the
clip range (where v_clipped is v up to rounding) or where the unclipped term is the larger, 0 elsewhere. Ties
split the gradient in autograd; they only occur where both terms have the same gradient, except at
measure-zero points outside the clip range.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rldojo.networks.action_heads import HALF_LOG_2PI, MASKED_LOGIT

__all__ = [
    "clipped_surrogate_gradient",
    "gaussian_policy_loss_gradients",
    "policy_loss_gradients",
    "value_loss_gradients",
]


def clipped_surrogate_gradient(
    log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor, epsilon: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """d / d ``log_probs`` [batch, dims] of -mean(min(r A, clip(r, 1 ± epsilon) A)), r the ratio per
    dimension, and that policy loss."""
    ratio = torch.exp(log_probs - old_log_probs)
    advantages = advantages.unsqueeze(1)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - epsilon, 1.0 + epsilon) * advantages
    policy_loss = -torch.min(unclipped, clipped).mean()
    # -r A / (batch * dims) where the unclipped term counts
    return unclipped * (unclipped <= clipped) * (-1.0 / ratio.numel()), policy_loss


def gaussian_policy_loss_gradients(
    mean: torch.Tensor,
    log_std: torch.Tensor,
    actions: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    epsilon: float,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's policy loss for a Gaussian of ``mean`` [batch, dims] and ``log_std`` [1, dims] that drew the
    unclipped ``actions``: d / d ``mean``, d / d ``log_std``, the policy loss and the log-probabilities."""
    std = log_std.exp()
    scaled = (actions - mean) / std
    squared = scaled.square()
    log_probs = -0.5 * squared - log_std - HALF_LOG_2PI
    taken_gradient, policy_loss = clipped_surrogate_gradient(log_probs, old_log_probs, advantages, epsilon)
    log_std_gradient = (taken_gradient * (squared - 1.0)).sum(dim=0, keepdim=True)
    if beta:
        log_std_gradient -= beta / mean.shape[1]
    return taken_gradient * scaled / std, log_std_gradient, policy_loss, log_probs


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
    branch (discrete actions); also the policy loss and the taken actions' log-probabilities [batch,
    branches]."""
    if masks is not None:
        logits = logits.masked_fill(masks < 0.5, MASKED_LOGIT)
    branches = [logits] if len(branch_sizes) == 1 else list(logits.split(list(branch_sizes), dim=1))
    log_softmaxes = [torch.log_softmax(branch, dim=1) for branch in branches]
    actions = actions.long()
    columns = [actions[:, index : index + 1] for index in range(len(branches))]
    taken = [lp.gather(1, column) for lp, column in zip(log_softmaxes, columns, strict=True)]
    log_probs = taken[0] if len(taken) == 1 else torch.cat(taken, dim=1)
    taken_gradient, policy_loss = clipped_surrogate_gradient(log_probs, old_log_probs, advantages, epsilon)

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
