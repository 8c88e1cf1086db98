"""ML-Agents' recorded demonstrations (the scenes rldojo-sim simulates) and the Basic behavior they fit."""

from __future__ import annotations

from pathlib import Path

from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
)

# ML-Agents' configs, demos and models, in ../shared beside the checkout
REFERENCE_DATA = Path(__file__).resolve().parents[3] / "shared" / "reference-data" / "mlagents"
DEMOS = REFERENCE_DATA / "demos"
BASIC_DEMO = DEMOS / "ExpertBasic.demo"
BASIC_SPEC = BehaviorSpec(
    [ObservationSpec((20,), (DimensionProperty.UNSPECIFIED,), ObservationType.DEFAULT, "")],
    ActionSpec(0, (3,)),
)
"""Basic's behavior: a one-hot position of 20, one branch of 3 actions (stay, left, right)."""
