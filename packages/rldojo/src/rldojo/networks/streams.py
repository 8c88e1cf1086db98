"""Per-signal heads ("streams"): the order of a behavior's reward signals; reordering heads saved in another.

A critic has one value head per reward signal (SAC's action-value networks one block of Q-values per signal),
in the order :func:`ordered_signal_names` gives: ``extrinsic`` first, then the others by name, whatever the
order of ``reward_signals:`` in the YAML. Checkpoints written before that order existed hold their heads in
the YAML's order; :func:`reorder_streams` moves them (and Adam's moments of them) into today's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from rldojo.errors import RldojoError

__all__ = ["StreamHeads", "ordered_signal_names", "reorder_streams"]

FIRST_SIGNAL = "extrinsic"


def ordered_signal_names(names: Iterable[str]) -> list[str]:
    """``extrinsic`` first (where ML-Agents' configs list it), then the other signals by name: the order of
    value heads, signal networks and per-signal losses, so that listing ``reward_signals:`` in another order
    gives the same run."""
    names = list(names)
    return [name for name in names if name == FIRST_SIGNAL] + sorted(set(names) - {FIRST_SIGNAL})


@runtime_checkable
class StreamHeads(Protocol):
    """A network with one block of outputs per reward signal (``stream_names``, in their order)."""

    stream_names: list[str]

    def stream_parameters(self) -> list[tuple[torch.Tensor, int]]:
        """Each parameter laid out signal by signal, in equal blocks, with the dimension it is laid out on."""
        ...


def reorder_streams(modules: Iterable[nn.Module | torch.optim.Optimizer], saved_order: Sequence[str]) -> None:
    """Move the per-signal blocks of every :class:`StreamHeads` network in ``modules`` (and of the moments the
    optimizers among ``modules`` keep for them) from ``saved_order``, the order a checkpoint loaded into them
    was written in, to the network's own ``stream_names`` order."""
    modules = list(modules)
    optimizers = [module for module in modules if isinstance(module, torch.optim.Optimizer)]
    networks = {
        id(network): network
        for module in modules
        if isinstance(module, nn.Module)
        for network in module.modules()
        if hasattr(network, "stream_names")
    }
    for network in networks.values():
        if not isinstance(network, StreamHeads):
            raise RldojoError(
                f"{type(network).__name__} has no stream_parameters(), so its heads saved in the reward "
                f"signal order {list(saved_order)} cannot be reordered; list reward_signals in that order"
            )
        for parameter, dim in network.stream_parameters():
            index = _block_index(saved_order, network.stream_names, parameter.shape[dim])
            tensors = [parameter.data]
            for optimizer in optimizers:  # Adam's moments of the parameter, shaped as it is
                moments = optimizer.state.get(parameter, {}).values()
                tensors += [m for m in moments if torch.is_tensor(m) and m.shape == parameter.shape]
            for tensor in tensors:
                tensor.copy_(tensor.index_select(dim, index.to(tensor.device)))


def _block_index(saved_order: Sequence[str], names: Sequence[str], size: int) -> torch.Tensor:
    """Indices that take ``size`` entries laid out in ``saved_order`` blocks to ``names`` order."""
    block = size // len(names)
    return torch.cat([torch.arange(block) + saved_order.index(name) * block for name in names])
