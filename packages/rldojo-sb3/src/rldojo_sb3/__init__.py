"""rldojo-sb3: Stable-Baselines3 algorithms as rldojo trainer types (``sb3_ppo``, ``sb3_sac``, ...).

The ``rldojo.trainer_type`` entry point :func:`get_type_and_setting` registers them; a run's YAML
selects one with ``trainer_type: sb3_ppo`` and gives the SB3 constructor arguments as
``hyperparameters``.

Public API: the names in ``__all__``, imported on first use (they import Stable-Baselines3 and
torch, which listing plugins must not). The modules behind them are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports

if TYPE_CHECKING:
    from rldojo_sb3.registration import get_type_and_setting
    from rldojo_sb3.settings import SB3HyperparamSettings, SB3OffPolicySettings
    from rldojo_sb3.trainer import SB3OffPolicyTrainer, SB3OnPolicyTrainer, SB3Trainer

__version__ = "0.1.0"

_EXPORTED_FROM = {
    "SB3HyperparamSettings": "rldojo_sb3.settings",
    "SB3OffPolicySettings": "rldojo_sb3.settings",
    "SB3OffPolicyTrainer": "rldojo_sb3.trainer",
    "SB3OnPolicyTrainer": "rldojo_sb3.trainer",
    "SB3Trainer": "rldojo_sb3.trainer",
    "get_type_and_setting": "rldojo_sb3.registration",
}

__all__ = [
    "SB3HyperparamSettings",
    "SB3OffPolicySettings",
    "SB3OffPolicyTrainer",
    "SB3OnPolicyTrainer",
    "SB3Trainer",
    "__version__",
    "get_type_and_setting",
]


__getattr__ = lazy_exports(__name__, _EXPORTED_FROM)
