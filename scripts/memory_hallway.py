"""LSTM memory on Hallway: PPO with ``network_settings.memory`` against the same PPO without it.

    .venv/bin/python scripts/memory_hallway.py [--seeds 1 2 3] [--steps 40000] [--config PPO_CONFIG]

Hallway (rldojo-sim) shows a cue only in an episode's first observation; the door it names is at the
far end. Without memory a policy cannot beat a coin toss at the door (mean return about -0.05); with
memory the optimum is about 0.95. Every (variant, seed) trains the config for ``--steps`` steps, then its
final ONNX model runs 100 deterministic episodes through onnxruntime on a separately seeded Hallway
(memories carried per agent, as ``rldojo evaluate`` does). Printed per run: the mean return of the last
training summary, the evaluation's mean return and the share of episodes that took the right door.
Learning results do not depend on the machine's load; wall time does, and is not reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVAL_EPISODES = 100
EVAL_SEED_OFFSET = 10_000


def run(config: Path, seed: int, steps: int, memory: bool) -> dict[str, float]:
    from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

    from rldojo.commands.evaluate import onnx_act_function, run_episodes
    from rldojo.envs import create_env
    from rldojo.export.onnx_policy import OnnxPolicy
    from rldojo.settings import load_run_options
    from rldojo.stats import StatsSummary, StatsWriter
    from rldojo.training import train_run

    class LastReward(StatsWriter):
        def __init__(self) -> None:
            self.reward = float("nan")

        def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
            if "Environment/Cumulative Reward" in values:
                self.reward = values["Environment/Cumulative Reward"].mean

    overrides: dict[str, Any] = {
        "env_settings.seed": seed,
        "checkpoint_settings.results_dir": tempfile.mkdtemp(prefix="memory_hallway_"),
        "checkpoint_settings.run_id": f"{'memory' if memory else 'none'}-{seed}",
        "behaviors.Hallway.max_steps": steps,
    }
    if not memory:
        overrides["behaviors.Hallway.network_settings.memory"] = None
    recorder = LastReward()
    run_dir = train_run(load_run_options(config, overrides), [recorder])
    env = create_env("sim:Hallway", seed=seed + EVAL_SEED_OFFSET, side_channels=[StatsSideChannel()])
    try:
        env.reset()
        ((behavior, spec),) = env.behavior_specs.items()
        model = OnnxPolicy(run_dir.path / "Hallway.onnx", deterministic=True)
        ((returns, _),) = run_episodes(
            env, {behavior: onnx_act_function(model, spec)}, EVAL_EPISODES
        ).values()
    finally:
        env.close()
    return {
        "train": recorder.reward,
        "eval": statistics.mean(returns),
        "right door": sum(r > 0 for r in returns) / len(returns),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "hallway_ppo.yaml")
    args = parser.parse_args()
    print(f"{'variant':<10} {'seed':>4} {'train reward':>12} {'eval return':>11} {'right door':>10}")
    for memory in (True, False):
        for seed in args.seeds:
            result = run(args.config, seed, args.steps, memory)
            print(
                f"{'lstm' if memory else 'no memory':<10} {seed:>4} {result['train']:>12.3f} "
                f"{result['eval']:>11.3f} {result['right door']:>10.0%}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
