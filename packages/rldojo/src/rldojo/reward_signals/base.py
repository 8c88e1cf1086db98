"""RewardSignal: the base class of every reward signal, and how a trainer builds a behavior's signals."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.buffer import as_tensors
from rldojo.networks.streams import ordered_signal_names
from rldojo.settings import RewardSignalSettings
from rldojo.trajectory import Trajectory

__all__ = ["RewardSignal", "SignalSettingsT", "SignalStats", "create_reward_signals", "transition_batch"]

SignalSettingsT = TypeVar("SignalSettingsT", bound=RewardSignalSettings)
"""A signal's settings class (what its registration function pairs with it)."""
SignalStats = dict[str, float | torch.Tensor]
"""What :meth:`RewardSignal.update` reports, by stat name: floats, or 0-d tensors that the trainer reads back
together once per update (no device synchronisation per batch)."""


class RewardSignal(abc.ABC, Generic[SignalSettingsT]):
    """One entry of ``reward_signals:``: a reward for every transition, with its own ``gamma``, its
    ``strength`` and its own value head in the critic (one Q head per signal in SAC).

    Subclasses implement :meth:`rewards`; a signal that learns implements :meth:`update` and returns its
    networks and optimizers from :meth:`get_modules` (checkpoints save and ``--resume`` restores them).

    Batches are dicts of tensors on :attr:`device`, one row per transition: ``obs_<i>``, ``next_obs_<i>``,
    ``continuous_actions``, ``discrete_actions``, ``action_masks`` (1 = allowed), ``rewards`` (the
    environment's), ``group_rewards`` (the agent's group's, 0 outside a group) and ``dones`` (1 where the
    episode terminated).
    """

    ignore_done: ClassVar[bool] = False
    """Keep bootstrapping this signal's value past the end of an episode (ML-Agents does for curiosity and
    RND: their rewards do not stop because the environment's episode did)."""

    def __init__(
        self, name: str, settings: SignalSettingsT, behavior_spec: BehaviorSpec, device: torch.device
    ):
        self.name = name
        self.settings = settings
        self.behavior_spec = behavior_spec
        self.device = device

    @property
    def gamma(self) -> float:
        return self.settings.gamma

    @property
    def strength(self) -> float:
        return self.settings.strength

    @abc.abstractmethod
    def rewards(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[batch] the reward of each transition, before ``strength`` (the trainer applies it). Called
        without gradients."""

    def update(self, batch: Mapping[str, torch.Tensor]) -> SignalStats:
        """Learn from one batch; returns the stats to report (ML-Agents' names, ``Losses/...``), as
        detached 0-d tensors rather than ``.item()`` floats to spare a synchronisation per batch."""
        return {}

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """What a checkpoint stores of this signal, by name."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {name: module.state_dict() for name, module in self.get_modules().items()}

    def load_state_dict(self, state: Mapping[str, Any], full: bool = True) -> None:
        """Restore :meth:`state_dict`: everything, or only the networks (``full=False``)."""
        for name, module in self.get_modules().items():
            if name in state and (full or isinstance(module, nn.Module)):
                module.load_state_dict(state[name])


def create_reward_signals(
    settings: Mapping[str, RewardSignalSettings], behavior_spec: BehaviorSpec, device: torch.device
) -> dict[str, RewardSignal[Any]]:
    """One signal per ``reward_signals:`` entry, each built by the plugin that registers its name, in the
    order of the critic's value heads (:func:`~rldojo.networks.ordered_signal_names`, not the YAML's)."""
    from rldojo import plugins

    signals = {}
    for name in ordered_signal_names(settings):
        signal_settings = settings[name]
        signal_class = plugins.reward_signal_class(name)
        if not issubclass(signal_class, RewardSignal):
            raise plugins.PluginError(
                f"reward signal class {signal_class.__qualname__} of '{name}' must derive from "
                "rldojo.reward_signals.RewardSignal"
            )
        signals[name] = signal_class(name, signal_settings, behavior_spec, device)
    return signals


class _TransitionBatch(Mapping[str, torch.Tensor]):
    """A trajectory's transition columns, each made a tensor when first read (``extrinsic`` reads two)."""

    def __init__(self, columns: dict[str, np.ndarray], device: torch.device):
        self._columns = columns
        self._device = device
        self._tensors: dict[str, torch.Tensor] = {}

    def __getitem__(self, key: str) -> torch.Tensor:
        tensor = self._tensors.get(key)
        if tensor is None:
            tensor = self._tensors[key] = as_tensors({key: self._columns[key]}, self._device)[key]
        return tensor

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def transition_batch(
    trajectory: Trajectory, device: torch.device, transitions: dict[str, np.ndarray] | None = None
) -> Mapping[str, torch.Tensor]:
    """The trajectory's transitions as a batch a reward signal reads (see :class:`RewardSignal`); each column
    is moved to ``device`` when first read. ``transitions``: ``trajectory.transitions()``, if made already."""
    return _TransitionBatch(trajectory.transitions() if transitions is None else transitions, device)
