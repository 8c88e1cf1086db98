"""Weights & Biases: one W&B run per rldojo run, metrics against each behavior's trainer step.

The W&B run is named after the run id; its id is kept in ``<run folder>/wandb_run_id.txt`` so
``--resume`` continues the same W&B run. ``WANDB_MODE``, ``WANDB_DIR`` and the API key are read by
wandb itself (the key is never passed through rldojo, so it cannot reach configs or manifests).
Any W&B failure is logged once as a warning and the writer goes quiet; training continues.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rldojo.run_directory import LATEST_CHECKPOINT, MANIFEST_FILE, as_yaml_data
from rldojo.settings import RunOptions
from rldojo.stats import StatsAggregationMethod, StatsSummary, StatsWriter

__all__ = ["RUN_ID_FILE", "WandbOptions", "WandbWriter", "get_wandb_writers", "metric_name"]

logger = logging.getLogger(__name__)

RUN_ID_FILE = "wandb_run_id.txt"
HIDDEN_KEYS = ("Step",)


def metric_name(category: str, key: str) -> str:
    """``<Behavior>/<stat>``; a stat the env already named after its behavior (``3DBall/Ball Dropped``)
    keeps its name instead of becoming ``3DBall/3DBall/Ball Dropped``."""
    return key if key.startswith(f"{category}/") else f"{category}/{key}"


class WandbOptions(BaseModel):
    """Options of ``stats_writers: wandb:`` (and the ``--wandb-*`` flags)."""

    model_config = ConfigDict(extra="forbid")

    project: str | None = None
    """W&B project (default: wandb's own default, ``WANDB_PROJECT`` or "uncategorized")."""
    entity: str | None = None
    group: str | None = None
    tags: list[str] = Field(default_factory=list)
    mode: Literal["online", "offline", "disabled"] | None = None
    """None leaves the choice to wandb (``WANDB_MODE``, else online)."""
    init_timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait for W&B to start before giving up (with a warning)."""


def artifact_name(run_id: str, kind: str) -> str:
    """A W&B artifact name (letters, digits, ``-_.``) for ``kind`` files of ``run_id``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{run_id}-{kind}")


class WandbWriter(StatsWriter):
    """Logs summaries to one W&B run; uploads ONNX models and final checkpoints at close."""

    def __init__(self, options: WandbOptions, run_options: RunOptions):
        self.options = options
        self.run_folder = run_options.checkpoint_settings.write_path
        self.run_id = run_options.checkpoint_settings.run_id
        self.config = self._config(run_options)
        self.resume = run_options.checkpoint_settings.resume
        self.run: Any = None
        self.failed = False
        self.categories: set[str] = set()

    def _config(self, run_options: RunOptions) -> dict[str, Any]:
        """The resolved configuration plus the run manifest, when ``rldojo learn`` wrote one."""
        config = as_yaml_data(run_options)
        manifest = self.run_folder / MANIFEST_FILE
        if manifest.is_file():
            config["run_manifest"] = json.loads(manifest.read_text())
        return config

    def _guarded(self, action: Callable[[], Any]) -> Any:
        """Run a W&B call; the first failure is one warning, after which the writer does nothing."""
        if self.failed:
            return None
        try:
            return action()
        except Exception as error:
            self.failed = True
            first_line = str(error).splitlines()[0] if str(error) else ""
            logger.warning(
                "W&B logging stopped (%s: %s); training continues", type(error).__name__, first_line
            )
            return None

    def _wandb_run_id(self) -> str:
        """The id stored by an earlier launch when resuming, else a new one (stored for --resume)."""
        path = self.run_folder / RUN_ID_FILE
        if self.resume and path.is_file():
            return path.read_text().strip()
        run_id = secrets.token_hex(4)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run_id + "\n")
        return run_id

    def _start(self) -> Any:
        import wandb

        return wandb.init(
            project=self.options.project,
            entity=self.options.entity,
            group=self.options.group,
            tags=self.options.tags or None,
            name=self.run_id,
            id=self._wandb_run_id(),
            resume="allow",
            mode=self.options.mode,
            dir=None if "WANDB_DIR" in os.environ else self.run_folder,  # <run folder>/wandb, not ./wandb
            config=self.config,
            settings=wandb.Settings(console="off", init_timeout=self.options.init_timeout),
        )

    def _active_run(self) -> Any:
        if self.run is None and not self.failed:
            self.run = self._guarded(self._start)
        return self.run

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        run = self._active_run()
        if run is not None:
            self._guarded(lambda: self._log(run, category, values, step))

    def _log(self, run: Any, category: str, values: dict[str, StatsSummary], step: int) -> None:
        import wandb

        if category not in self.categories:
            run.define_metric(f"{category}/step")
            run.define_metric(f"{category}/*", step_metric=f"{category}/step")
            self.categories.add(category)
        data: dict[str, Any] = {f"{category}/step": step}
        for key, summary in values.items():
            if key in HIDDEN_KEYS:
                continue
            name = metric_name(category, key)
            data[name] = summary.aggregated_value
            if summary.aggregation_method == StatsAggregationMethod.HISTOGRAM and summary.num > 0:
                data[f"{name} histogram"] = wandb.Histogram(summary.full_dist)
        run.log(data)

    def model_files(self) -> dict[str, list[Path]]:
        """Files to upload by artifact kind: the run's final ONNX models (``<Behavior>.onnx``, not the ones
        beside each checkpoint) and each behavior's latest checkpoint."""
        return {
            "onnx": sorted(self.run_folder.glob("*.onnx")),
            "checkpoint": sorted(self.run_folder.glob(f"*/{LATEST_CHECKPOINT}")),
        }

    def _upload_models(self, run: Any) -> None:
        import wandb

        kinds = {"onnx": "model", "checkpoint": "checkpoint"}
        for kind, files in self.model_files().items():
            if not files:
                continue
            artifact = wandb.Artifact(artifact_name(self.run_id, kind), type=kinds[kind])
            for path in files:
                artifact.add_file(str(path), name=str(path.relative_to(self.run_folder)))
            run.log_artifact(artifact)

    def _upload_and_finish(self, run: Any) -> None:
        try:
            self._upload_models(run)
        finally:
            run.finish()

    def close(self) -> None:
        run = self._active_run()
        if run is not None:
            self._guarded(lambda: self._upload_and_finish(run))
        self.run = None


def get_wandb_writers(run_options: RunOptions) -> list[StatsWriter]:
    """The ``wandb`` entry point: a writer only when the run's ``stats_writers:`` asks for one."""
    if "wandb" not in run_options.stats_writers:
        return []
    return [WandbWriter(WandbOptions.model_validate(run_options.stats_writers["wandb"]), run_options)]


get_wandb_writers.options_model = WandbOptions  # type: ignore[attr-defined]
