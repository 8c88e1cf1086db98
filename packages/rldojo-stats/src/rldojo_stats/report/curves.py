"""Learning curves of finished runs, read from ``summaries.csv`` or, failing that, TensorBoard events."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from rldojo.errors import ConfigError
from rldojo.run_directory import MANIFEST_FILE

__all__ = ["REWARD_KEY", "Curve", "group_name", "read_curves"]

REWARD_KEY = "Environment/Cumulative Reward"
SEED_SUFFIX = re.compile(r"[-_.]?(seed|s)?\d+$")


@dataclass(frozen=True)
class Curve:
    """Mean episode reward of one behavior of one run at each summary."""

    run_id: str
    behavior: str
    steps: np.ndarray
    elapsed: np.ndarray
    """Seconds since the run started (its first launch), or since its first summary."""
    rewards: np.ndarray

    @property
    def group(self) -> str:
        return group_name(self.run_id)


def group_name(run_id: str) -> str:
    """Runs whose ids differ only by a trailing seed number (``basic_s1``, ``basic-2``) form one group."""
    return SEED_SUFFIX.sub("", run_id) or run_id


def _start_time(run_dir: Path) -> float | None:
    """When the run was first launched, from ``run_manifest.json``."""
    path = run_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    launches = [*manifest.get("previous_launches", []), manifest]
    return datetime.fromisoformat(launches[0]["started_at"]).timestamp()


def _from_csv(path: Path) -> dict[str, list[tuple[int, float, float]]]:
    points: dict[str, list[tuple[int, float, float]]] = {}
    with path.open(newline="") as stream:
        for row in csv.DictReader(stream):
            reward = row.get(f"{REWARD_KEY}/mean")
            if reward:
                points.setdefault(row["behavior"], []).append(
                    (int(row["step"]), float(row["wall_time"]), float(reward))
                )
    return points


def _from_tensorboard(run_dir: Path) -> dict[str, list[tuple[int, float, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    points: dict[str, list[tuple[int, float, float]]] = {}
    for folder in sorted({path.parent for path in run_dir.glob("*/events.out.tfevents.*")}):
        events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
        events.Reload()
        if REWARD_KEY in events.Tags()["scalars"]:
            scalars = events.Scalars(REWARD_KEY)
            points[folder.name] = [(event.step, event.wall_time, event.value) for event in scalars]
    return points


def read_curves(run_dir: Path) -> list[Curve]:
    """The reward curve of every behavior of a run folder; ConfigError when it has no stats."""
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: no such run folder")
    csv_path = run_dir / "summaries.csv"
    points = _from_csv(csv_path) if csv_path.is_file() else _from_tensorboard(run_dir)
    if not points:
        raise ConfigError(
            f"{run_dir}: no episode rewards found (neither summaries.csv nor TensorBoard events with "
            f"'{REWARD_KEY}'); is it an rldojo run folder that completed episodes?"
        )
    start = _start_time(run_dir)
    curves = []
    for behavior, rows in sorted(points.items()):
        steps, wall_times, rewards = (np.asarray(column) for column in zip(*sorted(rows), strict=True))
        elapsed = wall_times - (start if start is not None else wall_times[0])
        curves.append(Curve(run_dir.name, behavior, steps, elapsed, rewards))
    return curves
