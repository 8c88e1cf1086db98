"""Env-bound throughput: agent steps per second with 1, 2 and 4 env runners on a Ray cluster (``--ray``),
acting on the learner and acting themselves (``--ray-acting runner``), against the same number of local
worker processes (``--num-envs``).

    .venv/bin/python scripts/bench_ray.py [--runners 1 2 4] [--step-delay-ms 20] [--steps 12000]

The scene is the launched 3DBall build with ``--step-delay-ms`` (each step costs what a heavy Unity scene's
physics would), run in inference mode so the numbers are the envs' and the acting's, not PPO updates'
(``time_horizon`` 64: a runner that acts sends a piece every 64 env steps).
The Ray cluster (two nodes, started here) stays on loopback: the script re-runs itself inside a new
network namespace with only ``lo`` up (needs root and ``unshare``). Goal: >= 1.8x from 1 to 2 runners.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import rldojo_sim
from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.training import train_run
from rldojo_ray.loopback import local_cluster, run_script_in_loopback_namespace

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "ppo.yaml"


class StepRate(StatsWriter):
    """Agent steps per second between the first and the last summary (start-up left out)."""

    def __init__(self) -> None:
        self.points: list[tuple[int, float]] = []

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        self.points.append((step, time.perf_counter()))

    @property
    def rate(self) -> float:
        (first_step, first_time), (last_step, last_time) = self.points[0], self.points[-1]
        return (last_step - first_step) / (last_time - first_time)


def measure(
    build: Path, results: Path, run_id: str, steps: int, delay_ms: float, **overrides: object
) -> float:
    options = load_run_options(
        CONFIG,
        {
            "env_settings.env_path": str(build),
            "env_settings.env_args": ["--step-delay-ms", str(delay_ms)],
            "env_settings.seed": 1,
            "checkpoint_settings.inference": True,
            "checkpoint_settings.results_dir": str(results),
            "checkpoint_settings.run_id": run_id,
            "behaviors.3DBall.max_steps": steps,
            "behaviors.3DBall.summary_freq": steps // 6,
            "behaviors.3DBall.time_horizon": 64,
            **overrides,
        },
    )
    rate = StepRate()
    train_run(options, [rate])
    return rate.rate


def main(args: argparse.Namespace) -> None:
    with local_cluster(num_nodes=2, cpus_per_node=max(args.runners)) as cluster:
        with tempfile.TemporaryDirectory() as folder:
            build = rldojo_sim.build("3DBall", Path(folder) / "3DBall")
            rows = []
            for count in args.runners:
                local = measure(
                    build,
                    Path(folder),
                    f"envs{count}",
                    args.steps,
                    args.step_delay_ms,
                    **{"env_settings.num_envs": count},
                )
                ray_rates = [
                    measure(
                        build,
                        Path(folder),
                        f"ray-{acting}{count}",
                        args.steps,
                        args.step_delay_ms,
                        **{
                            "ray.address": cluster.address,
                            "ray.num_runners": count,
                            "ray.num_cpus_per_runner": 1,
                            "ray.acting": acting,
                        },
                    )
                    for acting in ("learner", "runner")
                ]
                rows.append((count, local, *ray_rates))
        base_learner, base_runner = rows[0][2], rows[0][3]
        print(f"\n3DBall build, --step-delay-ms {args.step_delay_ms}, inference, agent steps/s")
        print(
            "| envs / runners | --num-envs | --ray, learner acts | speed-up | --ray, runners act | speed-up |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for count, local, learner, runner in rows:
            print(
                f"| {count} | {local:.0f} | {learner:.0f} | {learner / base_learner:.2f}x "
                f"| {runner:.0f} | {runner / base_runner:.2f}x |"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runners", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--step-delay-ms", type=float, default=20.0)
    parser.add_argument("--steps", type=int, default=12000, help="agent steps per measurement")
    arguments = parser.parse_args()
    run_script_in_loopback_namespace(lambda: main(arguments), "bench_ray")
