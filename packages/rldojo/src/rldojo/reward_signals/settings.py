"""Settings of the core's reward signals (ML-Agents' names and defaults) and their registration functions,
named by the core's ``rldojo.reward_signal`` entry points. Imports without torch: each signal class is
registered by its import path and loads only when a trainer builds it."""

from __future__ import annotations

import logging

from pydantic import Field, model_validator

from rldojo.settings import RewardSignalSettings, YamlFloat, YamlInt

__all__ = [
    "CuriositySettings",
    "GAILSettings",
    "LearnedSignalSettings",
    "RNDSettings",
    "get_curiosity",
    "get_extrinsic",
    "get_gail",
    "get_rnd",
]

logger = logging.getLogger(__name__)

RewardSignalRegistration = dict[str, tuple[str, type[RewardSignalSettings]]]


class LearnedSignalSettings(RewardSignalSettings):
    """A reward signal with a network of its own: curiosity's and GAIL's settings."""

    learning_rate: YamlFloat = Field(3.0e-4, gt=0.0)
    encoding_size: YamlInt | None = Field(None, gt=0)
    """Deprecated by ML-Agents: the size of the state encoding; use ``network_settings.hidden_units``."""

    @model_validator(mode="after")
    def _encoding_size_sets_hidden_units(self) -> LearnedSignalSettings:
        if self.encoding_size is not None:
            logger.warning("reward_signals: encoding_size is deprecated; use network_settings.hidden_units")
            if "network_settings" not in self.model_fields_set:
                self.network_settings = self.network_settings.model_copy(
                    update={"hidden_units": self.encoding_size}
                )
        return self


class CuriositySettings(LearnedSignalSettings):
    """``reward_signals.curiosity``: an intrinsic curiosity module (forward and inverse models)."""


class GAILSettings(LearnedSignalSettings):
    """``reward_signals.gail``: a discriminator between the policy's and a demonstration's transitions."""

    demo_path: str
    """A ``.demo`` file or a folder of them."""
    use_actions: bool = False
    """Whether the discriminator sees the actions (and episode ends) too, not only the observations."""
    use_vail: bool = False
    """Whether the discriminator has a variational information bottleneck (VAIL)."""


class RNDSettings(RewardSignalSettings):
    """``reward_signals.rnd``: random network distillation."""

    learning_rate: YamlFloat = Field(1.0e-4, gt=0.0)


def get_extrinsic() -> RewardSignalRegistration:
    """Registration function of the core's ``extrinsic`` entry point: the environment's own reward."""
    return {"extrinsic": ("rldojo.reward_signals.extrinsic:ExtrinsicRewardSignal", RewardSignalSettings)}


def get_curiosity() -> RewardSignalRegistration:
    """Registration function of the core's ``curiosity`` entry point."""
    return {"curiosity": ("rldojo.reward_signals.curiosity:CuriosityRewardSignal", CuriositySettings)}


def get_gail() -> RewardSignalRegistration:
    """Registration function of the core's ``gail`` entry point."""
    return {"gail": ("rldojo.reward_signals.gail:GAILRewardSignal", GAILSettings)}


def get_rnd() -> RewardSignalRegistration:
    """Registration function of the core's ``rnd`` entry point."""
    return {"rnd": ("rldojo.reward_signals.rnd:RNDRewardSignal", RNDSettings)}
