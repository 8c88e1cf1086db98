"""TensorBoard event files, one folder per category (behavior) under the run directory.

They are written with tensorboardX, whose writer imports in about a fifth of the CPU time of
``torch.utils.tensorboard`` (which loads TensorBoard's TensorFlow stub and fsspec): every run pays that
import, and the files are the same TensorBoard event files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rldojo.stats.core import StatsAggregationMethod, StatsPropertyType, StatsSummary, StatsWriter

if TYPE_CHECKING:
    from tensorboardX import SummaryWriter

__all__ = ["TensorboardWriter"]


class TensorboardWriter(StatsWriter):
    """Writes scalars (and ``<key>_hist`` histograms for HISTOGRAM stats) to ``base_dir/<category>``."""

    def __init__(self, base_dir: Path, clear_past_data: bool = False, hidden_keys: Iterable[str] = ()):
        self.base_dir = Path(base_dir)
        self.clear_past_data = clear_past_data
        self.hidden_keys = set(hidden_keys)
        self.writers: dict[str, SummaryWriter] = {}

    def _writer(self, category: str) -> SummaryWriter:
        if category not in self.writers:
            from tensorboardX import SummaryWriter  # imported when a run writes, not at validation

            folder = self.base_dir / category
            if self.clear_past_data:
                for old in folder.glob("events.out.tfevents.*"):
                    old.unlink()
            self.writers[category] = SummaryWriter(log_dir=str(folder))
        return self.writers[category]

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        """The summaries are built here rather than by ``add_scalar`` / ``add_histogram``, which would
        rename ML-Agents' tags (``Environment/Cumulative Reward`` -> ``..._Reward``)."""
        from tensorboardX.proto.summary_pb2 import Summary
        from tensorboardX.summary import make_histogram

        writer = self._writer(category)
        tagged = []
        for key, summary in values.items():
            if key in self.hidden_keys:
                continue
            tagged.append(Summary.Value(tag=key, simple_value=float(summary.aggregated_value)))
            if summary.aggregation_method == StatsAggregationMethod.HISTOGRAM and summary.num > 0:
                histogram = make_histogram(np.asarray(summary.full_dist, dtype=float), writer.default_bins)
                tagged.append(Summary.Value(tag=f"{key}_hist", histo=histogram))
        writer.file_writer.add_summary(Summary(value=tagged), step)
        writer.flush()

    def add_property(self, category: str, property_type: StatsPropertyType, value: Any) -> None:
        if property_type == StatsPropertyType.HYPERPARAMETERS:
            text = json.dumps(value, indent=2, default=str)
            self._writer(category).add_text("Hyperparameters", f"```\n{text}\n```", 0)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
