"""PPO learning curves on rldojo-sim builds launched over real gRPC (or in process with --in-process).

    .venv/bin/python scripts/bench_ppo.py [--seeds 1 2] [--in-process] [--out results/bench_ppo]

Trains Basic (configs/basic_ppo.yaml) and 3DBall (configs/ppo.yaml) and prints, per run, the mean
reward at each summary with the agent steps per second of the whole run so far.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import rldojo_sim
from rldojo.settings import load_run_options
from rldojo.stats import StatsAggregationMethod, StatsSummary, StatsWriter
from rldojo.training import train_run

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = {"Basic": ROOT / "configs" / "basic_ppo.yaml", "3DBall": ROOT / "configs" / "ppo.yaml"}


class CurveWriter(StatsWriter):
    """Records (step, mean reward, seconds since the first trajectory) at each summary.

    The clock starts with the first step count, so start-up (imports, launching the build, creating the
    networks) is not part of the steps per second.
    """

    def __init__(self) -> None:
        self.start: float | None = None
        self.points: list[tuple[int, float, float]] = []

    def on_add_stat(
        self,
        category: str,
        key: str,
        value: float,
        aggregation: StatsAggregationMethod = StatsAggregationMethod.AVERAGE,
    ) -> None:
        if key == "Step" and self.start is None:
            self.start = time.perf_counter()

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        reward = values.get("Environment/Cumulative Reward")
        mean = reward.mean if reward is not None and reward.num else float("nan")
        self.points.append((step, mean, time.perf_counter() - (self.start or time.perf_counter())))


def run(scene: str, seed: int, env_path: str, out: Path) -> CurveWriter:
    options = load_run_options(
        BENCHMARKS[scene],
        {
            "env_settings.env_path": env_path,
            "env_settings.seed": seed,
            "checkpoint_settings.results_dir": str(out),
            "checkpoint_settings.run_id": f"{scene}-seed{seed}",
            "checkpoint_settings.force": True,
        },
    )
    curve = CurveWriter()
    train_run(options, [curve])
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--scenes", nargs="+", default=list(BENCHMARKS), choices=list(BENCHMARKS))
    parser.add_argument("--in-process", action="store_true", help="sim:<Scene> instead of a launched build")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_ppo")
    args = parser.parse_args()
    builds = Path(tempfile.mkdtemp(prefix="rldojo-builds-"))
    for scene in args.scenes:
        env_path = f"sim:{scene}" if args.in_process else str(rldojo_sim.build(scene, builds / scene))
        for seed in args.seeds:
            curve = run(scene, seed, env_path, args.out)
            transport = "in process" if args.in_process else "gRPC"
            print(f"\n### {scene}, seed {seed}, {transport}\n")
            print("| step | mean reward | wall s | steps/s |")
            print("|---:|---:|---:|---:|")
            for step, reward, seconds in curve.points:
                print(f"| {step} | {reward:.3f} | {seconds:.1f} | {step / seconds:.0f} |")


if __name__ == "__main__":
    main()
