"""Runners that act themselves (``ray.acting: runner``) on a two-node Ray cluster started by the test (on
loopback only): SAC takes their asynchronous stream and learns; PPO with policy lag 1 trains on pieces at
most one update old without waiting for fresh ones; PPO with policy lag 0 trains only on
pieces of its current policy, reaches the reward of a local run of the same budget, and finishes after
losing a node, reporting what it lost. Runners act with each version the learner publishes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from rldojo.settings import load_run_options
from rldojo.training import train_run
from rldojo_ray.loopback import run_in_loopback_namespace

from ..rldojo.test_a2c_and_sac_learning import BASIC_SAC
from .test_cluster_training import CONFIG, HELPER, RewardRecorder, final_reward, loopback  # noqa: F401

PPO_BUDGET = {
    "env_settings.seed": 1,
    "behaviors.3DBall.max_steps": 30000,
    "behaviors.3DBall.summary_freq": 3000,
    "behaviors.3DBall.time_horizon": 64,
    "behaviors.3DBall.hyperparameters.buffer_size": 3000,
}
KILL_AT = 12000
LAGGED_STEPS = 9000
RUNNERS = {"ray.num_runners": 2, "ray.acting": "runner"}
VERSIONS_HELPER = Path(__file__).with_name("published_versions.py")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray_cluster"), pytest.mark.timeout(1800)]


def test_runner_acting_sac_and_ppo_on_two_nodes(loopback, tmp_path, sim_build):  # noqa: F811
    budget = {
        **PPO_BUDGET,
        "env_settings.env_path": str(sim_build("3DBall")),
        "checkpoint_settings.results_dir": str(tmp_path),
    }
    local = RewardRecorder()
    options = load_run_options(
        CONFIG, {**budget, "env_settings.num_envs": 2, "checkpoint_settings.run_id": "local"}
    )
    train_run(options, [local])

    sac_config = tmp_path / "basic_sac.yaml"
    sac_config.write_text(yaml.safe_dump(BASIC_SAC))
    runs = [
        {
            "config": str(sac_config),
            "overrides": {
                **RUNNERS,
                "env_settings.seed": 1,
                "checkpoint_settings.results_dir": str(tmp_path),
                "checkpoint_settings.run_id": "sac",
            },
            "kill_at": -1,
        },
        {
            "config": str(CONFIG),
            "overrides": {
                **budget,
                **RUNNERS,
                "ray.policy_lag": 1,
                "behaviors.3DBall.max_steps": LAGGED_STEPS,
                "checkpoint_settings.run_id": "ppo-lag-1",
            },
            "kill_at": -1,
        },
        {
            "config": str(CONFIG),
            "overrides": {**budget, **RUNNERS, "checkpoint_settings.run_id": "ppo"},
            "kill_at": KILL_AT,
        },
    ]
    output = tmp_path / "runs.json"
    finished = run_in_loopback_namespace(
        [sys.executable, str(HELPER), json.dumps(runs), str(output)],
        timeout_s=1500,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    sac, lagged, ppo = json.loads(output.read_text())
    print(f"sac {sac['rewards']} piece lags {sorted(set(sac['piece_lags']))}")
    print(f"ppo, policy lag 1: piece lags {sorted(set(lagged['piece_lags']))}")
    print(
        f"local ppo {local.rewards}\nrunner ppo {ppo['rewards']}\nreplacements {ppo['ray']['replacements']}"
    )

    # SAC: the runners' stream is asynchronous (some pieces were acted by an older policy) and it learns
    sac_rewards = {int(step): reward for step, reward in sac["rewards"].items()}
    assert max(sac["piece_lags"]) >= 1, sac["piece_lags"]
    assert sac_rewards[max(sac_rewards)] >= 0.8, sac_rewards  # optimum 0.93, random below 0.5

    # PPO, policy lag 1: the learner did not wait for fresh pieces, and trained on none older than 1 update
    assert set(lagged["piece_lags"]) <= {0.0, 1.0} and 1.0 in lagged["piece_lags"], lagged["piece_lags"]

    # PPO, policy lag 0: every trained piece was acted by the policy it trained
    assert ppo["piece_lags"] and set(ppo["piece_lags"]) == {0.0}
    # the runner on the removed worker node was replaced on the head, and the run says what it lost
    (replacement,) = ppo["ray"]["replacements"]
    assert replacement["lost_node"] == ppo["nodes"]["worker"], ppo["ray"]
    assert "trajectory piece" in replacement["lost"]
    assert {runner["node_id"] for runner in ppo["ray"]["runners"]} == {ppo["nodes"]["head"]}
    # runners on both nodes, then on one, reach the reward of the local run of the same budget
    runner_rewards = {int(step): reward for step, reward in ppo["rewards"].items()}
    assert max(runner_rewards) >= PPO_BUDGET["behaviors.3DBall.max_steps"] - 3000
    assert final_reward(local.rewards) >= 8, local.rewards
    assert final_reward(runner_rewards) >= max(8, final_reward(local.rewards) / 2), runner_rewards


def test_runners_act_with_each_published_version(loopback, tmp_path):  # noqa: F811
    """Runners fetch the whole policy once and then each new version's weights (and what the policy keeps
    besides them); every piece after a publication is acted by the new version."""
    output = tmp_path / "versions.json"
    finished = run_in_loopback_namespace(
        [sys.executable, str(VERSIONS_HELPER), str(CONFIG), str(output), str(tmp_path)],
        timeout_s=300,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    first, first_again, second, second_again, third, third_again = json.loads(output.read_text())
    for collected, version in (
        (first, 0),
        (first_again, 0),
        (second, 1),
        (second_again, 1),
        (third, 2),
        (third_again, 2),
    ):
        assert collected["versions"] == [version] and collected["runners"] == [0, 1], collected
    assert abs(first["mean"]) < 0.5 and first["spread"] > 0.3  # the initial policy: means near 0, std 1
    for collected in (second, second_again):  # weights: means 5, std e^-10
        assert collected["mean"] == pytest.approx(5.0, abs=1e-3) and collected["spread"] < 1e-3
    for collected in (third, third_again):  # weights (means -5, std 1) and deterministic: exactly the means
        assert collected["mean"] == pytest.approx(-5.0, abs=1e-6) and collected["spread"] < 1e-6
