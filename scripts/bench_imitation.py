"""Steps to a mean reward of 0.9 on Basic: PPO with the extrinsic reward alone, and with behavioral cloning
from ExpertBasic.demo added, over several seeds.

    .venv/bin/python scripts/bench_imitation.py [--seeds 1 2 3 4 5] [--demo PATH] [--max-steps 5000]
        [--out results/bench_imitation]

Both arms train configs/basic_ppo.yaml through ``rldojo learn`` (summaries every 250 steps); the cloning
arm adds ``behavioral_cloning`` (strength 1, batches of 8 demonstrated decisions). Each run's mean
rewards are read back from its TensorBoard events; a run that never reaches 0.9 counts as ``never``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "basic_ppo.yaml"
# ML-Agents' configs, demos and models, in ../shared beside the checkout
REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "mlagents"
DEMO = REFERENCE_DATA / "demos" / "ExpertBasic.demo"
REWARD = "Environment/Cumulative Reward"
TARGET = 0.9
SUMMARY_FREQ = 250


def cloning_settings(demo: Path) -> list[str]:
    settings = {"demo_path": str(demo), "strength": 1.0, "batch_size": 8}
    return [f"behaviors.Basic.behavioral_cloning.{key}={value}" for key, value in settings.items()]


def steps_to_target(run_id: str, seed: int, max_steps: int, out: Path, extra: list[str]) -> int | None:
    """Train one arm with ``seed``; the first summary step whose mean reward is at least TARGET."""
    rldojo = str(Path(sys.executable).with_name("rldojo"))
    settings = [
        f"behaviors.Basic.max_steps={max_steps}",
        f"behaviors.Basic.summary_freq={SUMMARY_FREQ}",
        *extra,
    ]
    flags = [arg for setting in settings for arg in ("--set", setting)]
    command = [rldojo, "learn", str(CONFIG), "--run-id", run_id, "--results-dir", str(out),
               "--seed", str(seed), "--force", *flags]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    rewards = []
    for events in sorted((out / run_id).rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        if REWARD in accumulator.Tags()["scalars"]:
            rewards += [(event.step, event.value) for event in accumulator.Scalars(REWARD)]
    return next((step for step, value in sorted(rewards) if value >= TARGET), None)


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--demo", type=Path, default=DEMO)
    parser.add_argument("--max-steps", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_imitation")
    args = parser.parse_args()
    arms = {"extrinsic": [], "extrinsic + BC": cloning_settings(args.demo)}
    print(
        f"steps to mean reward {TARGET} on Basic (summaries every {SUMMARY_FREQ} steps, max {args.max_steps})"
    )
    print(f"{'arm':<16}" + "".join(f"{f'seed {seed}':>9}" for seed in args.seeds) + f"{'median':>9}")
    for arm, extra in arms.items():
        steps = [
            steps_to_target(f"{arm.replace(' + ', '-')}-seed{seed}", seed, args.max_steps, args.out, extra)
            for seed in args.seeds
        ]
        reached = [step if step is not None else args.max_steps + SUMMARY_FREQ for step in steps]
        median = statistics.median(reached)
        cells = "".join(f"{step if step is not None else 'never':>9}" for step in steps)
        print(f"{arm:<16}{cells}{median if median <= args.max_steps else 'never':>9}")


if __name__ == "__main__":
    main()
