"""One run of a sweep: an ordinary ``rldojo learn`` process with its own results folder, stoppable early,
and the rewards it recorded in its training status."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rldojo_ray.sweep.settings import SweepSettings

__all__ = ["RunSpec", "checkpoint_rewards", "final_reward", "run_process", "trial_runs"]

POLL_S = 0.25
STOP_GRACE_S = 60.0


@dataclass(frozen=True)
class RunSpec:
    """``rldojo learn base --set key=value ... --seed S`` into ``results_dir/run_id``."""

    base: Path
    overrides: dict[str, Any]
    seed: int
    results_dir: Path
    run_id: str

    @property
    def run_dir(self) -> Path:
        return self.results_dir / self.run_id

    @property
    def stop_file(self) -> Path:
        """Created by the sweep to stop the run early (it saves, then exits)."""
        return self.results_dir / f".{self.run_id}.stop"

    @property
    def log_file(self) -> Path:
        return self.results_dir / f"{self.run_id}.log"

    def command(self) -> list[str]:
        settings = [f"--set={key}={json.dumps(value)}" for key, value in self.overrides.items()]
        launch = "from rldojo.cli import main; raise SystemExit(main())"
        return [
            sys.executable, "-c", launch, "learn", str(self.base), *settings,
            "--seed", str(self.seed), "--run-id", self.run_id, "--results-dir", str(self.results_dir),
        ]  # fmt: skip


def trial_runs(settings: SweepSettings, trial: str, overrides: dict[str, Any]) -> list[RunSpec]:
    """The runs of ``trial`` (one per seed) in the sweep's ``runs/`` folder: ``trial-<trial>-seed-S``."""
    runs_dir = settings.sweep_dir.resolve() / "runs"
    run_overrides = {**settings.fixed, **overrides}
    return [
        RunSpec(settings.base, run_overrides, seed, runs_dir, f"trial-{trial}-seed-{seed}")
        for seed in settings.seeds
    ]


def run_process(spec: RunSpec) -> int:
    """Run ``spec`` to its end (or until its stop file appears: then SIGTERM, which saves); its exit code.

    Runs wherever it is called: in a thread of the sweep, or of a Ray Tune trial on a cluster node.
    """
    spec.results_dir.mkdir(parents=True, exist_ok=True)
    spec.stop_file.unlink(missing_ok=True)  # from an earlier sweep into the same folder
    with spec.log_file.open("w") as log:
        process = subprocess.Popen(spec.command(), stdout=log, stderr=subprocess.STDOUT)
        while True:
            try:
                return process.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                if spec.stop_file.exists():
                    process.send_signal(signal.SIGTERM)
                    try:
                        return process.wait(timeout=STOP_GRACE_S)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        return process.wait()


def _status(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / "run_logs" / "training_status.json").read_text())
    except (OSError, ValueError):  # not written yet, or being replaced
        return {}
    return {name: entry for name, entry in data.items() if isinstance(entry, dict) and "checkpoints" in entry}


def checkpoint_rewards(run_dir: Path) -> dict[int, float]:
    """Mean reward over the behaviors at each checkpoint step the run has recorded so far."""
    by_step: dict[int, list[float]] = {}
    for entry in _status(run_dir).values():
        for checkpoint in entry["checkpoints"]:
            if checkpoint.get("reward") is not None:
                by_step.setdefault(int(checkpoint["steps"]), []).append(float(checkpoint["reward"]))
    return {step: sum(values) / len(values) for step, values in sorted(by_step.items())}


def final_reward(run_dir: Path) -> float | None:
    """Mean over the behaviors of the reward recorded with the final checkpoint (last 100 episodes)."""
    rewards = [
        float(entry["final_checkpoint"]["reward"])
        for entry in _status(run_dir).values()
        if (entry.get("final_checkpoint") or {}).get("reward") is not None
    ]
    return sum(rewards) / len(rewards) if rewards else None
