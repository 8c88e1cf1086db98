"""Where rldojo's time goes on the launched-build path, per 1000 agent steps: ML-Agents' 3DBall PPO config.

    .venv/bin/python scripts/profile_mlagents.py [--max-steps 24000] [--rate 100] [--config FILE]
        [--rldojo OTHER_CHECKOUT/.venv/bin/rldojo] [--raw-out FILE]

``rldojo learn`` trains the config (ML-Agents' ``ppo/3DBall.yaml``, shortened to ``--max-steps``) on the
launched build ``unity_builds/3DBall/3DBall.x86_64`` (12 agents, one env worker, CPU) under py-spy, which
samples the trainer, its env worker process and the build (cProfile cannot follow the worker, a forkserver
child). py-spy runs through ``uvx`` (uv on PATH fetches it on first use). Only samples of threads py-spy sees
as running count (its default), so the table is close to CPU time, except that py-spy counts a thread in some
waits as running (the trainer's wait for the env worker's answer, pipe writes, lock hand-offs between the
gRPC server's threads): those buckets include waiting. The buckets, outermost match first:

- trainer, training loop: the PPO update; trajectory processing (value estimates, GAE); summaries and
  checkpoints; acting (the policy's forward pass); the agent processor; receiving env steps (pipe and
  unpickling); the rest of the loop (sending actions, glue);
- trainer, start-up and end: everything of the trainer's main thread outside the training loop (imports,
  settings, starting the env worker, building the trainer, final checkpoint and ONNX export), and the
  background import of torch (a thread of its own, overlapping the env start);
- env worker: the gRPC exchange with the build (mlagents-envs' communicator and the thread hand-off of
  the gRPC server), decoding the steps (mlagents-envs' ``_update_state``), checking and reporting them
  (``report_steps``), the pipe to the trainer (pickling, send and receive), the rest (start-up);
- the build: rldojo-sim's simulated Unity player, the same for rldojo and ``mlagents-learn``.

Sampling has overheads of its own and the numbers are wall-clock based: run it on an idle machine and
compare runs of one machine. ``--rldojo`` profiles another checkout's ``rldojo`` (before / after a change).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_CONFIG = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "mlagents" / "configs"
BUILD = ROOT / "unity_builds" / "3DBall" / "3DBall.x86_64"

FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>.*?)(?::\d+)?\)$")

# (path suffix, function) -> bucket; a stack is counted in the bucket of its outermost match
TRAINER_LOOP = {
    ("rldojo/trainers/on_policy.py", "OnPolicyTrainer._update_policy"): "PPO update",
    ("rldojo/trainers/rl_trainer.py", "RLTrainer.process_trajectory"): "trajectory processing (values, GAE)",
    ("rldojo/trainers/rl_trainer.py", "RLTrainer.write_summary"): "summaries and checkpoints",
    ("rldojo/saving.py", "save_trainer"): "summaries and checkpoints",
    ("rldojo/policy.py", "Policy.get_action"): "acting (policy forward)",
    ("rldojo/agent_processor.py", "AgentProcessor.add_steps"): "agent processor",
    ("rldojo/agent_processor.py", "AgentProcessor.add_actions"): "agent processor",
    ("rldojo/agent_processor.py", "AgentProcessor.memories"): "agent processor",
    (
        "rldojo/envs/subprocess_manager.py",
        "SubprocessEnvManager.finish_step",
    ): "receiving env steps (and waiting)",
}
WORKER = {
    ("mlagents_envs/rpc_communicator.py", "RpcCommunicator.exchange"): "gRPC exchange",
    ("grpc/_server.py", "_serve"): "gRPC exchange",
    ("concurrent/futures/thread.py", "_worker"): "gRPC exchange",
    ("mlagents_envs/environment.py", "UnityEnvironment._update_state"): "decoding steps",
    ("rldojo/envs/worker.py", "report_steps"): "checking and reporting steps",
    ("multiprocessing/connection.py", "_ConnectionBase.send"): "pipe (pickling, send, receive)",
    ("multiprocessing/connection.py", "_ConnectionBase.recv"): "pipe (pickling, send, receive)",
}
ORDER = (
    "trainer: PPO update",
    "trainer: trajectory processing (values, GAE)",
    "trainer: summaries and checkpoints",
    "trainer: acting (policy forward)",
    "trainer: agent processor",
    "trainer: receiving env steps (and waiting)",
    "trainer: rest of the loop",
    "trainer: start-up and end (main thread)",
    "trainer: torch import (background thread)",
    "env worker: gRPC exchange",
    "env worker: decoding steps",
    "env worker: checking and reporting steps",
    "env worker: pipe (pickling, send, receive)",
    "env worker: rest (start-up)",
    "build (simulated player, same for both tools)",
)


def _frames(stack: str) -> list[tuple[str, str]]:
    """(file, function) of each frame of a py-spy raw stack, outermost first."""
    frames = []
    for text in stack.split(";"):
        match = FRAME.match(text)
        if match:
            frames.append((match["file"], match["function"]))
    return frames


def _match(frames: list[tuple[str, str]], table: dict[tuple[str, str], str]) -> str | None:
    for file, function in frames:
        for (suffix, name), bucket in table.items():
            if function == name and file.endswith(suffix):
                return bucket
    return None


def bucket_of(processes: list[str], stack: str) -> str:
    """The bucket of one sampled stack; ``processes``: the process and its ancestors, the trainer first."""
    frames = _frames(stack)
    if "multiprocessing.forkserver" in processes[-1]:  # the forkserver and the env workers it forked
        return f"env worker: {_match(frames, WORKER) or 'rest (start-up)'}"
    if len(processes) > 1:  # launched by an env worker
        return "build (simulated player, same for both tools)"
    functions = {function for _, function in frames}
    if "import_torch_in_background.<locals>.import_modules" in functions:
        return "trainer: torch import (background thread)"
    if "TrainerController.run" in functions:
        return f"trainer: {_match(frames, TRAINER_LOOP) or 'rest of the loop'}"
    return "trainer: start-up and end (main thread)"


def bucket_samples(raw: Path) -> collections.Counter[str]:
    """Samples per bucket of a py-spy ``--format raw`` file."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        parts = stack.split(";")
        processes = [i for i, part in enumerate(parts) if part.startswith("process ")]
        if not processes or not count.isdigit():
            continue
        stack = ";".join(parts[processes[-1] + 1 :])
        counts[bucket_of([parts[i] for i in processes], stack)] += int(count)
    return counts


def write_config(source: Path, max_steps: int, folder: Path) -> Path:
    config = yaml.safe_load(source.read_text())
    for behavior in config["behaviors"].values():
        behavior.update(max_steps=max_steps, summary_freq=max_steps // 4)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def print_table(counts: collections.Counter[str], rate: int, agent_steps: int) -> None:
    print(f"rldojo learn, 3DBall PPO (ML-Agents' config), launched build, {agent_steps} agent steps, py-spy")
    print("| where | seconds | ms per 1000 agent steps |")
    print("|---|---:|---:|")
    for bucket in [*ORDER, *(bucket for bucket in counts if bucket not in ORDER)]:
        seconds = counts[bucket] / rate
        print(f"| {bucket} | {seconds:.2f} | {1000 * seconds / agent_steps * 1000:.1f} |")
    loop = sum(
        counts[b] for b in ORDER if b.startswith("trainer: ") and "start-up" not in b and "import" not in b
    )
    print(f"| trainer, training loop in all | {loop / rate:.2f} | {1e6 * loop / rate / agent_steps:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--max-steps", type=int, default=24_000, help="agent steps of the run")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--config", type=Path, default=REFERENCE_CONFIG / "ppo" / "3DBall.yaml")
    parser.add_argument(
        "--rldojo", type=Path, default=ROOT / ".venv" / "bin" / "rldojo", help="the rldojo to run"
    )
    parser.add_argument("--raw-out", type=Path, help="keep py-spy's raw stacks in this file")
    args = parser.parse_args()
    uvx = shutil.which("uvx")
    if uvx is None:
        sys.exit("profile_mlagents needs uv's uvx on PATH (it runs py-spy)")
    if not BUILD.is_file() or not args.config.is_file():
        sys.exit(f"needs {BUILD} (make builds) and {args.config} (--config)")
    with tempfile.TemporaryDirectory(prefix="profile_mlagents_") as scratch:
        folder = Path(scratch)
        raw = args.raw_out or folder / "raw.txt"
        command = [uvx, "py-spy", "record", "--subprocesses", "--nonblocking", "--format", "raw",
                   "--rate", str(args.rate), "--output", str(raw), "--",
                   str(args.rldojo), "learn", str(write_config(args.config, args.max_steps, folder)),
                   "--env", str(BUILD), "--results-dir", str(folder), "--run-id", "profile"]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        print_table(bucket_samples(raw), args.rate, args.max_steps)


if __name__ == "__main__":
    main()
