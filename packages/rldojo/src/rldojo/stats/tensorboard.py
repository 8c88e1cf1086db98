"""TensorBoard event files, one folder per category (behavior) under the run directory."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rldojo.stats.core import StatsAggregationMethod, StatsPropertyType, StatsSummary, StatsWriter

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

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
            from torch.utils.tensorboard import SummaryWriter  # imported when a run writes, not at validation

            folder = self.base_dir / category
            if self.clear_past_data:
                for old in folder.glob("events.out.tfevents.*"):
                    old.unlink()
            self.writers[category] = SummaryWriter(log_dir=str(folder))
        return self.writers[category]

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        writer = self._writer(category)
        for key, summary in values.items():
            if key in self.hidden_keys:
                continue
            writer.add_scalar(key, summary.aggregated_value, step)
            if summary.aggregation_method == StatsAggregationMethod.HISTOGRAM and summary.num > 0:
                writer.add_histogram(f"{key}_hist", np.asarray(summary.full_dist), step)
        writer.flush()

    def add_property(self, category: str, property_type: StatsPropertyType, value: Any) -> None:
        if property_type == StatsPropertyType.HYPERPARAMETERS:
            text = json.dumps(value, indent=2, default=str)
            self._writer(category).add_text("Hyperparameters", f"```\n{text}\n```", 0)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
