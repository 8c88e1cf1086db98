"""Checkpoint files: weights_only loading, RNG round trip, keep_checkpoints, and kill -9 during a write."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rldojo.checkpoint import (
    load_checkpoint,
    load_latest_checkpoint,
    restore_rng_state,
    save_checkpoint,
    save_trainer_checkpoint,
)
from rldojo.errors import RldojoError


@pytest.mark.smoke
def test_checkpoint_round_trip_with_weights_only_and_rng(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"modules": {"Policy": model.state_dict()}, "step": 12})
    expected = (random.random(), np.random.rand(), torch.rand(1))
    state = load_checkpoint(path)
    assert state["step"] == 12 and state["format_version"] == 1
    torch.testing.assert_close(state["modules"]["Policy"]["weight"], model.weight.detach())
    restore_rng_state(state["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected


def test_checkpoints_keeping_the_python_random_state_as_numbers_still_restore_it(tmp_path):
    """Checkpoints written before the state's 625 words were one tensor keep them as a list of numbers."""
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"step": 1})
    state = load_checkpoint(path)
    version, words, gauss = state["rng"]["python"]
    assert isinstance(words, torch.Tensor)
    torch.save({**state, "rng": {**state["rng"], "python": (version, words.tolist(), gauss)}}, path)
    expected = random.random()
    restore_rng_state(load_checkpoint(path)["rng"])
    assert random.random() == expected


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_get_the_mode_the_umask_allows(tmp_path, umask, mode):
    """mkstemp creates 0600 files; results must be readable by whoever the umask lets read them."""
    path = tmp_path / "status.json"
    write = (
        f"import os; os.umask({umask:#o}); from pathlib import Path; "
        "from rldojo.checkpoint import atomic_write; "
        f"atomic_write(Path({str(path)!r}), lambda file: file.write(b'{{}}'))"
    )
    subprocess.run([sys.executable, "-c", write], check=True)
    assert path.stat().st_mode & 0o777 == mode


@pytest.mark.smoke
def test_unreadable_or_foreign_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(RldojoError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RldojoError, match=r"is damaged or not an rldojo checkpoint$"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(RldojoError, match="format version None"):
        load_checkpoint(tmp_path / "other.pt")


@pytest.mark.smoke
def test_resume_falls_back_to_the_newest_intact_step_checkpoint(tmp_path, caplog):
    artifacts = tmp_path / "Ball"
    for step in (10, 20, 30):
        save_trainer_checkpoint(artifacts, "Ball", step, {"modules": {}}, keep_checkpoints=5, reward=None)
    (artifacts / "Ball-30.pt").write_bytes((artifacts / "Ball-30.pt").read_bytes()[:100])  # truncated
    (artifacts / "checkpoint.pt").write_bytes(b"garbage")
    assert load_latest_checkpoint(artifacts)["step"] == 20
    assert "resuming from Ball-20.pt instead" in caplog.text and "weights_only" not in caplog.text
    (artifacts / "checkpoint.pt").unlink()
    assert load_latest_checkpoint(artifacts)["step"] == 20
    for step_file in artifacts.glob("Ball-*.pt"):
        step_file.write_bytes(b"")
    with pytest.raises(RldojoError, match=r"no intact <behavior>-<step>\.pt is beside it"):
        load_latest_checkpoint(artifacts)


@pytest.mark.smoke
def test_keep_checkpoints_deletes_the_oldest_and_records_status(tmp_path):
    artifacts = tmp_path / "Ball"
    for step in (10, 20, 30, 40):
        save_trainer_checkpoint(artifacts, "Ball", step, {"modules": {}}, keep_checkpoints=2, reward=1.5)
    assert sorted(p.name for p in artifacts.glob("*.pt")) == ["Ball-30.pt", "Ball-40.pt", "checkpoint.pt"]
    assert load_checkpoint(artifacts / "checkpoint.pt")["step"] == 40
    status = json.loads((tmp_path / "run_logs" / "training_status.json").read_text())
    assert [c["steps"] for c in status["Ball"]["checkpoints"]] == [30, 40]
    assert status["metadata"]["stats_format_version"] == "0.3.0"


WRITER = """
import sys, torch
from pathlib import Path
from rldojo.checkpoint import save_trainer_checkpoint
big = {"w": torch.randn(4_000_000)}
step = 0
print("ready", flush=True)
while True:
    step += 1
    save_trainer_checkpoint(Path(sys.argv[1]), "Ball", step, {"modules": {"Policy": big}}, 3, None)
"""


def _wait_until_a_later_write_is_under_way(artifacts: Path, attempt: int) -> None:
    """Return while a temporary file of a write is on disk, after ``attempt`` earlier writes of this
    process (a fixed sleep misses the writes on a fast disk or lands between them on a slow one)."""
    seen_writes, writing = 0, False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now_writing = any(artifacts.glob(".*.tmp"))
        seen_writes += now_writing and not writing
        writing = now_writing
        if writing and seen_writes > attempt and (artifacts / "checkpoint.pt").exists():
            return
        time.sleep(0.0005)
    raise AssertionError("the writer wrote no checkpoint within 60 s")


def test_kill_9_during_checkpoint_writes_leaves_a_loadable_checkpoint(tmp_path):
    artifacts = tmp_path / "Ball"
    kills_during_a_write = 0
    for attempt in range(5):
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(artifacts)], stdout=subprocess.PIPE)
        assert process.stdout.readline().strip() == b"ready"
        _wait_until_a_later_write_is_under_way(artifacts, attempt)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills_during_a_write += bool(list(artifacts.glob(".*.tmp")))  # a half-written temporary file
        state = load_checkpoint(artifacts / "checkpoint.pt")
        assert state["step"] >= 1 and state["modules"]["Policy"]["w"].shape == (4_000_000,)
        status = json.loads((tmp_path / "run_logs" / "training_status.json").read_text())
        for entry in status["Ball"]["checkpoints"]:
            assert load_checkpoint(artifacts / Path(entry["file_path"]).name)["step"] == entry["steps"]
        if kills_during_a_write >= 2:
            break
    assert kills_during_a_write >= 1, "no kill landed inside a write; the test did not test anything"
    save_trainer_checkpoint(artifacts, "Ball", 10**6, {"modules": {}}, keep_checkpoints=3, reward=None)
    assert not list(artifacts.glob(".*.tmp")), "temporary files of killed writes are cleaned up"
