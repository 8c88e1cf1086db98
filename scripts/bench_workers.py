"""Benchmark PPO training on 3DBall over launched rldojo-sim builds with 1, 2 and 4 env worker processes.

Runs ``configs/ppo.yaml`` (3DBall, 12 agents per env) for ``--steps`` agent steps per worker count and
prints a markdown table: agent-steps per second over the training loop (from the first summary to the
last, so process start-up and the first launch are left out), the share of wall time the trainer
waited on env steps, and the speed-up over one worker. The figures are agent steps of all workers
together; PPO updates (every buffer_size = 6000 steps) are included.

Usage: ``uv run --frozen python scripts/bench_workers.py [--steps 30000] [--num-envs 1 2 4]``
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from mlagents_envs import timers

import rldojo_sim
from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.training import train_run

CONFIG = Path(__file__).parents[1] / "configs" / "ppo.yaml"
SUMMARY_FREQ = 1200


class SummaryClock(StatsWriter):
    """The wall-clock time of every summary, by step."""

    def __init__(self) -> None:
        self.times: dict[int, float] = {}

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        self.times.setdefault(step, time.perf_counter())


def measure(build: Path, num_envs: int, steps: int, results: Path) -> tuple[float, float]:
    """(agent-steps/s between the first and last summary, share of the run spent in env_step)."""
    options = load_run_options(
        CONFIG,
        {
            "checkpoint_settings.results_dir": str(results),
            "checkpoint_settings.run_id": f"workers-{num_envs}",
            "env_settings.env_path": str(build),
            "env_settings.num_envs": num_envs,
            "env_settings.seed": 1,
            "behaviors.3DBall.max_steps": steps,
            "behaviors.3DBall.summary_freq": SUMMARY_FREQ,
        },
    )
    clock = SummaryClock()
    train_run(options, [clock])
    tree = timers.get_timer_tree()
    env_share = tree["children"]["env_step"]["total"] / tree["total"]
    (first, start), *_, (last, end) = sorted(clock.times.items())
    return (last - first) / (end - start), env_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--steps", type=int, default=30_000, help="agent steps per run (all workers)")
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        build = rldojo_sim.build("3DBall", Path(folder) / "3DBall")
        rows = [(n, *measure(build, n, args.steps, Path(folder) / "results")) for n in args.num_envs]
    base = rows[0][1]
    print(f"PPO on 3DBall (launched builds, 12 agents each), {args.steps} agent steps per run\n")
    print("| num_envs | agent-steps/s | time in env_step | speed-up |")
    print("|---:|---:|---:|---:|")
    for num_envs, rate, env_share in rows:
        print(f"| {num_envs} | {rate:,.0f} | {env_share:.0%} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
