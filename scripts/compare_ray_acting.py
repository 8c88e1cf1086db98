"""Learning with runners that act themselves against a local run of the same budget, over several seeds:
PPO on the launched 3DBall build, ``--num-envs 2`` against two env runners (``ray.acting: runner``, policy
lag 0) on a two-node Ray cluster started here, on loopback only (the script re-runs itself inside a network
namespace with only ``lo`` up: needs root and ``unshare``).

    .venv/bin/python scripts/compare_ray_acting.py [--seeds 1 2 3] [--steps 30000]

Prints the mean reward of the last two summaries of each run (the cluster test's budget and measure).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import rldojo_sim
from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.training import train_run
from rldojo_ray.loopback import local_cluster, run_script_in_loopback_namespace

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "ppo.yaml"


class FinalReward(StatsWriter):
    """The mean reward of the last two summaries that had finished episodes."""

    def __init__(self) -> None:
        self.rewards: list[float] = []

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if "Environment/Cumulative Reward" in values:
            self.rewards.append(values["Environment/Cumulative Reward"].mean)

    @property
    def value(self) -> float:
        return statistics.mean(self.rewards[-2:])


def final_reward(
    build: Path, results: Path, run_id: str, seed: int, steps: int, **overrides: object
) -> float:
    options = load_run_options(
        CONFIG,
        {
            "env_settings.env_path": str(build),
            "env_settings.seed": seed,
            "checkpoint_settings.results_dir": str(results),
            "checkpoint_settings.run_id": run_id,
            "behaviors.3DBall.max_steps": steps,
            "behaviors.3DBall.summary_freq": 3000,
            "behaviors.3DBall.time_horizon": 64,
            "behaviors.3DBall.hyperparameters.buffer_size": 3000,
            **overrides,
        },
    )
    reward = FinalReward()
    train_run(options, [reward])
    return reward.value


def main(args: argparse.Namespace) -> None:
    with local_cluster(num_nodes=2, cpus_per_node=2) as cluster:
        rows = []
        with tempfile.TemporaryDirectory() as folder:
            build = rldojo_sim.build("3DBall", Path(folder) / "3DBall")
            for seed in args.seeds:
                local = final_reward(
                    build, Path(folder), f"local{seed}", seed, args.steps, **{"env_settings.num_envs": 2}
                )
                runners = final_reward(
                    build, Path(folder), f"runners{seed}", seed, args.steps,
                    **{"ray.address": cluster.address, "ray.num_runners": 2, "ray.acting": "runner"},
                )  # fmt: skip
                rows.append((seed, local, runners))
        print(f"\nPPO, launched 3DBall build, {args.steps} steps: mean reward of the last two summaries")
        print("| seed | --num-envs 2 | 2 runners acting, two nodes |")
        print("|---:|---:|---:|")
        for seed, local, runners in rows:
            print(f"| {seed} | {local:.1f} | {runners:.1f} |")
        means = [statistics.mean(column) for column in list(zip(*rows, strict=True))[1:]]
        print(f"| mean | {means[0]:.1f} | {means[1]:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=30000)
    arguments = parser.parse_args()
    run_script_in_loopback_namespace(lambda: main(arguments), "compare_ray_acting")
