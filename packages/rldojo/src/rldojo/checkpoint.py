"""Checkpoint files: ``weights_only`` loading, RNG state, keep_checkpoints.

A checkpoint is a dict of tensors and primitive containers only (no pickled objects), so it loads with
``torch.load(weights_only=True)``. Files are written to a temporary name, fsynced and renamed over the
old file, so a crash (even ``kill -9``) during a write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
import logging
import random
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from rldojo.errors import RldojoError
from rldojo.files import atomic_write  # re-exported: plugins and packages write files with it
from rldojo.run_directory import (  # LATEST_CHECKPOINT re-exported: plugins and packages name it from here
    LATEST_CHECKPOINT,
    TrainingStatus,
    latest_checkpoint_file,
    library_versions,
    model_file,
    step_checkpoint_file,
    step_checkpoint_files,
    training_status_file,
)

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "LATEST_CHECKPOINT",
    "atomic_write",
    "load_checkpoint",
    "load_latest_checkpoint",
    "restore_rng_state",
    "rng_state",
    "save_checkpoint",
    "save_trainer_checkpoint",
]

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT_VERSION = 1


def rng_state() -> dict[str, Any]:
    """Python, numpy and torch (CPU and CUDA) random states as tensors and primitives (Python's 625 state
    words as one tensor: pickled one by one they were most of a small checkpoint's serialising time)."""
    _, keys, position, has_gauss, cached_gaussian = cast(
        tuple[str, np.ndarray, int, int, float], np.random.get_state()
    )
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": (version, torch.tensor(internal, dtype=torch.int64), gauss),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]  # internal: a tensor, or (checkpoints before it) a list
    words = internal.tolist() if isinstance(internal, torch.Tensor) else internal
    random.setstate((version, tuple(words), gauss))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any], *copies: Path) -> None:
    """Atomically write ``state`` (plus format version, library versions and RNG state) to ``path`` and to
    each of ``copies``."""
    payload = {
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "versions": library_versions(),
        "rng": rng_state(),
        **state,
    }
    buffer = io.BytesIO()  # serialised first, so a full disk raises OSError from the write below
    torch.save(payload, buffer)
    for target in (path, *copies):
        atomic_write(target, lambda file: file.write(buffer.getbuffer()))


def load_checkpoint(path: Path, map_location: torch.device | str = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, without unpickling arbitrary objects."""
    if not path.is_file():
        raise RldojoError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception:  # torch's own message suggests weights_only=False, which is unsafe: not shown
        raise RldojoError(f"checkpoint {path} is damaged or not an rldojo checkpoint") from None
    version = state.get("format_version") if isinstance(state, dict) else None
    if version != CHECKPOINT_FORMAT_VERSION:
        raise RldojoError(
            f"checkpoint {path} has format version {version}; "
            f"this rldojo reads version {CHECKPOINT_FORMAT_VERSION}"
        )
    return state


def load_latest_checkpoint(behavior_dir: Path, map_location: torch.device | str = "cpu") -> dict[str, Any]:
    """Load ``checkpoint.pt`` of ``behavior_dir``, or when it is missing or damaged the newest intact
    ``<behavior>-<step>.pt`` (saying which); RldojoError when none can be read."""
    try:
        return load_checkpoint(latest_checkpoint_file(behavior_dir), map_location)
    except RldojoError as error:
        problem = str(error)
    for step_file in reversed(step_checkpoint_files(behavior_dir).values()):
        try:
            state = load_checkpoint(step_file, map_location)
        except RldojoError:
            continue
        logger.warning("%s; resuming from %s instead", problem, step_file.name)
        return state
    raise RldojoError(
        f"{problem}, and no intact <behavior>-<step>.pt is beside it; start the run again with --force"
    )


def save_trainer_checkpoint(
    artifact_path: Path,
    behavior: str,
    step: int,
    state: dict[str, Any],
    keep_checkpoints: int,
    reward: float | None,
    final: bool = False,
) -> Path:
    """Write ``<behavior>-<step>.pt`` and ``checkpoint.pt``, record them, delete checkpoints beyond the newest
    ``keep_checkpoints``. Returns the step file."""
    step_file = step_checkpoint_file(artifact_path, step)
    save_checkpoint(step_file, {**state, "step": step}, latest_checkpoint_file(artifact_path))
    status = TrainingStatus(training_status_file(artifact_path.parent))
    entry = {
        "steps": step,
        "file_path": str(step_file),
        "reward": reward,
        "creation_time": time.time(),
        "auxillary_file_paths": [],
    }
    kept = [c for c in status.checkpoints(behavior) if c["file_path"] != str(step_file)] + [entry]
    status.data[behavior]["checkpoints"] = kept[-keep_checkpoints:]
    if final:
        status.data[behavior]["final_checkpoint"] = entry
    status.save()  # before deleting, so the status never lists a deleted file
    for old in kept[:-keep_checkpoints]:
        Path(old["file_path"]).unlink(missing_ok=True)
        model_file(Path(old["file_path"])).unlink(missing_ok=True)
    for leftover in artifact_path.glob(".*.tmp"):  # from writes killed half-way
        leftover.unlink(missing_ok=True)
    return step_file
