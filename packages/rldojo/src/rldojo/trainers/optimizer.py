"""Optimizer: the part of a trainer that owns the losses, the value networks and the torch optimizers."""

from __future__ import annotations

import abc
import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

import torch
from torch import nn

from rldojo.adam import Adam, fused_adam
from rldojo.networks.mlp_gradients import HandNetwork, Saved
from rldojo.policy import Policy
from rldojo.reward_signals.base import RewardSignal, SignalStats, create_reward_signals
from rldojo.reward_signals.extrinsic import ExtrinsicRewardSignal
from rldojo.settings import CoreHyperparamSettings, HyperparamSettings, TrainerSettings

__all__ = [
    "HandGradients",
    "Optimizer",
    "PolicyT",
    "SettingsT",
    "TargetNetwork",
    "UpdateStats",
    "adam",
    "adam_step",
    "clip_grad_norm",
    "mean_of",
    "overrides",
]

ModuleT = TypeVar("ModuleT", bound=nn.Module)
"""The online network a :class:`TargetNetwork` copies and follows."""
NetworkT = TypeVar("NetworkT", bound=HandNetwork)
"""The kind of network a :class:`HandGradients` steps (:class:`~rldojo.networks.PlainMLP`, ...)."""
SettingsT = TypeVar("SettingsT", bound=HyperparamSettings)
"""A trainer type's ``hyperparameters:`` class (what its registration function pairs with it)."""
PolicyT = TypeVar("PolicyT", bound=Policy[Any])
"""The policy a trainer type creates."""
UpdateStats = Mapping[str, float | torch.Tensor]
"""What one :meth:`Optimizer.update` reports: floats, or 0-d tensors still on the device (detached) that
are read back once per update, so that no batch waits on a ``.item()``."""


def adam(parameters: Iterable[nn.Parameter], hyperparameters: CoreHyperparamSettings) -> Adam:
    """Fused Adam over ``parameters`` at ``learning_rate`` with ``adam_eps`` (:class:`rldojo.adam.Adam`, whose
    first step does not import the torch compiler)."""
    return Adam(parameters, lr=hyperparameters.learning_rate, eps=hyperparameters.adam_eps, fused=True)


def adam_step(optimizer: torch.optim.Adam) -> None:
    """``optimizer.step()`` of a fused Adam from :func:`adam`: its fused kernel called directly, the same
    update and state without torch.optim's per-call Python (step hooks, profiling records, gathering the
    state, grouping by device and dtype), which costs more than the kernel for small networks on one CPU
    thread. Falls back to ``optimizer.step()`` where the direct call does not apply: a parameter's first
    step (Adam creates its state), other Adam options, parameters of more than one device or dtype, or a
    torch without the kernel this calls (:func:`rldojo.adam.fused_adam`). Step hooks registered on
    ``optimizer`` are not called."""
    groups = []
    for group in optimizer.param_groups:
        params = [p for p in group["params"] if p.grad is not None]
        states: list[dict[str, Any]] = [optimizer.state.get(p) or {} for p in params]  # {}: no step yet
        direct = group["fused"] and not (
            group["amsgrad"] or group["weight_decay"] or group["maximize"] or group["capturable"]
        )
        if not direct or not all(states) or len({(p.device, p.dtype) for p in params}) > 1:
            optimizer.step()
            return
        groups.append((group, params, states))
    for group, params, states in groups:
        if params and not fused_adam(
            params,
            [state["exp_avg"] for state in states],
            [state["exp_avg_sq"] for state in states],
            [state["step"] for state in states],
            lr=group["lr"],
            betas=group["betas"],
            eps=group["eps"],
        ):
            optimizer.step()  # no kernel here: found at the first group that reached it, nothing updated
            return


def mean_of(terms: Sequence[torch.Tensor]) -> torch.Tensor:
    """The elementwise mean of same-shaped tensors (one loss per reward signal, ...); a single one as it is,
    the same value without a stack and a mean (two operations and two backward nodes per gradient step)."""
    return terms[0] if len(terms) == 1 else torch.stack(list(terms)).mean(dim=0)


def clip_grad_norm(parameters: list[nn.Parameter], max_norm: float) -> None:
    """Scale the gradients of ``parameters`` so that their joint L2 norm is at most ``max_norm``: the
    arithmetic of ``nn.utils.clip_grad_norm_`` (same result), without its per-call grouping by device and
    dtype, which costs more than the arithmetic for small networks on one CPU thread."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    total_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total_norm + 1e-6), max=1.0))


class HandGradients(Generic[NetworkT]):
    """Adam steps on the parameters of networks whose gradients are written by hand
    (:meth:`PlainMLP.backward <rldojo.networks.mlp_gradients.PlainMLP.backward>`,
    :class:`~rldojo.networks.mlp_gradients.StackedMLP`) instead of by autograd.

    The gradients live in one flat buffer (each ``.grad`` a view of it, attached again at every step, since
    others may set them to None: behavioral cloning's ``zero_grad``): no zeroing, as every step overwrites
    all of them, and the joint norm for clipping is one norm of the buffer (the same value as
    :func:`clip_grad_norm`'s up to summation order). ``loose`` parameters belong to no network: the loss
    gives their gradients directly (a Gaussian policy's log standard deviation).
    """

    @classmethod
    def of(
        cls,
        networks: Sequence[NetworkT],
        optimizer: Adam,
        max_grad_norm: float | None,
        loose: Sequence[torch.Tensor] = (),
    ) -> HandGradients[NetworkT] | None:
        """Hand gradients for ``networks`` (and ``loose``), or None where they do not hold exactly the
        parameters ``optimizer`` steps (a subclass added some: only autograd knows their gradients)."""
        parameters = [p for network in networks for p in network.parameters] + list(loose)
        optimized = [p for group in optimizer.param_groups for p in group["params"]]
        if {id(p) for p in parameters} != {id(p) for p in optimized} or len(parameters) != len(optimized):
            return None
        return cls(networks, optimizer, max_grad_norm, loose)

    def __init__(
        self,
        networks: Sequence[NetworkT],
        optimizer: Adam,
        max_grad_norm: float | None,
        loose: Sequence[torch.Tensor] = (),
    ):
        self.networks = list(networks)
        self.optimizer = optimizer
        self.max_grad_norm = max_grad_norm
        parameters = [p for network in self.networks for p in network.parameters] + list(loose)
        reference = parameters[0]
        self.flat = torch.zeros(
            sum(p.numel() for p in parameters), device=reference.device, dtype=reference.dtype
        )
        views = self.flat.split([p.numel() for p in parameters])
        self.gradient_views = [(p, view.view_as(p)) for p, view in zip(parameters, views, strict=True)]
        self.loose_views = [view for _, view in self.gradient_views[len(parameters) - len(loose) :]]

    def step(
        self,
        passes: Sequence[tuple[list[Saved], torch.Tensor]],
        learning_rate: float,
        loose_gradients: Sequence[torch.Tensor] = (),
    ) -> None:
        """One Adam step at ``learning_rate``; ``passes`` holds, per network, what its forward pass saved and
        d loss / d its output, ``loose_gradients`` the gradient of each ``loose`` parameter."""
        self.attach()
        for network, (saved, output_gradient) in zip(self.networks, passes, strict=True):
            network.backward(saved, output_gradient)
        self.apply(learning_rate, loose_gradients)

    def attach(self) -> None:
        """Make each parameter's ``.grad`` its view of the flat buffer, for the networks' backward passes
        to write (:meth:`step` does; call it before a backward pass of one's own, then :meth:`apply`)."""
        for parameter, view in self.gradient_views:
            parameter.grad = view

    def apply(self, learning_rate: float, loose_gradients: Sequence[torch.Tensor] = ()) -> None:
        """The Adam step at ``learning_rate`` from the gradients the backward passes wrote since
        :meth:`attach`, with ``loose_gradients`` and clipping."""
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        for view, gradient in zip(self.loose_views, loose_gradients, strict=True):
            view.copy_(gradient)
        if self.max_grad_norm is not None:
            norm = torch.linalg.vector_norm(self.flat)
            self.flat.mul_(torch.clamp(self.max_grad_norm / (norm + 1e-6), max=1.0))
        adam_step(self.optimizer)


class TargetNetwork(Generic[ModuleT]):
    """A copy of an online network that follows it: weights by soft updates, normalizer statistics (buffers)
    copied; each in one call for all tensors."""

    def __init__(self, online: ModuleT):
        self.network: ModuleT = copy.deepcopy(online).requires_grad_(False)
        self.weights: list[torch.Tensor] = list(self.network.parameters())
        self.online_weights: list[torch.Tensor] = list(online.parameters())
        self.buffers = list(self.network.buffers())
        self.online_buffers = list(online.buffers())

    @torch.no_grad()
    def follow(self, tau: float) -> None:
        """target <- tau * online + (1 - tau) * target for weights (tau 1: an exact copy); buffers copied."""
        if tau == 1.0:  # a hard copy: lerp by 1 gives the online weights exactly
            torch._foreach_copy_(self.weights, self.online_weights)
        else:
            torch._foreach_lerp_(self.weights, self.online_weights, tau)
        if self.buffers:
            torch._foreach_copy_(self.buffers, self.online_buffers)


def overrides(instance: object, base: type, methods: Sequence[str]) -> bool:
    """Whether the class of ``instance`` overrides any of ``base``'s ``methods`` (a subclass computing a
    loss its own way keeps autograd)."""
    return any(getattr(type(instance), name) is not getattr(base, name) for name in methods)


class Optimizer(abc.ABC, Generic[SettingsT, PolicyT]):
    """Updates ``policy`` from batches; subclasses write the algorithm's loss in :meth:`update`.

    :attr:`reward_signals` holds the behavior's reward signals (``reward_signals:``), built here; the
    critic has one value head per signal (:attr:`reward_signal_names`).
    """

    def __init__(self, policy: PolicyT, trainer_settings: TrainerSettings):
        self.policy = policy
        self.trainer_settings = trainer_settings
        # the registry validated ``hyperparameters:`` with the settings class of this trainer type
        self.hyperparameters = cast(SettingsT, trainer_settings.hyperparameters)
        self.reward_signals: dict[str, RewardSignal[Any]] = create_reward_signals(
            trainer_settings.reward_signals, policy.behavior_spec, policy.device
        )
        self.reward_signal_names = list(self.reward_signals)

    @property
    def has_intrinsic_signals(self) -> bool:
        """Whether a signal other than ``extrinsic`` is configured (one that learns from batches)."""
        return any(not isinstance(signal, ExtrinsicRewardSignal) for signal in self.reward_signals.values())

    def update_reward_signals(self, batch: dict[str, torch.Tensor]) -> SignalStats:
        """Each reward signal learns from ``batch``; their stats together."""
        stats: SignalStats = {}
        for signal in self.reward_signals.values():
            stats |= signal.update(batch)
        return stats

    @abc.abstractmethod
    def update(self, batch: dict[str, torch.Tensor], step: int) -> UpdateStats:
        """One gradient step on ``batch`` (columns on the policy's device); returns the stats to report
        (their mean over one update's batches is reported; see :data:`UpdateStats`)."""

    def prepare_burst(self, batch: dict[str, torch.Tensor], steps: int) -> dict[str, torch.Tensor]:
        """Called with the rows of ``steps`` consecutive gradient steps (an off-policy burst, ``steps``
        batches one after the other) before they are split into the batches :meth:`update` gets. Add
        columns computed with weights that no update of the burst changes (DQN's TD targets from a target
        network copied between bursts) to compute them in one pass; by default the batch as it is."""
        return batch

    def update_normalization(self, observations: list[torch.Tensor]) -> None:
        """Let networks other than the policy's follow the new observations (e.g. a critic's normalizer)."""

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """What a checkpoint stores besides the policy, by ML-Agents' names (``Optimizer:critic``, ...)."""
        return {}

    former_module_names: ClassVar[dict[str, str]] = {}
    """Module name -> the name checkpoints of older versions stored it under (still loaded)."""
