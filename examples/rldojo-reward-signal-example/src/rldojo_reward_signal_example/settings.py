"""Settings and registration of ``count_novelty``: no torch here, so config validation stays light."""

from __future__ import annotations

from pydantic import Field

from rldojo.settings import RewardSignalSettings, YamlInt


class CountNoveltySettings(RewardSignalSettings):
    """``reward_signals.count_novelty``: ``gamma``, ``strength`` and ``network_settings``, plus:"""

    hash_bits: YamlInt = Field(16, gt=0, le=24)
    """Observations are counted in ``2 ** hash_bits`` buckets."""


def get_reward_signal() -> dict[str, tuple[str, type[CountNoveltySettings]]]:
    """Named by the ``rldojo.reward_signal`` entry point ``count_novelty``; the signal class is given by
    its import path, so it (and torch) load only when a trainer builds it."""
    signal_class = "rldojo_reward_signal_example.count_novelty:CountNoveltySignal"
    return {"count_novelty": (signal_class, CountNoveltySettings)}
