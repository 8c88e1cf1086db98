"""Experience storage: the on-policy update buffer and the preallocated off-policy replay buffer."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from rldojo.trajectory import next_obs_key, obs_key

__all__ = [
    "SEQUENCE_MASK",
    "AgentBuffer",
    "ReplayBuffer",
    "as_tensors",
    "next_obs_key",
    "obs_key",
    "observations",
    "padded_sequences",
]

logger = logging.getLogger(__name__)

SEQUENCE_MASK = "sequence_mask"
"""Column of sequence-padded buffers: 1 for real steps, 0 for the padding after a trajectory's last step."""


class AgentBuffer:
    """Columns of equal length, appended one trajectory at a time and consumed whole (PPO's update buffer)."""

    def __init__(self) -> None:
        self._chunks: dict[str, list[np.ndarray]] = defaultdict(list)
        self.num_experiences = 0

    def append(self, columns: Mapping[str, np.ndarray]) -> None:
        lengths = {len(column) for column in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"columns must have equal lengths, got {sorted(lengths)}")
        for key, column in columns.items():
            self._chunks[key].append(column)
        self.num_experiences += lengths.pop()

    def arrays(self) -> dict[str, np.ndarray]:
        """Every column concatenated: key -> [num_experiences, ...]. Chunks whose second dimension differs
        (groupmates, one slot each) are zero-padded to the widest."""
        return {key: _concatenate_padded(chunks) for key, chunks in self._chunks.items()}

    def clear(self) -> None:
        self._chunks.clear()
        self.num_experiences = 0


def _concatenate_padded(chunks: list[np.ndarray]) -> np.ndarray:
    widths = {chunk.shape[1] for chunk in chunks if chunk.ndim > 1}
    if len(widths) <= 1:
        return np.concatenate(chunks)
    width = max(widths)
    return np.concatenate(
        [
            np.pad(chunk, [(0, 0), (0, width - chunk.shape[1])] + [(0, 0)] * (chunk.ndim - 2))
            for chunk in chunks
        ]
    )


class ReplayBuffer:
    """A ring of ``capacity`` transitions in preallocated numpy arrays; the oldest are overwritten first.

    Columns are allocated on the first :meth:`add`, from the dtypes and shapes it receives (float64 stored
    as float32, what the networks take); columns that a buffer loaded from an older checkpoint lacks are
    added (zeros for the stored rows) with a warning. Samples are torch tensors gathered straight from the
    arrays (torch views of them, made once), with no copy beyond the sampled rows.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._clear()

    def _clear(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._tensors: dict[str, torch.Tensor] = {}
        self._next = 0
        self.num_experiences = 0

    def add(self, columns: Mapping[str, np.ndarray]) -> None:
        """Append rows (every column [n, ...]); keeps only the last ``capacity`` when n is larger."""
        if set(self._arrays) < set(columns):  # the first add, or a buffer saved by an older version
            self._allocate(columns)
        if set(columns) != set(self._arrays):
            raise ValueError(f"expected columns {sorted(self._arrays)}, got {sorted(columns)}")
        rows = len(next(iter(columns.values())))
        if rows > self.capacity:
            columns = {key: column[-self.capacity :] for key, column in columns.items()}
            rows = self.capacity
        positions = (self._next + np.arange(rows)) % self.capacity
        for key, column in columns.items():
            self._arrays[key][positions] = column
        self._next = int((self._next + rows) % self.capacity)
        self.num_experiences = min(self.capacity, self.num_experiences + rows)

    def _allocate(self, columns: Mapping[str, np.ndarray]) -> None:
        """Arrays for the ``columns`` not stored yet. A buffer that holds rows already (loaded from a
        checkpoint of an older version, without ``group_rewards``) gets zeros there, with a warning."""
        missing = sorted(set(columns) - set(self._arrays))
        if self._arrays:
            logger.warning(
                "the replay buffer was saved without the column(s) %s; its %d stored transitions get zeros "
                "there",
                ", ".join(missing),
                self.num_experiences,
            )
        for key in missing:
            column = columns[key]
            array = np.zeros((self.capacity, *column.shape[1:]), dtype=_stored_dtype(column.dtype))
            self._arrays[key], self._tensors[key] = array, torch.from_numpy(array)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """``batch_size`` transitions drawn uniformly with replacement."""
        indices = torch.randint(self.num_experiences, (batch_size,), generator=generator)
        return {key: column[indices] for key, column in self._tensors.items()}

    def sample_sequences(
        self, count: int, sequence_length: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """``count`` whole sequences drawn uniformly with replacement, as [count * sequence_length] rows
        sequence by sequence. The buffer must be filled in whole sequences (see :func:`padded_sequences`)
        and its capacity be a multiple of ``sequence_length``, so sequences never straddle two."""
        starts = torch.randint(self.num_experiences // sequence_length, (count, 1), generator=generator)
        indices = (starts * sequence_length + torch.arange(sequence_length)).reshape(-1)
        return {key: column[indices] for key, column in self._tensors.items()}

    def state_dict(self) -> dict[str, Any]:
        """The filled rows in insertion order, as tensors (loadable with ``weights_only=True``)."""
        start = (self._next - self.num_experiences) % self.capacity
        order = (start + np.arange(self.num_experiences)) % self.capacity
        return {
            "capacity": self.capacity,
            "columns": {key: torch.from_numpy(array[order]) for key, array in self._arrays.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._clear()
        columns = {key: tensor.numpy() for key, tensor in state["columns"].items()}
        if columns and len(next(iter(columns.values()))):
            self.add(columns)


def _stored_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype == np.float64 else dtype


def as_tensors(arrays: Mapping[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    """Move a batch of columns to ``device`` in one go (float64 becomes float32)."""
    return {
        key: torch.as_tensor(array.astype(np.float32) if array.dtype == np.float64 else array, device=device)
        for key, array in arrays.items()
    }


def observations(batch: Mapping[str, torch.Tensor], count: int, key: Any = obs_key) -> list[torch.Tensor]:
    """The ``count`` observation columns of ``batch``, in order."""
    return [batch[key(index)] for index in range(count)]


def padded_sequences(columns: Mapping[str, np.ndarray], sequence_length: int) -> dict[str, np.ndarray]:
    """Columns of one trajectory [T, ...] padded with zeros at the end to whole sequences of
    ``sequence_length``, with the :data:`SEQUENCE_MASK` column marking the real steps."""
    length = len(next(iter(columns.values())))
    padding = -length % sequence_length
    padded = {
        key: np.concatenate([column, np.zeros((padding, *column.shape[1:]), column.dtype)])
        for key, column in columns.items()
    }
    padded[SEQUENCE_MASK] = np.concatenate([np.ones(length, np.float32), np.zeros(padding, np.float32)])
    return padded
