"""SAC's losses differentiated by hand with respect to the networks' outputs, for gradient steps without
autograd (:meth:`SACOptimizer.update_by_hand <rldojo.trainers.sac.SACOptimizer.update_by_hand>`): the same
losses as :meth:`SACOptimizer.losses <rldojo.trainers.sac.SACOptimizer.losses>` with continuous actions.

The policy's sample is a = tanh(u), u = m + e exp(s) (noise e fixed), with log-probability per dimension
l = -e^2 / 2 - s - log(2 pi) / 2 - log(1 - a^2 + epsilon). Given d loss / d l (alpha / batch in every entry)
and d loss / d a (through the Q networks): d l / d a = 2 a / (1 - a^2 + epsilon), d a / d u = 1 - a^2,
d u / d m = 1, d u / d s = e exp(s), d l / d s = -1 directly, and the clamp of s passes the gradient where s
is inside its range (bounds included). The minimum of the twin Q values sends the gradient to the smaller
one, half to each where they are equal (as autograd does).
"""

from __future__ import annotations

import torch

from rldojo.trainers.sac.networks import LOG_STD_MAX, LOG_STD_MIN, SQUASH_EPSILON, SquashedSample

__all__ = ["squashed_gaussian_gradient", "twin_minimum_gradient"]


def squashed_gaussian_gradient(
    outputs: torch.Tensor,
    sample: SquashedSample,
    log_prob_gradient: torch.Tensor,
    action_gradient: torch.Tensor,
) -> torch.Tensor:
    """d loss / d ``outputs`` [batch, 2 * dims] (the Gaussian head's means and log standard deviations) of a
    loss with d loss / d log-probability ``log_prob_gradient`` (one value for every entry) and d loss /
    d action ``action_gradient`` [batch, dims] at ``sample``, which :func:`squashed_gaussian` drew from
    ``outputs``."""
    actions = sample.actions
    squash = 1.0 - actions.square()
    unsquashed = (action_gradient + log_prob_gradient * 2.0 * actions / (squash + SQUASH_EPSILON)) * squash
    raw_log_std = outputs[:, actions.shape[1] :]
    log_std = (unsquashed * sample.noise * sample.std - log_prob_gradient) * (
        (raw_log_std >= LOG_STD_MIN) & (raw_log_std <= LOG_STD_MAX)
    )
    return torch.cat([unsquashed, log_std], dim=1)


def twin_minimum_gradient(first: torch.Tensor, second: torch.Tensor, gradient: float) -> torch.Tensor:
    """[2, *shape]: d / d ``first`` and d / d ``second`` of ``gradient`` x their elementwise minimum."""
    share = (first < second).to(first.dtype) + 0.5 * (first == second).to(first.dtype)
    return torch.stack([share, 1.0 - share]) * gradient
