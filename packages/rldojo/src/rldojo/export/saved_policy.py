"""Policies rebuilt from a run's checkpoints, for ``rldojo export`` and ``rldojo evaluate``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rldojo.checkpoint import load_checkpoint
from rldojo.errors import ConfigError, RldojoError
from rldojo.export.spec import behavior_spec_from_state
from rldojo.plugins import trainer_class
from rldojo.policy import Policy
from rldojo.run_directory import (
    CONFIGURATION_FILE,
    LATEST_CHECKPOINT,
    latest_checkpoint_file,
    step_checkpoint_file,
    step_checkpoint_files,
)
from rldojo.settings import read_yaml, run_options_from_dict

__all__ = ["SavedPolicy", "find_run", "load_saved_policies"]


@dataclass(frozen=True)
class SavedPolicy:
    """One behavior's policy as a checkpoint saved it."""

    behavior: str
    step: int
    checkpoint: Path
    policy: Policy


def find_run(run_id: str, results_dir: Path) -> Path:
    """``<results_dir>/<run_id>``, checked to be an rldojo run folder."""
    run = results_dir / run_id
    if not (run / CONFIGURATION_FILE).is_file():
        raise ConfigError(
            f"there is no run '{run_id}' in {results_dir} (no {run / CONFIGURATION_FILE}); "
            "give the run id used with 'rldojo learn' and, if needed, --results-dir"
        )
    return run


def _checkpoint_file(behavior_dir: Path, step: int | None) -> Path:
    if step is None:
        return latest_checkpoint_file(behavior_dir)
    path = step_checkpoint_file(behavior_dir, step)
    if not path.is_file():
        steps = step_checkpoint_files(behavior_dir)
        raise ConfigError(
            f"{behavior_dir.name} has no checkpoint at step {step} (kept steps: "
            f"{', '.join(map(str, steps)) or 'none'}); choose one of them with --step"
        )
    return path


def load_saved_policies(run: Path, step: int | None = None, deterministic: bool = False) -> list[SavedPolicy]:
    """The policy of every behavior of ``run`` at ``step`` (default: its newest checkpoint)."""
    behavior_dirs = sorted(path.parent for path in run.glob(f"*/{LATEST_CHECKPOINT}"))
    if not behavior_dirs:
        raise ConfigError(f"run {run} has no checkpoints yet; train it with 'rldojo learn' first")
    options = run_options_from_dict(read_yaml(run / CONFIGURATION_FILE), str(run / CONFIGURATION_FILE))
    saved = []
    for behavior_dir in behavior_dirs:
        behavior = behavior_dir.name
        path = _checkpoint_file(behavior_dir, step)
        try:
            state = load_checkpoint(path)
        except RldojoError as error:
            raise ConfigError(f"{error}; choose another --step, or another run") from None
        spec = behavior_spec_from_state(state.get("behavior_spec"), str(path))
        settings = options.behavior_settings(behavior)
        trainer = trainer_class(state["trainer_type"])(behavior, 1, settings, False, False, 0, behavior_dir)
        policy = trainer.create_policy(behavior, spec)
        policy.actor.load_state_dict(state["modules"]["Policy"])
        policy.actor.eval()
        policy.deterministic = deterministic
        saved.append(SavedPolicy(behavior, int(state["step"]), path, policy))
    return saved
