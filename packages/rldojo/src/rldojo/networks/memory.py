"""Recurrent memory: an LSTM after the observation encoder, with ML-Agents' memory layout.

A memory is one vector of ``memory_size`` floats per agent: the LSTM's hidden state ``h`` and cell
state ``c`` concatenated (each ``memory_size / 2``), as ML-Agents' ``recurrent_in`` / ``recurrent_out``
carry it. Zeros are the memory at the start of an episode.

Batches of sequences are flat: ``[sequences * sequence_length, features]``, sequence by sequence, with
one initial memory per sequence (``[sequences, memory_size]``). Acting is the case ``sequence_length=1``.
"""

from __future__ import annotations

import torch
from torch import nn

from rldojo.settings import NetworkSettings

__all__ = ["FORGET_BIAS", "LSTMMemory", "MemoryNetwork", "optional_memory"]

FORGET_BIAS = 1.0
"""Added to each forget-gate bias at initialisation (ML-Agents' and TensorFlow's ``forget_bias``): a fresh
LSTM keeps most of its cell state from step to step, so a cue seen early still moves later outputs (with
torch's default initialisation about half the cell state is forgotten at every step)."""


class LSTMMemory(nn.Module):
    """Features [n * T, input_size] and initial memories [n, memory_size] -> outputs [n * T, memory_size / 2]
    and the memories after the last step of each sequence. Initialised as ML-Agents does: Xavier-uniform
    weights per gate, zero biases plus :data:`FORGET_BIAS` on the forget gate's."""

    def __init__(self, input_size: int, memory_size: int):
        super().__init__()
        self.memory_size = memory_size
        self.output_size = memory_size // 2
        self.lstm = nn.LSTM(input_size, self.output_size, batch_first=True)
        for name, parameter in self.lstm.named_parameters():  # ML-Agents' initialisation
            gates = parameter.data.chunk(4)  # input, forget, cell, output
            if name.startswith("weight"):
                for gate in gates:
                    nn.init.xavier_uniform_(gate)
            else:
                parameter.data.zero_()
                gates[1].add_(FORGET_BIAS)

    def forward(
        self, features: torch.Tensor, memories: torch.Tensor, sequence_length: int = 1
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sequences = features.reshape(-1, sequence_length, features.shape[-1])
        hidden, cell = memories.unsqueeze(0).split(self.output_size, dim=-1)
        outputs, (hidden, cell) = self.lstm(sequences, (hidden.contiguous(), cell.contiguous()))
        return outputs.reshape(-1, self.output_size), torch.cat([hidden, cell], dim=-1).squeeze(0)


def optional_memory(input_size: int, settings: NetworkSettings) -> LSTMMemory | None:
    """The LSTM that ``settings.memory`` asks for after an encoder of ``input_size`` features, or None."""
    return LSTMMemory(input_size, settings.memory.memory_size) if settings.memory is not None else None


class MemoryNetwork(nn.Module):
    """Base of networks with an optional :class:`LSTMMemory` after their encoder (``self.memory``, None
    without ``network_settings.memory``)."""

    memory: LSTMMemory | None

    @property
    def memory_size(self) -> int:
        """Floats of memory per agent (0: no memory)."""
        return self.memory.memory_size if self.memory is not None else 0

    def remember(
        self, encoded: torch.Tensor, memories: torch.Tensor | None, sequence_length: int = 1
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``encoded`` through the memory, from ``memories`` (zeros when None: episodes starting); without
        memory, ``encoded`` unchanged and no memories."""
        if self.memory is None:
            return encoded, None
        if memories is None:
            memories = encoded.new_zeros(encoded.shape[0] // sequence_length, self.memory.memory_size)
        return self.memory(encoded, memories, sequence_length)
