"""The fault matrix: real ``rldojo learn`` processes killed, interrupted, starved of disk, or run twice.

Each trial ends with the run finished or resumed to ``max_steps``, every file in its folder readable (no
checkpoint lost or half-written) and no temporary file left. ``python tests/rldojo/test_fault_matrix.py``
prints the fault table (trials, runs finished or resumed, files lost, runs left unresumable).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

CONFIG = {
    "behaviors": {
        "Basic": {
            "trainer_type": "ppo",
            "hyperparameters": {"batch_size": 16, "buffer_size": 64},
            "network_settings": {"hidden_units": 8, "num_layers": 1},
            "max_steps": 300,
            "checkpoint_interval": 50,
            "keep_checkpoints": 3,
            "time_horizon": 8,
            "summary_freq": 200,
        }
    },
    "env_settings": {"env_path": "sim:Basic", "seed": 1},
    "torch_settings": {"device": "cpu"},
}
WITH_WORKERS = {**CONFIG, "env_settings": {**CONFIG["env_settings"], "in_process": False}}
"""The config with sim:Basic in an env worker process (``in_process: auto`` steps it in the trainer's)."""
RUN_TIMEOUT_S = 600

pytestmark = pytest.mark.slow


@dataclass
class Trial:
    """One fault: did the run end at max_steps, and what did its folder hold afterwards."""

    name: str
    finished: bool
    lost_files: list[str]


class Run:
    """``rldojo learn`` of run ``r`` in ``folder``, as a child process."""

    def __init__(self, folder: Path, config: dict | None = None):
        self.folder = folder
        self.config_file = folder / "run.yaml"
        self.config_file.write_text(yaml.safe_dump(config or CONFIG))
        self.path = folder / "results" / "r"

    def start(self, *flags: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "rldojo.cli", "learn", "run.yaml", "--run-id", "r", *flags]
        return subprocess.Popen(
            command, cwd=self.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def finish(self, *flags: str) -> subprocess.CompletedProcess[str]:
        process = self.start(*flags)
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def steps(self) -> int:
        """The step of the newest checkpoint recorded in training_status.json (0 without one)."""
        with contextlib.suppress(OSError, ValueError, KeyError, IndexError):
            status = json.loads((self.path / "run_logs" / "training_status.json").read_text())
            return int(status["Basic"]["checkpoints"][-1]["steps"])
        return 0

    def lost_files(self) -> list[str]:
        """Files of the run folder that cannot be read back, and leftover temporary files."""
        from rldojo.checkpoint import load_checkpoint
        from rldojo.errors import RldojoError

        lost = [str(path) for path in self.path.rglob("*.tmp")]
        for path in self.path.rglob("*.pt"):
            try:
                load_checkpoint(path)
            except RldojoError:
                lost.append(str(path))
        for path in [*self.path.rglob("*.json"), self.path / "configuration.yaml"]:
            try:
                yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError):
                lost.append(str(path))
        return lost

    def resume_to_the_end(self) -> bool:
        """``--resume`` (or a plain start when nothing was saved) until the run reached max_steps."""
        flags = ("--resume",) if self.path.is_dir() else ()
        result = self.finish(*flags)
        return result.returncode == 0 and self.steps() >= CONFIG["behaviors"]["Basic"]["max_steps"]


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended early ({process.returncode}): {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the run did not get there in time")
        time.sleep(0.01)


def _children_by_parent() -> dict[int, list[int]]:
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return parents


def children(pid: int) -> list[int]:
    return _children_by_parent().get(pid, [])


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first."""
    parents = _children_by_parent()
    found, queue = [], [pid]
    while queue:
        below = parents.get(queue.pop(0), [])
        found += below
        queue += below
    return found


def command_line(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    return False


# --- the trials -------------------------------------------------------------------------------------


def kill_trainer_at_start(folder: Path) -> Trial:
    run = Run(folder, WITH_WORKERS)
    process = run.start()
    wait_for(lambda: (run.path / "run_logs").is_dir(), process)
    workers = descendants(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "env workers outlived their trainer"
    return Trial("kill -9 trainer at start-up", run.resume_to_the_end(), run.lost_files())


def kill_trainer_mid_run(folder: Path) -> Trial:
    run = Run(folder)
    process = run.start()
    wait_for(lambda: run.steps() >= 100, process)
    process.kill()
    process.wait()
    return Trial("kill -9 trainer during a step", run.resume_to_the_end(), run.lost_files())


def _checkpoint_not_exported(behavior: Path) -> bool:
    """Whether the newest ``Basic-<step>.pt`` has no ``.onnx`` yet: the trainer is saving it."""
    step_files = sorted(behavior.glob("Basic-*.pt"), key=lambda path: int(path.stem.rpartition("-")[2]))
    return bool(step_files) and not step_files[-1].with_suffix(".onnx").exists()


def kill_trainer_in_a_checkpoint_write(folder: Path) -> Trial:
    run = Run(folder)
    process = run.start()
    behavior = run.path / "Basic"
    wait_for(lambda: any(behavior.glob(".*.tmp")) or _checkpoint_not_exported(behavior), process)
    process.kill()
    process.wait()
    return Trial("kill -9 trainer in a checkpoint write", run.resume_to_the_end(), run.lost_files())


def kill_a_worker(folder: Path) -> Trial:
    run = Run(folder, WITH_WORKERS)
    process = run.start()
    wait_for(lambda: run.steps() >= 50, process)
    forkservers = [pid for pid in children(process.pid) if "forkserver" in command_line(pid)]
    workers = [pid for server in forkservers for pid in children(server)]  # forked by the forkserver
    assert workers, "no env worker process found"
    os.kill(workers[0], signal.SIGKILL)
    process.communicate(timeout=RUN_TIMEOUT_S)
    finished = process.returncode == 0 or run.resume_to_the_end()
    return Trial("kill -9 env worker", finished, run.lost_files())


def kill_a_player(folder: Path, build: Path) -> Trial:
    config = {**CONFIG, "env_settings": {"env_path": str(build), "seed": 1}}
    run = Run(folder, config)
    process = run.start()
    wait_for(lambda: run.steps() >= 50, process)
    players = [pid for pid in descendants(process.pid) if str(build) in command_line(pid)]
    assert players, "no player process found"
    os.kill(players[0], signal.SIGKILL)
    process.communicate(timeout=RUN_TIMEOUT_S)
    finished = process.returncode == 0 or run.resume_to_the_end()
    return Trial("kill -9 player", finished, run.lost_files())


def sigterm(folder: Path) -> Trial:
    run = Run(folder)
    process = run.start()
    wait_for(lambda: run.steps() >= 50, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 130 and "continue with --resume" in stderr, stderr
    return Trial("SIGTERM", run.resume_to_the_end(), run.lost_files())


def corrupt_checkpoint(folder: Path) -> Trial:
    run = Run(folder)
    process = run.start()
    wait_for(lambda: run.steps() >= 150, process)
    process.kill()
    process.wait()
    (run.path / "Basic" / "checkpoint.pt").write_bytes(b"\0" * 100)
    result = run.finish("--resume")
    assert "resuming from Basic-" in result.stderr and "weights_only" not in result.stderr, result.stderr
    finished = result.returncode == 0 and run.steps() >= 300
    return Trial("corrupt checkpoint.pt", finished, run.lost_files())


def in_process(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``rldojo *argv`` run by ``main()`` in this process, in ``folder``."""
    from rldojo.cli import main

    stderr = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stderr(stderr):
            code = main(list(argv))
    finally:
        os.chdir(cwd)
    return subprocess.CompletedProcess(list(argv), code, "", stderr.getvalue())


def two_runs_on_one_id(folder: Path) -> Trial:
    import rldojo.training  # noqa: F401  (imports torch now, so the second run below starts at once)

    long_run = {**CONFIG, "behaviors": {"Basic": {**CONFIG["behaviors"]["Basic"], "max_steps": 1000}}}
    run = Run(folder, long_run)
    first = run.start()
    wait_for(lambda: run.steps() >= 50, first)
    second = in_process(run.folder, "learn", "run.yaml", "--run-id", "r", "--resume")
    assert second.returncode == 2 and "is in use by process" in second.stderr, second.stderr
    first.communicate(timeout=RUN_TIMEOUT_S)
    finished = first.returncode == 0 and run.steps() >= 1000
    return Trial("two runs on one run id", finished, run.lost_files())


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder`` (needs root); skips the test when it cannot be mounted."""
    folder.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mount.stderr.decode().strip()[:80]})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def full_disk(folder: Path) -> Trial:
    with small_disk(folder / "disk", "2m") as disk:
        run = Run(disk)
        (disk / "filler").write_bytes(b"\1" * (2048 - 96) * 1024)  # leaves room for a start, not a run
        result = run.finish()
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("rldojo: cannot write or read") and "disk is full" in lines[-1], lines
        assert "Traceback" not in result.stderr
        (disk / "filler").unlink()
        lost = run.lost_files()
        finished = result.returncode != 0 and run.resume_to_the_end()
        return Trial("full disk", finished, lost + run.lost_files())


TRIALS: dict[str, Callable[[Path], Trial]] = {
    "kill_trainer_at_start": kill_trainer_at_start,
    "kill_trainer_mid_run": kill_trainer_mid_run,
    "kill_trainer_in_a_checkpoint_write": kill_trainer_in_a_checkpoint_write,
    "kill_a_worker": kill_a_worker,
    "sigterm": sigterm,
    "corrupt_checkpoint": corrupt_checkpoint,
    "two_runs_on_one_id": two_runs_on_one_id,
    "full_disk": full_disk,
}


@pytest.mark.parametrize("name", sorted(TRIALS))
def test_fault(name, tmp_path):
    trial = TRIALS[name](tmp_path)
    assert trial.finished and trial.lost_files == []


def test_kill_a_player(tmp_path, sim_build):
    trial = kill_a_player(tmp_path, sim_build("Basic"))
    assert trial.finished and trial.lost_files == []


def fault_table() -> str:
    import rldojo_sim

    trials = []
    with tempfile.TemporaryDirectory() as root:
        build = rldojo_sim.build("Basic", Path(root) / "builds" / "Basic")
        runs = {**TRIALS, "kill_a_player": lambda folder: kill_a_player(folder, build)}
        for name, trial_function in runs.items():
            folder = Path(root) / name
            folder.mkdir()
            try:
                trials.append(trial_function(folder))
            except (AssertionError, pytest.skip.Exception) as problem:
                trials.append(Trial(f"{name} ({str(problem).splitlines()[0][:60]})", False, []))
    finished = sum(trial.finished for trial in trials)
    lost = sum(len(trial.lost_files) for trial in trials)
    rows = [
        "| trials | runs finished or resumed | files lost | runs left unresumable |",
        "|---|---|---|---|",
        f"| {len(trials)} | {finished} | {lost} | {len(trials) - finished} |",
    ]
    return "\n".join(rows + [f"  {t.name}: finished={t.finished} lost={t.lost_files}" for t in trials])


if __name__ == "__main__":
    print(fault_table())
