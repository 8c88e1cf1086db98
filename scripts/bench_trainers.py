"""rldojo vs Stable-Baselines3 vs CleanRL, side by side, with RL Zoo's hyperparameters.

    .venv/bin/python scripts/bench_trainers.py [--quick] [--seeds 5 | --seed-list 2 4] [--workloads ...]
        [--libs ...] [--steps N] [--json runs.json] [--eval-every 2500]
    .venv/bin/python scripts/bench_trainers.py --merge rldojo.json sb3.json cleanrl.json

Workloads (RL Zoo's budgets unless noted): PPO and DQN on CartPole-v1, SAC on Pendulum-v1 (20k steps),
PPO on Acrobot-v1 (200k steps of RL Zoo's 1M; LunarLander-v3 needs Box2D, which is not installed).

- rldojo trains with its shipped configs (configs/cartpole/, configs/pendulum/, configs/acrobot/: RL Zoo's
  settings in rldojo's terms, where rldojo can express them), in process, through ``train_run``.
- SB3 trains with RL Zoo's hyperparams/{ppo,dqn,sac}.yml entries, written out in :func:`sb3_model`.
- sb3-bridge (named in ``--libs``; the off-policy rows): rldojo-sb3's ``sb3_sac`` / ``sb3_dqn`` inside
  rldojo's trainer loop with SB3's own arguments above, on the same env, measured and evaluated as rldojo
  is: the bridge against plain SB3 on the same algorithm.
- CleanRL runs its own unmodified ``ppo.py`` / ``dqn.py`` / ``sac_continuous_action.py`` (vendored under
  scripts/third_party/cleanrl/, MIT) with RL Zoo's values passed as flags where the script has the option
  (see CLEANRL_ARGS: its DQN keeps its own 120x84 network and one gradient step per ``train_frequency``
  steps; its PPO has no clip-range decay). CleanRL pins Gymnasium 0.29, so it runs in its own environment,
  ``.bench/cleanrl-venv``, which this script creates with uv on first use (torch from the uv cache).

Every (library, workload, seed) runs in its own subprocess with one torch thread; seeds are interleaved
across libraries, so a busy spell of the machine hits them all. Measured per run:

- env steps per CPU-second and per wall-second of training (rldojo: ``train_run``, which includes creating
  the env and networks and writing the final checkpoint and ONNX model; SB3: creating the model and
  ``learn()``; CleanRL: the whole script). Imports are done before the clock starts, for all three.
  rldojo's workspace sources are compiled to bytecode first (:func:`compile_sources`), as an installed
  wheel's are and as ``uv sync --compile-bytecode`` leaves SB3's: with ``PYTHONDONTWRITEBYTECODE`` set, an
  editable install would otherwise compile every module rldojo imports during a run, inside its clock.
- steps to threshold: the first step at which the mean return of the last 10 training episodes reaches
  the workload's threshold (training episodes explore: a conservative measure).
- solved: the final policy's mean return over 10 deterministic episodes on separately seeded envs reaches
  the threshold (rldojo: its exported ONNX model through onnxruntime; SB3: ``predict``; CleanRL saves no
  model here, so "-"); "last 10" is the mean return of the last 10 training episodes, for all three.
- peak RSS: the subprocess's own maximum resident set size.

``--quick`` runs one seed with short budgets, to check that everything runs; the full run (5 seeds, every
workload at its budget, printed first) is for an idle machine. ``--workloads``, ``--libs`` and ``--seed-list``
run a part of it; ``--json`` keeps every run's episodes (the learning curves) and evaluation. After the
summary table comes one row per workload and seed: each library's evaluation return (``*``: solved) and
last-10 return, side by side. ``--eval-every N`` adds greedy learning curves (rldojo: ``eval_settings``;
SB3: a callback; CleanRL: none), one row per run. ``--merge`` trains nothing: it prints those learning
tables (no speeds, which would come from different times) for runs saved by several ``--json`` invocations,
so that one library can be rerun after a change and compared with the others' saved runs.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import io
import json
import os
import re
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLEANRL_DIR = ROOT / "scripts" / "third_party" / "cleanrl"
CLEANRL_VENV = ROOT / ".bench" / "cleanrl-venv"
CLEANRL_REQUIREMENTS = ["gymnasium==0.29.1", "numpy<2", "tyro", "tensorboard"]  # + this torch
RETURN_WINDOW = 10
EVAL_EPISODES = 10
EVAL_SEED_OFFSET = 10_000
CURVE_EPISODES = 5
"""Greedy episodes per point of a learning curve (``--eval-every``)."""
LIBRARIES = ("rldojo", "sb3", "cleanrl", "sb3-bridge")
DEFAULT_LIBRARIES = LIBRARIES[:3]


@dataclass(frozen=True)
class Workload:
    algo: str
    env_id: str
    steps: int  # RL Zoo's budget (Acrobot: shortened)
    quick_steps: int
    threshold: float  # a mean return that counts as solved
    rldojo_config: Path
    cleanrl_script: str
    cleanrl_args: list[str] = field(default_factory=list)
    sb3_args: dict[str, Any] = field(default_factory=dict)
    """Off-policy rows: RL Zoo's SB3 constructor arguments (one env, 256x2 networks), for SB3 itself and for
    rldojo-sb3's bridge (``sb3-bridge``); empty for the PPO rows, which :func:`sb3_model` spells out."""


WORKLOADS = {
    "ppo-cartpole": Workload(
        "ppo", "CartPole-v1", 100_000, 20_000, 475.0, ROOT / "configs/cartpole/ppo.yaml", "ppo.py",
        ["--num-envs", "8", "--num-steps", "32", "--num-minibatches", "1", "--update-epochs", "20",
         "--gae-lambda", "0.8", "--gamma", "0.98", "--ent-coef", "0.0", "--learning-rate", "1e-3",
         "--no-clip-vloss"],
    ),
    "dqn-cartpole": Workload(
        "dqn", "CartPole-v1", 50_000, 10_000, 475.0, ROOT / "configs/cartpole/dqn.yaml", "dqn.py",
        ["--learning-rate", "2.3e-3", "--batch-size", "64", "--buffer-size", "100000",
         "--learning-starts", "1000", "--gamma", "0.99", "--target-network-frequency", "10",
         "--train-frequency", "2", "--exploration-fraction", "0.16", "--end-e", "0.04"],
        sb3_args={"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1000,
                  "gamma": 0.99, "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128,
                  "exploration_fraction": 0.16, "exploration_final_eps": 0.04},
    ),
    "sac-pendulum": Workload(
        "sac", "Pendulum-v1", 20_000, 3_000, -200.0, ROOT / "configs/pendulum/sac.yaml",
        "sac_continuous_action.py",
        ["--policy-lr", "1e-3", "--q-lr", "1e-3", "--learning-starts", "100"],
        sb3_args={"learning_rate": 1e-3},
    ),
    "ppo-acrobot": Workload(
        "ppo", "Acrobot-v1", 200_000, 20_000, -100.0, ROOT / "configs/acrobot/ppo.yaml", "ppo.py",
        ["--num-envs", "16", "--num-steps", "256", "--num-minibatches", "64", "--update-epochs", "4",
         "--gae-lambda", "0.94", "--gamma", "0.99", "--ent-coef", "0.0", "--learning-rate", "3e-4",
         "--no-anneal-lr", "--no-clip-vloss"],
    ),
}  # fmt: skip


def steps_to_solve(episodes: list[tuple[int, float]], threshold: float) -> int | None:
    """The step at which the mean of the last ``RETURN_WINDOW`` episode returns first reaches
    ``threshold``."""
    window: deque[float] = deque(maxlen=RETURN_WINDOW)
    for step, episode_return in episodes:
        window.append(episode_return)
        if len(window) == RETURN_WINDOW and sum(window) / RETURN_WINDOW >= threshold:
            return step
    return None


# ----- one run, inside its subprocess -----


class Clock:
    """Wall and CPU time since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def result(self, episodes: list[tuple[int, float]]) -> dict[str, Any]:
        """A run's result so far: its times and (step, return) of each training episode, not evaluated."""
        return {
            "wall_s": time.perf_counter() - self.wall,
            "cpu_s": time.process_time() - self.cpu,
            "episodes": episodes,
            "eval_return": None,
        }


def train_rldojo(
    workload: Workload,
    seed: int,
    steps: int,
    evaluate: bool = True,
    eval_every: int = 0,
    config: Path | None = None,
) -> dict[str, Any]:
    """``eval_every``: also a greedy evaluation of the training policy every that many steps
    (``eval_settings``, :data:`CURVE_EPISODES` episodes on their own env), as ``result["curve"]``;
    ``config``: another run configuration than the workload's ``rldojo_config``."""
    import numpy as np
    from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

    from rldojo.commands.evaluate import run_episodes
    from rldojo.envs import create_env
    from rldojo.evaluation import EVAL_REWARD_KEY
    from rldojo.export.onnx_policy import OnnxPolicy
    from rldojo.settings import EvaluationSettings, load_run_options
    from rldojo.stats import StatsSummary, StatsWriter
    from rldojo.training import train_run

    class EpisodeRecorder(StatsWriter):
        def __init__(self) -> None:
            self.episodes: list[tuple[int, float]] = []
            self.curve: list[tuple[int, float]] = []

        def on_episode_end(
            self, category: str, agent_id: str, episode_return: float, episode_length: int, step: int
        ) -> None:
            self.episodes.append((step, episode_return))

        def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
            if EVAL_REWARD_KEY in values:
                self.curve.append((step, values[EVAL_REWARD_KEY].mean))

    results = tempfile.mkdtemp(prefix="bench_trainers_")
    options = load_run_options(
        config or workload.rldojo_config,
        {
            "env_settings.seed": seed,
            "checkpoint_settings.results_dir": results,
            "checkpoint_settings.run_id": f"{workload.algo}-{seed}",
        },
        {},
    )
    for settings in options.behaviors.values():
        settings.max_steps = steps
        settings.summary_freq = eval_every or steps  # without curves, one console line at the end
        settings.checkpoint_interval = steps
    if eval_every:
        options.eval_settings = EvaluationSettings(
            interval=eval_every, episodes=CURVE_EPISODES, seed=seed + EVAL_SEED_OFFSET
        )
    recorder = EpisodeRecorder()
    clock = Clock()
    run_dir = train_run(options, [recorder])
    result = clock.result(recorder.episodes) | {"curve": recorder.curve}
    if not evaluate:
        return result

    env = create_env(
        f"gym:{workload.env_id}", seed=seed + EVAL_SEED_OFFSET, side_channels=[StatsSideChannel()]
    )
    try:
        env.reset()
        ((behavior_name, spec),) = env.behavior_specs.items()
        model = OnnxPolicy(run_dir.path / f"{behavior_name.partition('?')[0]}.onnx", deterministic=True)
        model.check(behavior_name, spec)
        act = {behavior_name: lambda decision_steps: model.get_action(decision_steps, spec=spec)}
        ((returns, _),) = run_episodes(env, act, EVAL_EPISODES).values()
    finally:
        env.close()
    return result | {"eval_return": float(np.mean(returns))}


def sb3_model(workload: Workload, seed: int) -> Any:
    """RL Zoo's settings for the workload (hyperparams/ppo.yml, dqn.yml, sac.yml)."""
    from stable_baselines3 import DQN, PPO, SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    def linear(initial: float) -> Callable[[float], float]:
        return lambda progress_remaining: progress_remaining * initial

    env_id = workload.env_id
    if workload.algo == "ppo" and env_id == "CartPole-v1":
        return PPO(
            "MlpPolicy",
            make_vec_env(env_id, n_envs=8, seed=seed),
            n_steps=32,
            batch_size=256,
            gae_lambda=0.8,
            gamma=0.98,
            n_epochs=20,
            ent_coef=0.0,
            learning_rate=linear(1e-3),
            clip_range=linear(0.2),
            seed=seed,
            device="cpu",
        )
    if workload.algo == "ppo":  # Acrobot-v1: normalize: true
        return PPO(
            "MlpPolicy",
            VecNormalize(make_vec_env(env_id, n_envs=16, seed=seed)),
            n_steps=256,
            gae_lambda=0.94,
            gamma=0.99,
            n_epochs=4,
            ent_coef=0.0,
            seed=seed,
            device="cpu",
        )
    algorithm = SAC if workload.algo == "sac" else DQN
    return algorithm(
        "MlpPolicy",
        make_vec_env(env_id, n_envs=1, seed=seed),
        **workload.sb3_args,
        policy_kwargs={"net_arch": [256, 256]},
        seed=seed,
        device="cpu",
    )


def sb3_greedy_return(model: Any, env_id: str, seeds: range) -> float:
    """The mean return of ``model.predict(deterministic=True)`` over one episode per seed (observations
    normalised as in training, without updating the statistics); draws nothing from the training RNGs."""
    import gymnasium
    import numpy as np

    normalizer = model.get_vec_normalize_env()
    env = gymnasium.make(env_id)
    returns = []
    for episode_seed in seeds:
        obs, _ = env.reset(seed=episode_seed)
        total, done = 0.0, False
        while not done:
            model_obs = normalizer.normalize_obs(obs) if normalizer is not None else obs
            action, _ = model.predict(model_obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def train_sb3_bridge(
    workload: Workload, seed: int, steps: int, evaluate: bool = True, eval_every: int = 0
) -> dict[str, Any]:
    """rldojo-sb3's ``sb3_dqn`` / ``sb3_sac`` with RL Zoo's arguments on the workload's env, through
    :func:`train_rldojo` (so measured and evaluated as rldojo is)."""
    import yaml
    from gymnasium.envs.registration import parse_env_id

    algorithm = {"sac": "sb3_sac", "dqn": "sb3_dqn"}[workload.algo]
    _, behavior, _ = parse_env_id(workload.env_id)  # rldojo-gym's behavior name for the env
    config = {
        "behaviors": {
            behavior: {
                "trainer_type": algorithm,
                "hyperparameters": workload.sb3_args,
                "network_settings": {"hidden_units": 256, "num_layers": 2},
            }
        },
        "env_settings": {"env_path": f"gym:{workload.env_id}"},
    }
    path = Path(tempfile.mkdtemp(prefix="bench_bridge_")) / f"{algorithm}.yaml"
    path.write_text(yaml.safe_dump(config))
    return train_rldojo(workload, seed, steps, evaluate, eval_every, config=path)


def train_sb3(
    workload: Workload, seed: int, steps: int, evaluate: bool = True, eval_every: int = 0
) -> dict[str, Any]:
    """``eval_every``: as for :func:`train_rldojo`, from a callback (the first step past each multiple)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class EpisodeRecorder(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.episodes: list[tuple[int, float]] = []
            self.curve: list[tuple[int, float]] = []

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.episodes.append((self.num_timesteps, float(info["episode"]["r"])))
            if eval_every and self.num_timesteps >= (len(self.curve) + 1) * eval_every:
                first = seed + EVAL_SEED_OFFSET
                curve_return = sb3_greedy_return(
                    self.model, workload.env_id, range(first, first + CURVE_EPISODES)
                )
                self.curve.append((self.num_timesteps, curve_return))
            return True

    recorder = EpisodeRecorder()
    clock = Clock()
    model = sb3_model(workload, seed)
    model.learn(total_timesteps=steps, callback=recorder)
    result = clock.result(recorder.episodes) | {"curve": recorder.curve}
    if not evaluate:
        return result
    first = seed + EVAL_SEED_OFFSET
    return result | {
        "eval_return": sb3_greedy_return(model, workload.env_id, range(first, first + EVAL_EPISODES))
    }


EPISODE_LINE = re.compile(r"global_step=(\d+), episodic_return=\[?([-0-9.e+]+)")


def train_cleanrl(
    workload: Workload, seed: int, steps: int, evaluate: bool = True, eval_every: int = 0
) -> dict[str, Any]:
    """CleanRL's unmodified script as ``__main__`` (run inside .bench/cleanrl-venv); episodes are read from
    the lines it prints. It keeps no model: no evaluation, no curve."""
    script = CLEANRL_DIR / "cleanrl" / workload.cleanrl_script
    sys.path.insert(0, str(CLEANRL_DIR))  # its ``cleanrl_utils`` import
    arguments = [
        *workload.cleanrl_args,
        *("--env-id", workload.env_id, "--seed", str(seed), "--total-timesteps", str(steps), "--no-cuda"),
    ]
    sys.argv = [str(script), *arguments]
    printed = io.StringIO()
    os.chdir(tempfile.mkdtemp(prefix="bench_cleanrl_"))  # its runs/ folder goes there
    clock = Clock()
    with contextlib.redirect_stdout(printed):
        runpy.run_path(str(script), run_name="__main__")
    return clock.result([(int(s), float(r)) for s, r in EPISODE_LINE.findall(printed.getvalue())])


TRAINERS = {
    "rldojo": train_rldojo,
    "sb3": train_sb3,
    "cleanrl": train_cleanrl,
    "sb3-bridge": train_sb3_bridge,
}


def warm_up_imports(library: str) -> None:
    """Import what the libraries import lazily, so that no library's time includes it: torch's first
    optimizer imports ``torch._dynamo``, rldojo's final ONNX export imports ``torch.onnx`` (seconds each
    when Python writes no bytecode cache), CleanRL's script imports tyro and TensorBoard, and
    :func:`sb3_model` imports Stable-Baselines3 itself (about 0.2 CPU-s)."""
    import torch

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    if library in ("sb3", "sb3-bridge"):
        import stable_baselines3  # noqa: F401
        from stable_baselines3.common import env_util, vec_env  # noqa: F401
    if library == "cleanrl":
        import gymnasium  # noqa: F401
        import torch.utils.tensorboard
        import tyro  # noqa: F401
    else:
        import onnx  # noqa: F401
        import torch.onnx


def run_one(library: str, name: str, seed: int, steps: int, out: Path, eval_every: int) -> None:
    import torch

    torch.set_num_threads(1)
    warm_up_imports(library)
    result = TRAINERS[library](WORKLOADS[name], seed, steps, eval_every=eval_every)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result))


# ----- the driver -----


def cleanrl_python() -> Path:
    """The interpreter of .bench/cleanrl-venv, created on first use (this torch, Gymnasium 0.29)."""
    python = CLEANRL_VENV / "bin" / "python"
    if python.exists():
        return python
    import torch

    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("CleanRL's runs need uv to create .bench/cleanrl-venv: install uv, or pass --libs")
    torch_version = torch.__version__.split("+")[0]
    print(f"creating {CLEANRL_VENV.relative_to(ROOT)} (torch {torch_version}) ...", flush=True)
    # --no-config: this workspace's [tool.uv] overrides (numpy for mlagents-envs) must not apply here
    subprocess.run(
        [uv, "venv", "-q", "--no-config", str(CLEANRL_VENV), "--python", sys.executable], check=True
    )
    requirements = [f"torch=={torch_version}", *CLEANRL_REQUIREMENTS]
    install = [uv, "pip", "install", "-q", "--no-config", "--python", str(python), *requirements]
    subprocess.run(install, check=True)
    return python


def compile_sources(checkout: Path = ROOT) -> None:
    """Write the bytecode of ``checkout``'s workspace packages (``packages/*/src``), as installing a wheel
    would; Python still checks each file against its source, so an edited module is compiled afresh."""
    for source in sorted(checkout.glob("packages/*/src")):
        compileall.compile_dir(source, quiet=1)


def launch(library: str, name: str, seed: int, steps: int, eval_every: int) -> dict[str, Any]:
    python = cleanrl_python() if library == "cleanrl" else Path(sys.executable)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [str(python), __file__, "--run-one", library, name, str(seed), str(steps), str(out)]
        command += ["--eval-every", str(eval_every)]
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        completed = subprocess.run(command, capture_output=True, text=True, env=environment)
        if completed.returncode != 0:
            raise SystemExit(f"{library} {name} seed {seed} failed:\n{completed.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def _mean(values: list[float], digits: int = 0) -> str:
    return f"{statistics.fmean(values):,.{digits}f}" if values else "-"


def last_returns(run: dict[str, Any]) -> float | None:
    returns = [episode_return for _, episode_return in run["episodes"][-RETURN_WINDOW:]]
    return statistics.fmean(returns) if returns else None


def learning_cells(name: str, runs: list[dict[str, Any]]) -> str:
    """Steps to threshold, solved seeds, evaluation and last-10 returns of ``runs``, as table cells."""
    threshold = WORKLOADS[name].threshold
    solve_steps = [s for s in (steps_to_solve(run["episodes"], threshold) for run in runs) if s is not None]
    evaluated = [run["eval_return"] for run in runs if run["eval_return"] is not None]
    solved = f"{sum(r >= threshold for r in evaluated)}/{len(runs)}" if evaluated else "-"
    last = [r for r in map(last_returns, runs) if r is not None]
    return (
        f"{_mean([float(s) for s in solve_steps])} ({len(solve_steps)}/{len(runs)}) "
        f"| {solved} | {_mean(evaluated, 1)} | {_mean(last, 1)}"
    )


def table_row(name: str, library: str, steps: int, runs: list[dict[str, Any]]) -> str:
    cpu_rates = [steps / run["cpu_s"] for run in runs]
    cpu_range = f"{min(cpu_rates):,.0f}-{max(cpu_rates):,.0f}"
    wall_rates = [steps / run["wall_s"] for run in runs]
    return (
        f"| {name} | {library} | {steps:,} | {_mean(cpu_rates)} ({cpu_range}) "
        f"| {_mean(wall_rates)} | {learning_cells(name, runs)} "
        f"| {max(run['peak_rss_mib'] for run in runs):,.0f} |"
    )


def seed_table(every_run: list[dict[str, Any]], libraries: list[str]) -> list[str]:
    """Per workload and seed, each library's evaluation return (``*``: solved) and last-10 return."""
    header = " | ".join(f"{library} eval (last 10)" for library in libraries)
    lines = [f"| workload | seed | {header} |", "|---|---:|" + "---:|" * len(libraries)]
    results = {(run["workload"], run["seed"], run["library"]): run for run in every_run}
    for name, seed in dict.fromkeys((run["workload"], run["seed"]) for run in every_run):
        cells = []
        for library in libraries:
            run = results.get((name, seed, library))
            if run is None:
                cells.append("-")
                continue
            evaluated, last = run["eval_return"], last_returns(run)
            solved = "*" if evaluated is not None and evaluated >= WORKLOADS[name].threshold else ""
            shown = "-" if evaluated is None else f"{evaluated:.1f}{solved}"
            cells.append(f"{shown} ({'-' if last is None else f'{last:.1f}'})")
        lines.append(f"| {name} | {seed} | {' | '.join(cells)} |")
    return lines


def curve_table(every_run: list[dict[str, Any]]) -> list[str]:
    """Per workload, seed and library with a learning curve (``--eval-every``): the greedy return at each
    evaluation and the final one; then per workload and library, how many evaluations of the second half of
    training reached the threshold, over all seeds (a measure less at the mercy of the last update than the
    final evaluation alone)."""
    with_curves = [run for run in every_run if run.get("curve")]
    if not with_curves:
        return []
    lines = ["| workload | seed | library | first step | greedy return every --eval-every steps | final |"]
    lines.append("|---|---:|---|---:|---|---:|")
    late: dict[tuple[str, str], list[float]] = {}
    for run in with_curves:
        points = " ".join(f"{value:.0f}" for _, value in run["curve"])
        final = "-" if run["eval_return"] is None else f"{run['eval_return']:.0f}"
        every = run["curve"][0][0]
        lines.append(
            f"| {run['workload']} | {run['seed']} | {run['library']} | {every:,} | {points} | {final} |"
        )
        second_half = [value for step, value in run["curve"] if step > run["steps"] / 2]
        late.setdefault((run["workload"], run["library"]), []).extend(second_half)
    lines += [
        "",
        "| workload | library | second-half evaluations at threshold (all seeds) |",
        "|---|---|---:|",
    ]
    for (name, library), values in late.items():
        solved = sum(value >= WORKLOADS[name].threshold for value in values)
        lines.append(f"| {name} | {library} | {solved}/{len(values)} |")
    return lines


def merged_tables(files: list[Path]) -> list[str]:
    """The learning columns and the per-seed table of runs saved by several ``--json`` runs (one library's
    runs may come from a later session than another's: their speeds are not comparable, so none is shown).
    A (workload, library, seed) saved in several files counts once, as the last file has it."""
    latest = {
        (run["workload"], run["library"], run["seed"]): run
        for file in files
        for run in json.loads(file.read_text())
    }  # a run saved twice: the later file's
    every_run = list(latest.values())
    libraries = [library for library in LIBRARIES if any(run["library"] == library for run in every_run)]
    lines = [
        f"merged from {len(files)} runs ({', '.join(str(file) for file in files)}): learning columns only",
        "| workload | library | steps | steps to threshold, mean (runs) | solved (eval) | eval return "
        "| last 10 return |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name in dict.fromkeys(run["workload"] for run in every_run):
        for library in libraries:
            runs = [run for run in every_run if (run["workload"], run["library"]) == (name, library)]
            if runs:
                steps = ", ".join(f"{s:,}" for s in sorted({run["steps"] for run in runs}))
                lines.append(f"| {name} | {library} | {steps} | {learning_cells(name, runs)} |")
    return [*lines, "", *seed_table(every_run, libraries), "", *curve_table(every_run)]


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one seed, short budgets: checks it all runs")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, help="seeds 1..N per library and workload (default 5; quick 1)")
    seeds.add_argument("--seed-list", type=int, nargs="+", metavar="SEED", help="these seeds only")
    parser.add_argument("--workloads", nargs="+", choices=sorted(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument(
        "--libs",
        nargs="+",
        choices=LIBRARIES,
        default=list(DEFAULT_LIBRARIES),
        help="sb3-bridge (rldojo-sb3's sb3_dqn / sb3_sac, off-policy rows only) runs when named",
    )
    parser.add_argument("--steps", type=int, help="env steps per run (default: the workload's)")
    parser.add_argument("--json", type=Path, help="write every run (episodes, evaluation, times) here")
    parser.add_argument(
        "--eval-every",
        type=int,
        default=0,
        metavar="STEPS",
        help=f"learning curves: a greedy evaluation ({CURVE_EPISODES} episodes) every STEPS env steps for "
        "rldojo and SB3 (its time then counts in the speeds)",
    )
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="train nothing: print the learning tables of runs saved with --json (several files: e.g. "
        "rldojo's from today with SB3's and CleanRL's from before)",
    )
    parser.add_argument(
        "--run-one", nargs=5, metavar=("LIB", "WORKLOAD", "SEED", "STEPS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run_one:
        library, name, seed, steps, out = args.run_one
        run_one(library, name, int(seed), int(steps), Path(out), args.eval_every)
        return
    if args.merge:
        missing = [str(file) for file in args.merge if not file.is_file()]
        if missing:
            print(
                f"--merge: no such file {', '.join(missing)}; pass files written with --json", file=sys.stderr
            )
            raise SystemExit(2)
        print("\n".join(merged_tables(args.merge)))
        return

    if args.libs == ["sb3-bridge"] and not any(WORKLOADS[name].sb3_args for name in args.workloads):
        bridged = ", ".join(name for name, workload in WORKLOADS.items() if workload.sb3_args)
        parser.error(f"--libs sb3-bridge runs on the off-policy rows only: add --workloads {bridged}")
    compile_sources()
    seed_list = args.seed_list or list(range(1, (args.seeds or (1 if args.quick else 5)) + 1))
    budgets = {
        name: args.steps or (w.quick_steps if args.quick else w.steps) for name, w in WORKLOADS.items()
    }
    for name in args.workloads:
        print(f"{name}: {budgets[name]:,} env steps per run, seeds {seed_list}, {' '.join(args.libs)}")
    lines = [
        "| workload | library | steps | env steps per CPU-s mean (min-max) | per wall-s "
        "| steps to threshold, mean (runs) | solved (eval) | eval return | last 10 return | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rates: dict[tuple[str, str], float] = {}
    every_run: list[dict[str, Any]] = []
    for name in args.workloads:
        workload = WORKLOADS[name]
        steps = budgets[name]
        libraries = [lib for lib in args.libs if lib != "sb3-bridge" or workload.sb3_args]
        runs: dict[str, list[dict[str, Any]]] = {library: [] for library in libraries}
        for seed in seed_list:
            for library in libraries:  # interleaved, so a busy spell of the machine hits every library
                run = launch(library, name, seed, steps, args.eval_every)
                print(
                    f"{name} {library} seed {seed}: {steps / run['cpu_s']:,.0f} steps per CPU-s, "
                    f"{steps / run['wall_s']:,.0f} per wall-s, steps to threshold "
                    f"{steps_to_solve(run['episodes'], workload.threshold)}, eval {run['eval_return']}, "
                    f"peak RSS {run['peak_rss_mib']:,.0f} MiB",
                    flush=True,
                )
                runs[library].append(run)
                every_run.append({"workload": name, "library": library, "seed": seed, "steps": steps, **run})
                if args.json:
                    args.json.write_text(json.dumps(every_run))
        for library, library_runs in runs.items():
            rates[name, library] = statistics.fmean(steps / run["cpu_s"] for run in library_runs)
            lines.append(table_row(name, library, steps, library_runs))
    print("\n".join(lines))
    print("\n".join(seed_table(every_run, args.libs)))
    print("\n".join(curve_table(every_run)))
    for name in args.workloads:
        for ours, other in (("rldojo", "sb3"), ("rldojo", "cleanrl"), ("sb3-bridge", "sb3")):
            if (name, ours) in rates and (name, other) in rates:
                ratio = rates[name, ours] / rates[name, other]
                print(f"{name}: {ours} / {other} env steps per CPU-second = {ratio:.2f}")


if __name__ == "__main__":
    main()
