"""Saving a trainer into its run folder: the checkpoint first, then the ONNX export beside it as a step of
its own (best effort: a failed export is logged and the checkpoint kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rldojo.checkpoint import save_trainer_checkpoint
from rldojo.export import export_beside_checkpoint
from rldojo.run_directory import RunDirectory
from rldojo.trainers import RLTrainer

__all__ = ["save_trainer"]


def save_trainer(
    run_dir: RunDirectory,
    name: str,
    trainer: RLTrainer[Any, Any],
    final: bool = False,
    self_play: dict[str, Any] | None = None,
) -> Path:
    """Checkpoint ``trainer`` (behavior ``name``) at its current step, with the ``self_play`` state of its
    behavior when it has one, then export its policy to ONNX beside the checkpoint and, for the ``final``
    one, to ``<run>/<behavior>.onnx``. Returns the checkpoint."""
    rewards = trainer.reward_buffer
    state = trainer.checkpoint_state()
    if self_play is not None:
        state["self_play"] = self_play
    checkpoint = save_trainer_checkpoint(
        run_dir.behavior_dir(name),
        name,
        trainer.get_step,
        state,
        trainer.trainer_settings.keep_checkpoints,
        sum(rewards) / len(rewards) if rewards else None,
        final=final,
    )
    policy = trainer.get_policy(name)
    final_model = run_dir.final_model_file(name) if final else None
    export_beside_checkpoint(policy.export_network(), policy.behavior_spec, checkpoint, final_model)
    return checkpoint
