"""The sweep file (``rldojo sweep SWEEP.yaml``): a base run config, a search space over any of its keys, and
how to search it."""

from __future__ import annotations

import itertools
import math
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from rldojo.errors import ConfigError
from rldojo.settings import TrainerSettings, YamlFloat, YamlInt, load_run_options, read_yaml
from rldojo.settings.base import SettingsModel

__all__ = ["EarlyStopping", "ParameterSpace", "Sampler", "SweepSettings", "load_sweep_settings"]


class Sampler(str, Enum):
    GRID = "grid"
    RANDOM = "random"
    TPE = "tpe"  # Optuna's Tree-structured Parzen Estimator


class EarlyStopping(str, Enum):
    NONE = "none"
    MEDIAN = "median"  # stop a trial below the median of earlier trials at the same step
    ASHA = "asha"  # asynchronous successive halving


class ParameterSpace(SettingsModel):
    """The values one config key takes: a list (``values``), or a range ``low``..``high``."""

    values: list[Any] | None = None
    low: YamlFloat | None = None
    high: YamlFloat | None = None
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _values_or_range(self) -> ParameterSpace:
        has_range = self.low is not None and self.high is not None
        if (self.values is not None) == (has_range or self.low is not None or self.high is not None):
            raise PydanticCustomError("values_or_range", "give either values: [...] or both low: and high:")
        if self.values is not None and not self.values:
            raise PydanticCustomError("no_values", "values: is empty")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise PydanticCustomError("empty_range", "low must be below high")
        return self


class SweepSettings(SettingsModel):
    """One sweep; ``base`` is relative to the sweep file."""

    base: Path
    sweep_id: str = Field(default="sweep", min_length=1, pattern=r"^[^/\\]+$")
    results_dir: str = "results"
    fixed: dict[str, Any] = Field(default_factory=dict)
    """Config keys set to one value in every trial (e.g. a shorter ``behaviors.<name>.max_steps``)."""
    search_space: dict[str, ParameterSpace] = Field(min_length=1)
    sampler: Sampler = Sampler.GRID
    num_trials: YamlInt | None = Field(default=None, ge=1)
    """Configurations to try; a grid tries all of them when unset."""
    seeds: list[YamlInt] = Field(default_factory=lambda: [0], min_length=1)
    """Every trial runs once per seed (at the same time)."""
    early_stopping: EarlyStopping = EarlyStopping.NONE
    ray: str | None = None
    """Run the trials as Ray Tune trials on the cluster at this address (``local``: a Ray instance here)."""
    max_concurrent_trials: YamlInt | None = Field(default=None, ge=1)
    """With ``ray``: trials at once (default: as many as the cluster's CPUs hold); local ones run in turn."""

    @model_validator(mode="after")
    def _budget(self) -> SweepSettings:
        ranges = [key for key, space in self.search_space.items() if space.values is None]
        if self.sampler == Sampler.GRID and ranges:
            raise PydanticCustomError(
                "grid_needs_values",
                "the grid sampler needs values: [...] for every key ({keys} has a range); "
                "use sampler: random or tpe",
                {"keys": ", ".join(ranges)},
            )
        if self.sampler != Sampler.GRID and self.num_trials is None:
            raise PydanticCustomError("num_trials", "num_trials is needed with the random and tpe samplers")
        return self

    @property
    def grid_size(self) -> int:
        return math.prod(len(space.values or ()) for space in self.search_space.values())

    def grid_points(self) -> list[dict[str, Any]]:
        """Every configuration of a grid, in order (the last key changes fastest)."""
        keys = list(self.search_space)
        values = (self.search_space[key].values or () for key in keys)
        return [dict(zip(keys, point, strict=True)) for point in itertools.product(*values)]

    @property
    def trial_budget(self) -> int:
        if self.sampler == Sampler.GRID:
            return min(self.num_trials or self.grid_size, self.grid_size)
        assert self.num_trials is not None
        return self.num_trials

    def checkpoint_steps(self) -> tuple[int, int]:
        """The base config's (first checkpoint step, max_steps) with the ``fixed`` keys, over its behaviors:
        where ASHA's first rung is, and how long a trial runs."""
        options = load_run_options(self.base, self.fixed)
        behaviors: list[TrainerSettings | None] = [*options.behaviors.values()] or [options.default_settings]
        budgets = [(min(b.checkpoint_interval, b.max_steps), b.max_steps) for b in behaviors if b is not None]
        if not budgets:
            raise ConfigError(
                f"{self.base}: early_stopping: asha needs max_steps in behaviors or default_settings"
            )
        return min(first for first, _ in budgets), max(steps for _, steps in budgets)

    @property
    def sweep_dir(self) -> Path:
        return Path(self.results_dir) / self.sweep_id


def load_sweep_settings(path: Path, overrides: dict[str, Any] | None = None) -> SweepSettings:
    """Read a sweep file; any problem is one ConfigError line naming the file and the key."""
    data = read_yaml(path)
    data.update(overrides or {})
    try:
        settings = SweepSettings.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {problem['msg']}") from None
    settings.base = (path.parent / settings.base).resolve()
    if not settings.base.is_file():
        raise ConfigError(f"{path}: base: no such run config {settings.base}")
    return settings
