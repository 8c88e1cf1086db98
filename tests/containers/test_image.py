"""The rldojo image on a real Docker engine: train ALGO=dqn inside, results on the host, resume, determinism.

The container runs are made by ``rldojo docker train`` with a short copy of configs/dqn.yaml mounted
over the image's (``--config``); the same run on the host must give the same stats and model.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO_ROOT, rldojo_command

pytestmark = [pytest.mark.docker, pytest.mark.timeout(2400)]

SEED = "7"
HOST_USER = (4321, 4321) if os.geteuid() == 0 else (os.getuid(), os.getgid())
"""The uid:gid the container runs as: this user's, or (as root) an ordinary user's without a home."""


def short_dqn_config(folder: Path, max_steps: int) -> Path:
    """configs/dqn.yaml cut to ``max_steps``, with the JSONL stats writer; saved as ``folder/dqn.yaml``."""
    config = yaml.safe_load((REPO_ROOT / "configs" / "dqn.yaml").read_text())
    behavior = config["behaviors"]["Basic"]
    behavior.update(max_steps=max_steps, summary_freq=400, checkpoint_interval=800)
    config["stats_writers"] = {"jsonl": {"episodes": True}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dqn.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def docker_train(docker_host: str, image: str, config: Path, results: Path, *settings: str) -> str:
    """``rldojo docker train ALGO=dqn SETTINGS`` with ``config`` as configs/dqn.yaml; return its output."""
    command = [rldojo_command(), "docker", "--image", image, "train", "--config", str(config)]
    command += ["--results-dir", str(results), "--user", "{}:{}".format(*HOST_USER), "ALGO=dqn", *settings]
    ran = subprocess.run(
        command, env={**os.environ, "DOCKER_HOST": docker_host}, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, (
        f"training in the container failed:\n{ran.stdout[-3000:]}\n{ran.stderr[-2000:]}"
    )
    return ran.stdout


def stats_rows(run: Path, name: str) -> list[dict[str, Any]]:
    """The rows of a JSONL stats file without their wall-clock times and speeds."""
    rows = [json.loads(line) for line in (run / name).read_text().splitlines()]
    for row in rows:
        row.pop("wall_time")
        row.get("stats", {}).pop("Environment/Steps Per Second", None)
    return rows


@pytest.fixture(scope="module")
def container_results(
    docker_host: str, rldojo_image: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A first 1200-step run in the container: (results folder on the host, its config)."""
    folder = tmp_path_factory.mktemp("docker_run")
    results = folder / "results"
    results.mkdir()
    os.chown(results, *HOST_USER)
    config = short_dqn_config(folder / "config", max_steps=1200)
    output = docker_train(
        docker_host, rldojo_image, config, results, "RUN_ID=boxed", "DEVICE=cpu", f"ARGS=--seed {SEED}"
    )
    assert "Basic. Step: 1200." in output
    return results, config


def test_image_runs_as_non_root_user(docker_client: Any, rldojo_image: str) -> None:
    uid = docker_client.containers.run(rldojo_image, ["id", "-u"], remove=True, network_mode="host")
    assert uid.strip() not in (b"", b"0")


def test_image_can_be_a_ray_cluster_node(docker_client: Any, rldojo_image: str) -> None:
    """One image for the head and the workers: Ray, Tune and rldojo-ray's sweep command are in it."""
    versions = docker_client.containers.run(
        rldojo_image,
        ["python", "-c", "import ray, ray.tune, rldojo_ray; print(ray.__version__)"],
        remove=True,
        network_mode="none",
    )
    assert versions.decode().strip().startswith("2.")
    usage = docker_client.containers.run(
        rldojo_image, ["rldojo", "sweep", "--help"], remove=True, network_mode="none"
    )
    assert usage.startswith(b"usage: rldojo sweep")


def test_training_in_container_leaves_run_on_host_owned_by_host_user(
    container_results: tuple[Path, Path],
) -> None:
    run = container_results[0] / "boxed"
    for expected in ("Basic.onnx", "Basic/checkpoint.pt", "configuration.yaml"):
        assert (run / expected).is_file(), f"{expected} missing from {sorted(os.listdir(run))}"
    final_steps = [int(path.stem.split("-")[1]) for path in (run / "Basic").glob("Basic-*.pt")]
    assert max(final_steps, default=0) >= 1200, f"no final checkpoint in {sorted(os.listdir(run / 'Basic'))}"
    assert yaml.safe_load((run / "configuration.yaml").read_text())["env_settings"]["seed"] == int(SEED)
    manifest = json.loads((run / "run_manifest.json").read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    assert (
        manifest["rldojo_source"]["git"]["commit"] == head.strip()
    )  # the image has no .git: built-in commit
    for path in [run, *run.rglob("*")]:
        assert (path.stat().st_uid, path.stat().st_gid) == HOST_USER, path


def test_same_seed_gives_same_stats_and_model_inside_and_outside(
    container_results: tuple[Path, Path], sim_build: Callable[[str], Path], tmp_path: Path
) -> None:
    results, config = container_results
    command = [rldojo_command(), "learn", str(config), "--run-id", "host", "--results-dir", str(tmp_path)]
    command += ["--seed", SEED, "--device", "cpu", "--env", str(sim_build("Basic"))]
    subprocess.run(command, check=True, capture_output=True)

    for name in ("summaries.jsonl", "episodes.jsonl"):
        assert stats_rows(tmp_path / "host", name) == stats_rows(results / "boxed", name), name
    assert (tmp_path / "host" / "Basic.onnx").read_bytes() == (results / "boxed" / "Basic.onnx").read_bytes()


def test_second_container_run_resumes(
    docker_host: str, rldojo_image: str, container_results: tuple[Path, Path]
) -> None:
    """Runs last in this file: it extends the first run."""
    results, first_config = container_results
    before = stats_rows(results / "boxed", "summaries.jsonl")
    longer = short_dqn_config(first_config.parent / "longer", max_steps=2000)

    output = docker_train(
        docker_host, rldojo_image, longer, results, "RUN_ID=boxed", "DEVICE=cpu", "ARGS=--resume"
    )

    assert "Resuming run 'boxed'" in output
    after = stats_rows(results / "boxed", "summaries.jsonl")
    assert after[: len(before)] == before
    assert [row["step"] for row in after[len(before) :]] == [1600, 2000]
    status = json.loads((results / "boxed" / "run_logs" / "training_status.json").read_text())
    assert status["Basic"]["final_checkpoint"]["steps"] > 2000 - 10
