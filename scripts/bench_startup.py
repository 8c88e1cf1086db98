"""Start-up cost of rldojo, this checkout against a baseline checkout, measured side by side.

    .venv/bin/python scripts/bench_startup.py --baseline /work/base [--repeats 5] [--max-steps 12000]

Each checkout runs its own ``.venv/bin/rldojo`` (create the baseline's with ``cd BASE && uv sync --frozen
--compile-bytecode && make builds``; ``make setup`` compiles the bytecode of the current one). Runs
alternate baseline / current, ``--repeats`` times, and the table shows medians:

- wall time of ``rldojo --help``, ``rldojo plugins`` and of validating ``configs/ppo.yaml`` in a fresh
  interpreter (``load_run_options``);
- command to first env step: from starting ``rldojo learn`` on the launched 3DBall build
  (``unity_builds/3DBall/3DBall.x86_64``) to the return of the first ``UnityEnvironment.step()`` in the
  env worker. A ``sitecustomize`` put on ``PYTHONPATH`` wraps that method once mlagents-envs is imported
  and writes the time of its first return to a file; the run is then stopped;
- peak RSS of the whole process tree (rldojo, its env workers, the launched builds; sampled every
  50 ms from /proc) of a 3DBall PPO run of ``--max-steps`` steps with one and with two env workers.

Run it on an idle machine: the numbers are wall-clock times. ``--no-bytecode`` runs every command as a venv
without compiled bytecode would (``PYTHONDONTWRITEBYTECODE`` set: each run compiles torch's modules again).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHILD_ENV = dict(os.environ)
"""The environment of every measured command (``--no-bytecode`` changes it)."""
BUILD = Path("unity_builds") / "3DBall" / "3DBall.x86_64"

FIRST_STEP_HOOK = '''
import importlib.abc, importlib.util, os, sys, time

STAMP = os.environ["BENCH_FIRST_STEP_FILE"]


class _WrapStep(importlib.abc.MetaPathFinder):
    """Wraps UnityEnvironment.step when mlagents_envs.environment is imported, without importing it."""

    def find_spec(self, name, path, target=None):
        if name != "mlagents_envs.environment":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            step = module.UnityEnvironment.step

            def timed_step(self, *args, **kwargs):
                result = step(self, *args, **kwargs)
                if not os.path.exists(STAMP):
                    with open(STAMP, "w") as stamp:
                        stamp.write(repr(time.time()))
                return result

            module.UnityEnvironment.step = timed_step

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _WrapStep())
'''


def children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    children, total, todo = children_map(), 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the run's whole process group (rldojo, env workers, launched builds)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_config(checkout: Path, folder: Path, max_steps: int) -> Path:
    """``configs/ppo.yaml`` of ``checkout`` on its launched 3DBall build, shortened to ``max_steps``."""
    config = yaml.safe_load((checkout / "configs" / "ppo.yaml").read_text())
    behavior = config["behaviors"]["3DBall"]
    behavior.update(max_steps=max_steps, summary_freq=max_steps, checkpoint_interval=max_steps)
    config.setdefault("env_settings", {})["env_path"] = str(checkout / BUILD)
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def timed_command(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=CHILD_ENV, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def first_env_step(checkout: Path, folder: Path) -> float:
    hook = folder / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(FIRST_STEP_HOOK)
    stamp = folder / "first_step"
    stamp.unlink(missing_ok=True)
    env = {**CHILD_ENV, "PYTHONPATH": str(hook), "BENCH_FIRST_STEP_FILE": str(stamp)}
    command = [str(checkout / ".venv/bin/rldojo"), "learn", str(run_config(checkout, folder, 100000)),
               "--run-id", "first_step", "--force"]  # fmt: skip
    start = time.time()
    process = subprocess.Popen(command, cwd=folder, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while not stamp.exists():
            if process.poll() is not None or time.time() - start > 300:
                raise RuntimeError(f"{checkout}: rldojo learn ended or hung before its first env step")
            time.sleep(0.02)
        time.sleep(0.05)  # let the stamp's write finish
        return float(stamp.read_text()) - start
    finally:
        stop(process)


def peak_rss(checkout: Path, folder: Path, num_envs: int, max_steps: int) -> float:
    """Peak process-tree RSS in GiB of a whole short run."""
    command = [str(checkout / ".venv/bin/rldojo"), "learn", str(run_config(checkout, folder, max_steps)),
               "--run-id", f"rss{num_envs}", "--force", "--num-envs", str(num_envs)]  # fmt: skip
    process = subprocess.Popen(command, cwd=folder, env=CHILD_ENV, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    peak = 0
    try:
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)
        if process.returncode != 0:
            raise RuntimeError(f"{checkout}: rldojo learn failed: {process.stderr.read().decode()[-500:]}")
    finally:
        stop(process)
    return peak / 2**30


def measurements(max_steps: int) -> dict[str, Callable[[Path, Path], float]]:
    validate = (
        "from pathlib import Path; from rldojo.settings import load_run_options; load_run_options(Path({!r}))"
    )
    return {
        "rldojo --help (s)": lambda c, f: timed_command([str(c / ".venv/bin/rldojo"), "--help"], f),
        "rldojo plugins (s)": lambda c, f: timed_command([str(c / ".venv/bin/rldojo"), "plugins"], f),
        "config validation (s)": lambda c, f: timed_command(
            [str(c / ".venv/bin/python"), "-c", validate.format(str(c / "configs" / "ppo.yaml"))], f
        ),
        "command to first env step (s)": first_env_step,
        "peak RSS, 1 env worker (GiB)": lambda c, f: peak_rss(c, f, 1, max_steps),
        "peak RSS, 2 env workers (GiB)": lambda c, f: peak_rss(c, f, 2, max_steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout with its own .venv")
    parser.add_argument("--repeats", type=int, default=5, help="runs per checkout and measurement")
    parser.add_argument("--max-steps", type=int, default=12000, help="steps of the peak-RSS runs")
    parser.add_argument("--only", nargs="+", help="measure only these rows (start of their names)")
    parser.add_argument("--no-bytecode", action="store_true", help="ignore compiled bytecode (.pyc files)")
    args = parser.parse_args()
    checkouts = {"baseline": args.baseline.resolve(), "current": ROOT}
    for name, checkout in checkouts.items():
        if not (checkout / ".venv/bin/rldojo").is_file() or not (checkout / BUILD).is_file():
            sys.exit(
                f"{name} {checkout}: needs .venv/bin/rldojo and {BUILD} (uv sync --frozen && make builds)"
            )
    rows = {
        label: measure
        for label, measure in measurements(args.max_steps).items()
        if not args.only or any(label.startswith(prefix) for prefix in args.only)
    }
    results: dict[str, dict[str, list[float]]] = {label: {name: [] for name in checkouts} for label in rows}
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as scratch:
        if args.no_bytecode:  # bytecode is looked for under an empty prefix only, and never written
            CHILD_ENV.update(PYTHONPYCACHEPREFIX=f"{scratch}/no-pycache", PYTHONDONTWRITEBYTECODE="1")
        for label, measure in rows.items():
            for repeat in range(args.repeats):
                for name, checkout in checkouts.items():
                    folder = Path(scratch) / name
                    folder.mkdir(exist_ok=True)
                    value = measure(checkout, folder)
                    results[label][name].append(value)
                    print(f"  {label}  {name}  #{repeat + 1}: {value:.2f}", file=sys.stderr, flush=True)
    bytecode = "without bytecode" if args.no_bytecode else "with compiled bytecode"
    print(f"median of {args.repeats} alternating runs {bytecode}; baseline {args.baseline}, current {ROOT}")
    print(f"| {'measurement':<32} | {'baseline':>9} | {'current':>9} | {'current/baseline':>16} |")
    print(f"|{'-' * 34}|{'-' * 11}|{'-' * 11}|{'-' * 18}|")
    for label, values in results.items():
        before, after = statistics.median(values["baseline"]), statistics.median(values["current"])
        print(f"| {label:<32} | {before:>9.2f} | {after:>9.2f} | {after / before:>16.2f} |")


if __name__ == "__main__":
    main()
