"""CPU per env step of a training loop's glue (everything but gradient updates), across source trees.

    .venv/bin/python scripts/bench_loop_glue.py [--trees OLD NEW] [--rounds 5] [--steps 20000]
        [--config configs/cartpole/dqn.yaml] [--with-updates]

Each round trains the config once per tree, alternating trees (old, new, old, new, ...) so that load on the
machine falls on both alike, each run in its own subprocess with one torch thread and the tree's
``packages/*/src`` first on ``PYTHONPATH`` (a git worktree at another commit works; this checkout's
virtual environment supplies the dependencies). Timed is ``TrainerController.run``, the loop itself
(start-up, the final checkpoint and ONNX export are not), with process CPU time; without
``--with-updates`` no gradient update runs (off-policy: ``train_freq`` beyond ``max_steps``; on-policy:
``num_epoch`` 0, so each update passes over no minibatch) and what remains is acting, the env, the agent
processor, replay-buffer adds or value estimates and GAE, stats and the loop. Printed: CPU ms per env step
per tree (median over rounds) and NEW / OLD.

Every run also prints a fingerprint of what it learned: a digest of its episodes (step, return) and of its
final weights. Two trees that should behave the same (a pure speed change) must print the same
fingerprints for the same seed; with ``--with-updates`` the script checks that they do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NO_UPDATES = 10**12  # a train_freq no run reaches


def run_one(config: Path, steps: int, seed: int, updates: bool) -> dict[str, Any]:
    """Train ``config`` for ``steps`` env steps in this process; CPU seconds of the loop and fingerprints."""
    import torch

    torch.set_num_threads(1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # torch imports torch._dynamo on first use
    from rldojo.settings import load_run_options
    from rldojo.stats import StatsSummary, StatsWriter
    from rldojo.training import TrainerController, train_run

    class EpisodeRecorder(StatsWriter):
        def __init__(self) -> None:
            self.episodes: list[tuple[int, float]] = []

        def on_episode_end(
            self, category: str, agent_id: str, episode_return: float, episode_length: int, step: int
        ) -> None:
            self.episodes.append((step, episode_return))

        def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
            pass

    loop_cpu = 0.0
    original_run = TrainerController.run

    def timed_run(self: TrainerController, *args: Any, **kwargs: Any) -> None:
        nonlocal loop_cpu
        started = time.process_time()
        try:
            original_run(self, *args, **kwargs)
        finally:
            loop_cpu += time.process_time() - started

    TrainerController.run = timed_run  # type: ignore[method-assign]
    results = tempfile.mkdtemp(prefix="bench_loop_glue_")
    options = load_run_options(
        config,
        {
            "env_settings.seed": seed,
            "checkpoint_settings.results_dir": results,
            "checkpoint_settings.run_id": "r",
        },
        {},
    )
    for settings in options.behaviors.values():
        settings.max_steps = steps
        settings.summary_freq = steps
        settings.checkpoint_interval = 2 * steps  # no checkpoint (and ONNX export) inside the timed loop
        if not updates and getattr(settings.hyperparameters, "train_freq", None) is not None:
            settings.hyperparameters.train_freq.every = NO_UPDATES  # type: ignore[attr-defined]
        if not updates and getattr(settings.hyperparameters, "num_epoch", None) is not None:
            settings.hyperparameters.num_epoch = 0  # type: ignore[attr-defined]
    recorder = EpisodeRecorder()
    run_dir = train_run(options, [recorder])
    weights = hashlib.sha256()
    for checkpoint in sorted(run_dir.path.rglob("*.pt")):
        if checkpoint.name.startswith("checkpoint"):
            continue
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        for name, module in sorted(state["modules"].items()):
            if name == "Policy":
                for key, tensor in sorted(module.items()):
                    weights.update(key.encode())
                    weights.update(tensor.numpy().tobytes())
    shutil.rmtree(results)
    return {
        "loop_cpu_s": loop_cpu,
        "episodes": len(recorder.episodes),
        "episodes_digest": hashlib.sha256(json.dumps(recorder.episodes).encode()).hexdigest()[:16],
        "weights_digest": weights.hexdigest()[:16],
    }


def launch(tree: Path, config: Path, steps: int, seed: int, updates: bool) -> dict[str, Any]:
    sources = [str(path) for path in sorted((tree / "packages").glob("*/src"))]
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([*sources, os.environ.get("PYTHONPATH", "")]),
    }
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [
            sys.executable,
            __file__,
            "--run-one",
            str(config),
            str(steps),
            str(seed),
            str(updates),
            str(out),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tree)
        if completed.returncode != 0:
            raise SystemExit(f"the run of {tree} failed:\n{completed.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trees", nargs="+", type=Path, default=[ROOT], help="source trees (default: this)")
    parser.add_argument("--config", type=Path, default=Path("configs/cartpole/dqn.yaml"))
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--with-updates", action="store_true", help="keep gradient updates (time them too)")
    parser.add_argument("--run-one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        config, steps, seed, updates, out = args.run_one
        result = run_one(Path(config), int(steps), int(seed), updates == "True")
        Path(out).write_text(json.dumps(result))
        return
    trees = [tree.resolve() for tree in args.trees]
    config = args.config if args.config.is_absolute() else ROOT / args.config
    runs: dict[Path, list[dict[str, Any]]] = {tree: [] for tree in trees}
    for round_index in range(args.rounds):
        for tree in trees:
            result = launch(tree, config, args.steps, args.seed, args.with_updates)
            runs[tree].append(result)
            ms = 1000 * result["loop_cpu_s"] / args.steps
            print(
                f"round {round_index + 1} {tree}: {ms:.4f} CPU ms/env step; {result['episodes']} episodes "
                f"{result['episodes_digest']}, weights {result['weights_digest']}",
                flush=True,
            )
    medians = {
        tree: statistics.median(r["loop_cpu_s"] for r in runs[tree]) * 1000 / args.steps for tree in trees
    }
    print(f"\nloop CPU ms per env step ({'with' if args.with_updates else 'without'} updates), median:")
    for tree in trees:
        print(f"  {medians[tree]:.4f}  {tree}  ({medians[tree] / medians[trees[0]]:.3f} x the first)")
    fingerprints = {(r["episodes_digest"], r["weights_digest"]) for tree in trees for r in runs[tree]}
    print("same episodes and weights in every run" if len(fingerprints) == 1 else "runs DIFFER")
    if args.with_updates and len(fingerprints) != 1:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
