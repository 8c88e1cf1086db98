"""The results table of a sweep: one row per trial, best first, as Markdown (``results.md``) and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rldojo.checkpoint import atomic_write
from rldojo_ray.sweep.runs import RunSpec, final_reward

__all__ = ["TrialResult", "format_table", "write_results"]


@dataclass
class TrialResult:
    number: int | str  # the trial's number (local sweeps) or Tune's trial id (Ray Tune sweeps)
    overrides: dict[str, Any]
    state: str  # complete, pruned (stopped early) or fail
    reward: float | None  # mean over the seeds of the final mean reward
    seed_rewards: list[float | None]
    run_ids: list[str]

    @classmethod
    def of_runs(
        cls, number: int | str, overrides: dict[str, Any], runs: Sequence[RunSpec], failed: bool
    ) -> TrialResult:
        """Score a trial whose runs are over: the mean over its seeds of each run's final reward. Runs the
        sweep stopped early (their stop file exists) make it ``pruned``; ``failed`` (a run exited non-zero)
        or a run without a final reward make it ``fail``."""
        rewards = [final_reward(run.run_dir) for run in runs]
        reward = None if None in rewards else sum(r for r in rewards if r is not None) / len(rewards)
        if any(run.stop_file.exists() for run in runs):
            state = "pruned"
        elif failed or reward is None:
            state = "fail"
        else:
            state = "complete"
        return cls(number, overrides, state, reward, rewards, [run.run_id for run in runs])


def _ranked(results: Sequence[TrialResult]) -> list[TrialResult]:
    return sorted(results, key=lambda r: (r.state != "complete", -(r.reward if r.reward is not None else 0)))


def _rows(results: Sequence[TrialResult]) -> tuple[list[str], list[list[str]]]:
    keys = sorted({key for result in results for key in result.overrides})
    header = ["rank", "trial", *keys, "reward", "per seed", "state", "runs"]
    rows = []
    for rank, result in enumerate(_ranked(results), start=1):
        rewards = " ".join("-" if r is None else f"{r:.3f}" for r in result.seed_rewards)
        rows.append(
            [
                str(rank),
                str(result.number),
                *(str(result.overrides.get(key, "")) for key in keys),
                "-" if result.reward is None else f"{result.reward:.3f}",
                rewards,
                result.state,
                " ".join(result.run_ids),
            ]
        )
    return header, rows


def format_table(results: Sequence[TrialResult]) -> str:
    """The trials as a Markdown table, best first (stopped and failed trials last)."""
    header, rows = _rows(results)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_results(sweep_dir: Path, results: Sequence[TrialResult]) -> None:
    """Write ``results.md`` and ``results.csv`` into ``sweep_dir`` (replaced after every trial)."""
    header, rows = _rows(results)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    for name, text in (("results.md", format_table(results)), ("results.csv", buffer.getvalue())):
        data = text.encode()
        atomic_write(sweep_dir / name, lambda file, data=data: file.write(data))  # type: ignore[misc]
