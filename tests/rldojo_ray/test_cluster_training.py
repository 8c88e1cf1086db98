"""PPO on the launched 3DBall build with env runners spread over a two-node Ray cluster (started by the test,
on loopback only), against a local run of the same budget; the worker node is removed mid-run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.training import train_run
from rldojo_ray.loopback import loopback_unavailable_reason, run_in_loopback_namespace

CONFIG = Path(__file__).parents[2] / "configs" / "ppo.yaml"
HELPER = Path(__file__).with_name("two_node_training.py")
BUDGET = {
    "env_settings.seed": 1,
    "behaviors.3DBall.max_steps": 30000,
    "behaviors.3DBall.summary_freq": 3000,
    "behaviors.3DBall.hyperparameters.buffer_size": 3000,
}
KILL_AT = 9000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("ray_cluster"),
    pytest.mark.timeout(1800),
]  # one cluster at a time


class RewardRecorder(StatsWriter):
    def __init__(self) -> None:
        self.rewards: dict[int, float] = {}

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if "Environment/Cumulative Reward" in values:
            self.rewards[step] = values["Environment/Cumulative Reward"].mean


def final_reward(rewards: dict[int, float]) -> float:
    """Mean reward over the last two summaries (one summary is a handful of episodes)."""
    last = [rewards[step] for step in sorted(rewards, key=int)[-2:]]
    return sum(last) / len(last)


@pytest.fixture(scope="module")
def loopback() -> None:
    reason = loopback_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


def test_ppo_on_two_nodes_matches_a_local_run_and_survives_losing_a_node(loopback, tmp_path, sim_build):
    build = str(sim_build("3DBall"))
    budget = {**BUDGET, "env_settings.env_path": build, "checkpoint_settings.results_dir": str(tmp_path)}
    local = RewardRecorder()
    local_options = load_run_options(
        CONFIG, {**budget, "env_settings.num_envs": 2, "checkpoint_settings.run_id": "local"}
    )
    train_run(local_options, [local])

    output = tmp_path / "cluster.json"
    cluster_budget = {**budget, "ray.num_runners": 2, "checkpoint_settings.run_id": "cluster"}
    finished = run_in_loopback_namespace(
        [
            sys.executable,
            str(HELPER),
            json.dumps([{"config": str(CONFIG), "overrides": cluster_budget, "kill_at": KILL_AT}]),
            str(output),
        ],
        timeout_s=1500,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    (result,) = json.loads(output.read_text())
    record = result["ray"]
    runner_nodes = {runner["node_id"] for runner in record["runners"]}
    replacement = record["replacements"][0]
    # one runner was on the removed worker node; it was replaced on the head, the only node left
    assert replacement["lost_node"] == result["nodes"]["worker"], record
    assert runner_nodes == {result["nodes"]["head"]}, record
    assert len(record["replacements"]) == 1, record
    assert int(max(result["rewards"], key=int)) >= BUDGET["behaviors.3DBall.max_steps"] - 3000
    print(f"local {local.rewards}\ncluster {result['rewards']}")
    print(f"node removed at step {result['killed_at']}: {replacement}")
    cluster_rewards = {int(step): reward for step, reward in result["rewards"].items()}
    # while both nodes ran, the cluster run is the local run: same seeds, same trajectories, same updates
    before_the_loss = [step for step in sorted(local.rewards) if step < KILL_AT]
    assert before_the_loss and all(
        cluster_rewards[step] == pytest.approx(local.rewards[step], rel=1e-6) for step in before_the_loss
    ), (cluster_rewards, local.rewards)
    # after it, the runs part (the replacement runner starts new episodes), so compare learning, not values:
    # both learned, and the cluster run kept learning after losing a node (one summary is a handful of
    # episodes and 3DBall's reward climbs steeply here, so end values of two runs differ by 2-3x)
    assert final_reward(local.rewards) >= 8, local.rewards
    reward_at_the_loss = cluster_rewards[max(before_the_loss)]
    assert final_reward(cluster_rewards) >= max(8, 3 * reward_at_the_loss), cluster_rewards
