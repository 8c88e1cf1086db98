"""Env worker processes: one env each, seeded by worker index, side channels served, failures restarted."""

from __future__ import annotations

import importlib
import time

import numpy as np
import pytest
from mlagents_envs.base_env import ActionTuple, DecisionSteps

from rldojo.envs import EnvLauncher, EnvWorkerFailed, SubprocessEnvManager
from rldojo.envs.batching import concatenate_decision_steps
from rldojo.envs.subprocess_manager import ANSWER_GRACE_S, worker_modules
from rldojo.envs.supervision import RestartBudget
from rldojo.errors import ConfigError
from rldojo.settings import RunOptions

BALL = "3DBall?team=0"


def run_options(env_path: str, **env_settings) -> RunOptions:
    return RunOptions.model_validate(
        {
            "env_settings": {"env_path": env_path, "seed": 3, **env_settings},
            "engine_settings": {"time_scale": 7.0},
            "environment_parameters": {"scale": 4.0},
        }
    )


def manager_for(options: RunOptions, tmp_path) -> SubprocessEnvManager:
    launcher = EnvLauncher.from_options(options, options.env_settings.seed, tmp_path)
    return SubprocessEnvManager(launcher, options.env_settings)


def zero_actions(worker_ids) -> dict[int, dict[str, ActionTuple]]:
    return {w: {BALL: ActionTuple(continuous=np.zeros((12, 2), np.float32))} for w in worker_ids}


def test_workers_are_seeded_by_index_and_receive_environment_parameters(tmp_path):
    manager = manager_for(run_options("sim:3DBall", num_envs=2), tmp_path)
    try:
        first, second = manager.reset()
        assert (first.worker_id, second.worker_id) == (0, 1)
        obs = [step.steps[BALL][0].obs[0] for step in (first, second)]
        assert not np.allclose(obs[0], obs[1])  # seeds 3 and 4
        assert np.all(obs[0][:, 3] == 2.0) and np.all(obs[1][:, 3] == 2.0)  # half the ball scale 4.0
        dropped = []
        for _ in range(150):
            for step in manager.step(zero_actions([0, 1])):
                assert not step.restarted
                dropped += step.env_stats.get("3DBall/Ball Dropped", [])
        assert dropped  # the scene's StatsSideChannel values come back through the workers
        assert set(manager.behavior_specs) == {BALL}  # sent with the first report only, and kept
    finally:
        manager.close()


def test_engine_settings_reach_every_launched_worker(tmp_path, sim_build):
    manager = manager_for(run_options(str(sim_build("3DBall")), num_envs=2), tmp_path)
    try:
        manager.reset()
    finally:
        manager.close()
    for worker_id in (0, 1):
        log = (tmp_path / f"Player-{worker_id}.log").read_text()
        assert "time_scale=7.0" in log and "Environment parameter scale = 4.0" in log


def test_a_nan_observation_restarts_that_worker_only(tmp_path, sim_build):
    options = run_options(str(sim_build("3DBall")), num_envs=2, env_args=["--nan-at", "3"])
    manager = manager_for(options, tmp_path)
    try:
        manager.reset()
        restarted = []
        for _ in range(4):
            restarted += [step.worker_id for step in manager.step(zero_actions([0, 1])) if step.restarted]
        assert restarted == [0, 1]  # both players inject the NaN at their step 3; each is replaced
    finally:
        manager.close()


def test_a_worker_failing_past_its_budget_names_itself_and_its_player_log(tmp_path, sim_build):
    options = run_options(str(sim_build("3DBall")), num_envs=1, env_args=["--crash-after", "2"])
    manager = manager_for(options, tmp_path)
    try:
        manager.reset()
        with pytest.raises(EnvWorkerFailed) as failure:
            for _ in range(10):
                manager.step(zero_actions([0]))
    finally:
        manager.close()
    message = str(failure.value)
    assert message.startswith("env worker 0 failed (UnityEnvironmentException: Environment shut down with")
    assert "restarts_rate_limit_n" in message and "Fault injection: crashing with exit code 3" in message
    assert "\n" not in message


@pytest.mark.smoke
def test_restart_budget_counts_lifetime_and_rate_limit():
    settings = RunOptions().env_settings.model_copy(
        update={"max_lifetime_restarts": 3, "restarts_rate_limit_n": 2, "restarts_rate_limit_period_s": 10}
    )
    budget = RestartBudget(settings)
    assert budget.spend(0, now=0.0) is None and budget.spend(0, now=1.0) is None
    assert "restarts_rate_limit_n" in budget.spend(0, now=2.0)
    assert budget.spend(1, now=2.0) is None  # every worker has its own budget
    assert budget.spend(0, now=12.0) is None  # the first two restarts left the window
    assert "max_lifetime_restarts" in budget.spend(0, now=100.0)


@pytest.mark.smoke
def test_unlimited_budget_never_refuses():
    settings = RunOptions().env_settings.model_copy(
        update={"max_lifetime_restarts": -1, "restarts_rate_limit_n": -1}
    )
    budget = RestartBudget(settings)
    assert all(budget.spend(0, now=0.0) is None for _ in range(50))


@pytest.mark.smoke
def test_decision_steps_of_workers_concatenate_in_order():
    def steps(first_agent: int, count: int, masked: bool) -> DecisionSteps:
        obs = [np.full((count, 2), first_agent, np.float32)]
        mask = [np.ones((count, 3), bool)] if masked else None
        ids = np.arange(first_agent, first_agent + count)
        return DecisionSteps(
            obs, np.zeros(count, np.float32), ids, mask, np.zeros(count, np.int32), np.zeros(count)
        )

    merged = concatenate_decision_steps([steps(0, 2, masked=False), steps(10, 3, masked=True)])
    assert merged.agent_id.tolist() == [0, 1, 10, 11, 12]
    assert merged.obs[0][:, 0].tolist() == [0, 0, 10, 10, 10]
    assert merged.action_mask[0].sum(axis=1).tolist() == [0, 0, 3, 3, 3]  # no mask sent: all allowed


@pytest.mark.timing
def test_a_hung_player_times_out_after_timeout_wait_and_is_restarted(tmp_path, sim_build):
    options = run_options(str(sim_build("3DBall")), timeout_wait=2, env_args=["--hang-after", "2"])
    manager = manager_for(options, tmp_path)
    try:
        manager.reset()
        manager.step(zero_actions([0]))
        manager.step(zero_actions([0]))
        started = time.monotonic()
        (step,) = manager.step(zero_actions([0]))  # the player hangs: replaced after timeout_wait
        assert step.restarted and 2.0 <= time.monotonic() - started < 2.0 + ANSWER_GRACE_S
        with pytest.raises(EnvWorkerFailed, match=r"^env worker 0 failed \(UnityTimeOutException: "):
            for _ in range(3):  # the new player hangs too; one restart per minute is the default budget
                manager.step(zero_actions([0]))
    finally:
        manager.close()


def test_a_configuration_error_in_a_worker_is_raised_as_is_without_restarts(tmp_path):
    manager = manager_for(run_options(str(tmp_path / "Missing.x86_64"), num_envs=2), tmp_path)
    try:
        with pytest.raises(ConfigError, match=r"^environment build not found: "):
            manager.reset()
        assert manager.budget.spend(0) is None  # no restart was spent on it
    finally:
        manager.close()


@pytest.mark.parametrize(
    ("spec", "launches_a_build"),
    [("unity_builds/3DBall/3DBall.x86_64", True), ("sim:3DBall", False), ("gym:CartPole-v1", False)],
)
def test_the_forkserver_preloads_mlagents_grpc_side_only_for_unity_builds(spec, launches_a_build):
    """The trainer no longer imports it; the forkserver imports it once for all workers (and restarts)."""
    modules = worker_modules(spec)
    assert modules[0] == "rldojo.envs.worker"
    assert ("rldojo.envs.unity_build" in modules) == launches_a_build
    for module in modules:
        importlib.import_module(module)
