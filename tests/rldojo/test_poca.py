"""POCA parts: settings, the group critic (attention with absent members masked), returns of agents that
leave their group mid-episode, update stats and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import (
    ActionSpec,
)

from rldojo.checkpoint import rng_state
from rldojo.settings import NetworkSettings, ScheduleType, TrainerSettings
from rldojo.trainers.poca import GroupCritic, Groupmates, POCASettings, POCATrainer
from rldojo.trajectory import GroupSteps, Trajectory

from .specs import vector_spec

pytestmark = pytest.mark.smoke

SPEC = vector_spec(4, ActionSpec(1, (3,)))
GAMMA = 0.9


def test_defaults_are_ml_agents_poca_defaults():
    hp = POCASettings()
    assert (hp.batch_size, hp.buffer_size, hp.learning_rate, hp.num_epoch) == (1024, 10240, 3e-4, 3)
    assert (hp.beta, hp.epsilon, hp.lambd) == (5e-3, 0.2, 0.95)
    assert hp.learning_rate_schedule == hp.beta_schedule == hp.epsilon_schedule == ScheduleType.LINEAR
    assert "shared_critic" not in POCASettings.model_fields


def make_trainer(tmp_path, **hyperparameters) -> POCATrainer:
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": "poca",
            "hyperparameters": hyperparameters,
            "network_settings": {"hidden_units": 16, "num_layers": 1},
            "reward_signals": {"extrinsic": {"gamma": GAMMA}},
        },
        context={"trainer_settings": {"poca": POCASettings}},
    )
    trainer = POCATrainer("Group", 1, settings, True, False, 0, tmp_path / "Group")
    trainer.add_policy("Group?team=0", trainer.create_policy("Group?team=0", SPEC))
    return trainer


def one_step(agent: str, obs: float, mate_obs: list[float], next_mate_obs: list[float], all_done: bool):
    """A one-step trajectory ending the agent's episode (reward 0, group reward 0)."""
    row = np.full((1, 4), obs, np.float32)
    mates = len(mate_obs)
    return Trajectory(
        obs=[row],
        next_obs=[row],
        continuous_actions=np.zeros((1, 1), np.float32),
        discrete_actions=np.zeros((1, 1), np.int64),
        log_probs=np.full((1, 2), -1.0, np.float32),
        action_masks=np.ones((1, 3), np.float32),
        rewards=np.zeros(1, np.float32),
        done_reached=True,
        truncated=False,
        episode_return=0.0,
        episode_length=1,
        agent_id=agent,
        behavior_id="Group?team=0",
        group=GroupSteps(
            rewards=np.zeros(1, np.float32),
            mate_obs=[np.repeat(np.asarray(mate_obs, np.float32)[None, :, None], 4, axis=2)],
            mate_continuous_actions=np.zeros((1, mates, 1), np.float32),
            mate_discrete_actions=np.zeros((1, mates, 1), np.int64),
            mates_present=np.ones((1, mates), np.float32),
            next_mate_obs=[np.repeat(np.asarray(next_mate_obs, np.float32)[:, None], 4, axis=1)],
            all_done=all_done,
            episode_group_return=0.0,
        ),
    )


def test_an_agent_leaving_its_group_bootstraps_from_the_group_value(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.process_trajectory(one_step("leaver", 1.0, [2.0], next_mate_obs=[3.0], all_done=False))
    trainer.process_trajectory(one_step("last", 1.0, [2.0], next_mate_obs=[], all_done=True))
    returns = trainer.update_buffer.arrays()["returns_extrinsic"]
    critic = trainer.optimizer.critic
    with torch.no_grad():
        mates = Groupmates([torch.full((1, 1, 4), 3.0)], torch.zeros(0), torch.zeros(0), torch.ones(1, 1))
        group_value = critic([torch.ones(1, 4)], mates)["extrinsic"].item()
    assert returns[0] == pytest.approx(GAMMA * group_value, abs=1e-6) and abs(group_value) > 1e-4
    assert returns[1] == 0.0  # the whole group is done: nothing left to earn


def groupmates(obs: torch.Tensor, discrete: torch.Tensor, present: torch.Tensor) -> Groupmates:
    return Groupmates([obs], torch.zeros(*present.shape, 1), discrete, present)


def test_group_critic_masks_absent_members_and_ignores_their_order():
    torch.manual_seed(0)
    critic = GroupCritic(
        ["extrinsic"], SPEC.observation_specs, NetworkSettings(hidden_units=16), SPEC.action_spec
    )
    own = [torch.randn(2, 4)]
    mate_obs = torch.randn(2, 2, 4)
    actions = torch.tensor([[[0], [2]], [[1], [1]]])
    present = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    with torch.no_grad():
        value = critic(own, groupmates(mate_obs, actions, present))["extrinsic"]
        baseline = critic.baseline(own, groupmates(mate_obs, actions, present))["extrinsic"]
        # what an absent slot holds does not matter; neither does the order of the members
        garbage = mate_obs.clone()
        garbage[1, 1] = 100.0
        assert torch.allclose(
            critic(own, groupmates(garbage, actions, present))["extrinsic"], value, atol=1e-6
        )
        swapped = groupmates(mate_obs.flip(1), actions.flip(1), present.flip(1))
        assert torch.allclose(critic(own, swapped)["extrinsic"], value, atol=1e-6)
        assert torch.allclose(critic.baseline(own, swapped)["extrinsic"], baseline, atol=1e-6)
        # a group of one: no groupmates and all slots absent give the same value
        alone = critic(own)["extrinsic"]
        empty = critic(own, groupmates(mate_obs, actions, torch.zeros(2, 2)))["extrinsic"]
        assert torch.allclose(alone, empty, atol=1e-6)
        # the baseline sees the groupmates' actions, the value does not
        other_actions = critic.baseline(own, groupmates(mate_obs, 2 - actions, present))["extrinsic"]
        assert not torch.allclose(other_actions[0], baseline[0])


def test_update_reports_ml_agents_stats_and_checkpoints_restore_the_critic(tmp_path):
    trainer = make_trainer(tmp_path, batch_size=4, buffer_size=8)
    for index in range(10):  # groupmate counts differ between trajectories: slots are padded
        mates = [2.0] * (index % 3)
        trainer.trajectory_queue.append(one_step(str(index), 1.0, mates, next_mate_obs=[], all_done=True))
    trainer.advance()
    assert trainer.update_buffer.num_experiences == 0
    stats = trainer.stats_reporter.get_stats_summaries
    for key in ("Losses/Baseline Loss", "Losses/Value Loss", "Policy/Extrinsic Baseline Estimate"):
        assert stats(key).num > 0, key
    state = trainer.checkpoint_state()
    restored = make_trainer(tmp_path / "restored")
    restored.load_state({**state, "step": 10, "rng": None}, full=False)
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            trainer.optimizer.critic.state_dict().values(),
            restored.optimizer.critic.state_dict().values(),
            strict=True,
        )
    )


def test_adam_is_saved_under_mlagents_poca_name_and_older_checkpoints_still_resume(tmp_path):
    trainer = make_trainer(tmp_path, batch_size=4, buffer_size=8)
    for index in range(10):
        trainer.trajectory_queue.append(one_step(str(index), 1.0, [2.0], next_mate_obs=[], all_done=True))
    trainer.advance()  # the Adam has moments to restore
    state = {**trainer.checkpoint_state(), "step": 10, "rng": rng_state()}
    assert set(state["modules"]) == {"Policy", "Optimizer:adam", "Optimizer:critic"}  # as ML-Agents' POCA

    # checkpoints written before the rename kept the Adam under PPO's name
    modules = dict(state["modules"])
    older = {**state, "modules": modules | {"Optimizer:value_optimizer": modules.pop("Optimizer:adam")}}
    assert "Optimizer:adam" not in older["modules"]
    restored = make_trainer(tmp_path / "restored", batch_size=4, buffer_size=8)
    restored.load_state(older, full=True)
    saved_moments = state["modules"]["Optimizer:adam"]["state"]
    restored_moments = restored.optimizer.optimizer.state_dict()["state"]
    assert saved_moments and all(
        torch.equal(saved_moments[key]["exp_avg"], restored_moments[key]["exp_avg"]) for key in saved_moments
    )
