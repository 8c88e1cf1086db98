"""The core's stats writers, registered through the ``rldojo.stats_writer`` entry point."""

from __future__ import annotations

from typing import Any

from rldojo.stats.console import ConsoleWriter
from rldojo.stats.core import StatsWriter
from rldojo.stats.tensorboard import TensorboardWriter

__all__ = ["get_default_stats_writers"]

HIDDEN_TENSORBOARD_KEYS = ("Is Training", "Step")


def get_default_stats_writers(run_options: Any) -> list[StatsWriter]:
    """Console and TensorBoard writers for a run (``run_options`` is a ``RunOptions``)."""
    checkpoint_settings = run_options.checkpoint_settings
    return [
        TensorboardWriter(
            checkpoint_settings.write_path,
            clear_past_data=not checkpoint_settings.resume,
            hidden_keys=HIDDEN_TENSORBOARD_KEYS,
        ),
        ConsoleWriter(run_folder=checkpoint_settings.write_path),
    ]
