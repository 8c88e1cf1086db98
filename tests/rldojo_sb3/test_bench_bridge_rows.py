"""scripts/bench_trainers.py runs the sb3-bridge library on the off-policy rows only; asked for it alone on
rows it cannot run, it says which rows it can, instead of training nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "scripts" / "bench_trainers.py"


def test_the_bridge_alone_on_ppo_rows_is_one_error_naming_the_rows_it_runs():
    command = [sys.executable, str(BENCH), "--workloads", "ppo-cartpole", "--libs", "sb3-bridge"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert (
        "--libs sb3-bridge runs on the off-policy rows only: add --workloads dqn-cartpole, sac-pendulum"
        in (completed.stderr)
    )
