"""Success rates on the sparse Pyramids scene: random play, and PPO runs of a config over several seeds.

    .venv/bin/python scripts/bench_sparse.py [--config configs/pyramids_ppo.yaml] [--seeds 1 2 3]
        [--max-steps 20000] [--out results/bench_sparse]

Pyramids rewards only the pyramid (+1), so an episode's return is 1 when it reached the pyramid and 0
otherwise, and the mean cumulative reward of a summary is its success rate. Each run goes through
``rldojo learn``; the rates are read back from the run's TensorBoard events. Run it with an intrinsic
reward signal in the config to compare with extrinsic-only PPO at the same budget.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import rldojo_sim
from rldojo_sim.play import episode_returns

ROOT = Path(__file__).resolve().parents[1]
REWARD = "Environment/Cumulative Reward"


def random_success_rate(decisions: int = 3000, num_areas: int = 32) -> tuple[float, int]:
    """Share of random-play episodes that reach the pyramid, and how many episodes ended."""
    env = rldojo_sim.make_env("Pyramids", seed=0, num_areas=num_areas)
    returns = episode_returns(env, "Pyramids", "random", decisions)["Pyramids?team=0"]
    return float(np.mean(returns)), len(returns)


def run_success_rates(config: Path, seed: int, max_steps: int, out: Path) -> list[tuple[int, float]]:
    """Train ``config`` with ``seed``; (step, success rate) at each summary."""
    run_id = f"{config.stem}-seed{seed}"
    if max_steps:
        settings = yaml.safe_load(config.read_text())
        for behavior in settings["behaviors"].values():
            behavior["max_steps"] = max_steps
        out.mkdir(parents=True, exist_ok=True)
        config = out / f"{run_id}.yaml"
        config.write_text(yaml.safe_dump(settings))
    rldojo = str(Path(sys.executable).with_name("rldojo"))
    command = [rldojo, "learn", str(config), "--run-id", run_id, "--results-dir", str(out),
               "--seed", str(seed), "--force"]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    rates = []
    for events in sorted((out / run_id).rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        if REWARD in accumulator.Tags()["scalars"]:
            rates += [(event.step, event.value) for event in accumulator.Scalars(REWARD)]
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "pyramids_ppo.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--max-steps", type=int, default=0, help="override the config's max_steps")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_sparse")
    args = parser.parse_args()
    rate, episodes = random_success_rate()
    print(f"random play: success rate {rate:.3f} over {episodes} episodes")
    print(f"{'seed':>4}  success rate per summary (step: rate)")
    for seed in args.seeds:
        rates = run_success_rates(args.config, seed, args.max_steps, args.out)
        print(f"{seed:>4}  " + "  ".join(f"{step}: {value:.3f}" for step, value in rates))


if __name__ == "__main__":
    main()
