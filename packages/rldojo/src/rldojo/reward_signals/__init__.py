"""Reward signals (ML-Agents' reward providers): what a behavior's ``reward_signals:`` block builds.

Each signal is a plugin of the ``rldojo.reward_signal`` entry-point group; the core registers ``extrinsic``,
``curiosity``, ``rnd`` and ``gail``. The classes load on first use, so that the settings module
(``rldojo.reward_signals.settings``) imports without torch.
"""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports

if TYPE_CHECKING:
    from rldojo.reward_signals.base import RewardSignal, SignalStats, create_reward_signals, transition_batch
    from rldojo.reward_signals.curiosity import CuriosityRewardSignal
    from rldojo.reward_signals.extrinsic import ExtrinsicRewardSignal
    from rldojo.reward_signals.gail import GAILRewardSignal
    from rldojo.reward_signals.rnd import RNDRewardSignal
    from rldojo.reward_signals.settings import CuriositySettings, GAILSettings, RNDSettings

__all__ = [
    "CuriosityRewardSignal",
    "CuriositySettings",
    "ExtrinsicRewardSignal",
    "GAILRewardSignal",
    "GAILSettings",
    "RNDRewardSignal",
    "RNDSettings",
    "RewardSignal",
    "SignalStats",
    "create_reward_signals",
    "transition_batch",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "CuriosityRewardSignal": "rldojo.reward_signals.curiosity",
        "CuriositySettings": "rldojo.reward_signals.settings",
        "ExtrinsicRewardSignal": "rldojo.reward_signals.extrinsic",
        "GAILRewardSignal": "rldojo.reward_signals.gail",
        "GAILSettings": "rldojo.reward_signals.settings",
        "RNDRewardSignal": "rldojo.reward_signals.rnd",
        "RNDSettings": "rldojo.reward_signals.settings",
        "RewardSignal": "rldojo.reward_signals.base",
        "SignalStats": "rldojo.reward_signals.base",
        "create_reward_signals": "rldojo.reward_signals.base",
        "transition_batch": "rldojo.reward_signals.base",
    },
)
