"""Self-play on Tennis: ELO over training, and the final policy against random play and its early self.

    .venv/bin/python scripts/bench_self_play.py [--config configs/tennis_selfplay.yaml] [--seeds 1 2 3]
        [--early-step 4000] [--max-steps 40000] [--games 200] [--out results/bench_self_play]

Each seed trains ``--early-step`` steps, keeps that policy as the early snapshot, then resumes to
``--max-steps`` (so the ELO and the snapshot window also cross a ``--resume``). The final policy then plays
``--games`` games as team 0 of an in-process Tennis against uniform random actions and against the early
policy (both acting deterministically); a game is won, drawn or lost by the sign of team 0's final reward
plus group reward, as self-play rates it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from mlagents_envs.base_env import ActionTuple, DecisionSteps

import rldojo_sim
from rldojo.checkpoint import load_checkpoint
from rldojo.commands.evaluate import policy_act_function
from rldojo.export.saved_policy import load_saved_policies
from rldojo.policy import Policy
from rldojo.settings import load_run_options
from rldojo.training import train_run
from rldojo_sim.play import game_results, random_actions

ROOT = Path(__file__).resolve().parents[1]
LEARNER, OPPONENT = "Tennis?team=0", "Tennis?team=1"
Act = Callable[[DecisionSteps], ActionTuple]


def train(config: Path, out: Path, run_id: str, seed: int, max_steps: int, resume: bool) -> float:
    """Train (or resume) ``run_id`` to ``max_steps``; the learning policy's ELO at the end."""
    overrides = {
        "checkpoint_settings.results_dir": str(out),
        "checkpoint_settings.run_id": run_id,
        "checkpoint_settings.force": not resume,
        "checkpoint_settings.resume": resume,
        "env_settings.seed": seed,
        "behaviors.Tennis.max_steps": max_steps,
    }
    train_run(load_run_options(config, overrides))
    return float(load_checkpoint(out / run_id / "Tennis" / "checkpoint.pt")["self_play"]["current_elo"])


def wins(learner: Policy, opponent: Act, games: int, seed: int) -> tuple[int, int, int]:
    env = rldojo_sim.make_env("Tennis", seed=seed, num_areas=8)
    try:
        players = {LEARNER: policy_act_function(learner), OPPONENT: opponent}
        return game_results(env, players, LEARNER, games)
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "tennis_selfplay.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--early-step", type=int, default=4000)
    parser.add_argument("--max-steps", type=int, default=40000)
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_self_play")
    args = parser.parse_args()

    env = rldojo_sim.make_env("Tennis", num_areas=1)
    env.reset()
    spec = env.behavior_specs[OPPONENT]
    env.close()
    rows = []
    for seed in args.seeds:
        run_id = f"tennis-seed{seed}"
        early_elo = train(args.config, args.out, run_id, seed, args.early_step, resume=False)
        early = load_saved_policies(args.out / run_id, deterministic=True)[0].policy
        final_elo = train(args.config, args.out, run_id, seed, args.max_steps, resume=True)
        final = load_saved_policies(args.out / run_id, deterministic=True)[0].policy
        rng = np.random.default_rng(seed)
        random_play: Act = partial(random_actions, spec, rng=rng)
        versus_random = wins(final, random_play, args.games, seed)
        versus_early = wins(final, policy_act_function(early), args.games, seed)
        early_versus_random = wins(early, random_play, args.games, seed)
        rows.append((seed, early_elo, final_elo, versus_random, versus_early, early_versus_random))

    print(f"Tennis self-play, {args.early_step} -> {args.max_steps} steps, {args.games} games each (W/D/L)")
    print(f"{'seed':>4} {'ELO early':>9} {'ELO final':>9} {'final vs random':>16} {'final vs early':>15} "
          f"{'early vs random':>16}")  # fmt: skip
    for seed, early_elo, final_elo, *games in rows:
        cells = [f"{w}/{d}/{lost}" for w, d, lost in games]
        print(f"{seed:>4} {early_elo:>9.1f} {final_elo:>9.1f} {cells[0]:>16} {cells[1]:>15} {cells[2]:>16}")


if __name__ == "__main__":
    main()
