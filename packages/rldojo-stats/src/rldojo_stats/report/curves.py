"""Curves of one stat of finished runs, read from ``summaries.csv`` or, failing that, TensorBoard events."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from rldojo.errors import ConfigError
from rldojo.run_directory import MANIFEST_FILE

__all__ = ["EVAL_REWARD_KEY", "REWARD_KEY", "Curve", "read_curves"]

REWARD_KEY = "Environment/Cumulative Reward"
EVAL_REWARD_KEY = "Eval/Cumulative Reward"
"""The mean return of the evaluation episodes run during training (``eval_settings``)."""


@dataclass(frozen=True)
class Curve:
    """The mean of one stat for one behavior of one run at each summary."""

    run_id: str
    behavior: str
    steps: np.ndarray
    elapsed: np.ndarray
    """Seconds since the run started (its first launch), or since its first summary."""
    values: np.ndarray


def _start_time(run_dir: Path) -> float | None:
    """When the run was first launched, from ``run_manifest.json``."""
    path = run_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    launches = [*manifest.get("previous_launches", []), manifest]
    return datetime.fromisoformat(launches[0]["started_at"]).timestamp()


def _from_csv(path: Path, metric: str) -> dict[str, list[tuple[int, float, float]]]:
    points: dict[str, list[tuple[int, float, float]]] = {}
    with path.open(newline="") as stream:
        for row in csv.DictReader(stream):
            value = row.get(f"{metric}/mean")
            if value:
                points.setdefault(row["behavior"], []).append(
                    (int(row["step"]), float(row["wall_time"]), float(value))
                )
    return points


def _from_tensorboard(run_dir: Path, metric: str) -> dict[str, list[tuple[int, float, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    points: dict[str, list[tuple[int, float, float]]] = {}
    for folder in sorted({path.parent for path in run_dir.glob("*/events.out.tfevents.*")}):
        events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
        events.Reload()
        if metric in events.Tags()["scalars"]:
            points[folder.name] = [
                (event.step, event.wall_time, event.value) for event in events.Scalars(metric)
            ]
    return points


def read_curves(run_dir: Path, metric: str = REWARD_KEY) -> list[Curve]:
    """The curve of ``metric`` for every behavior of a run folder that logged it (maybe none)."""
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: no such run folder")
    csv_path = run_dir / "summaries.csv"
    points = _from_csv(csv_path, metric) if csv_path.is_file() else {}
    points = points or _from_tensorboard(run_dir, metric)
    start = _start_time(run_dir)
    curves = []
    for behavior, rows in sorted(points.items()):
        steps, wall_times, values = (np.asarray(column) for column in zip(*sorted(rows), strict=True))
        elapsed = wall_times - (start if start is not None else wall_times[0])
        curves.append(Curve(run_dir.name, behavior, steps, elapsed, values))
    return curves
