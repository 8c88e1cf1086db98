"""What the scenes built for ML-Agents features need: sparse, memory-bound, cooperative, asymmetric."""

from __future__ import annotations

import numpy as np
import pytest
from mlagents_envs.base_env import BaseEnv

import rldojo_sim
from rldojo_sim.errors import SceneOptionError
from rldojo_sim.play import episode_returns, random_actions
from rldojo_sim.provider import create_sim_env
from rldojo_sim.scenes import scene_class
from rldojo_sim.scenes.dungeon_escape import BEHAVIOR as DUNGEON
from rldojo_sim.scenes.hallway import BEHAVIOR as HALLWAY
from rldojo_sim.scenes.strikers_vs_goalie import GOALIE, STRIKER

pytestmark = pytest.mark.smoke


def test_pyramids_rewards_only_the_pyramid_which_random_play_rarely_finds():
    random = episode_returns(
        rldojo_sim.make_env("Pyramids", seed=1, num_areas=32), "Pyramids", "random", 1000
    )
    returns = random["Pyramids?team=0"]
    assert set(returns) <= {0.0, 1.0}  # no reward but the pyramid's
    success = np.mean(returns)
    print(f"Pyramids random play: {len(returns)} episodes, success rate {success:.3f}")
    assert len(returns) >= 250 and success < 0.08


def test_pyramids_hides_the_pyramid_until_the_switch_is_pressed():
    env = rldojo_sim.make_env("Pyramids", seed=0, num_areas=8)
    env.reset()
    size = 11
    policy = scene_class("Pyramids").scripted_policy()
    seen_hidden = seen_shown = False
    for _ in range(40):
        decisions, _ = env.get_steps("Pyramids?team=0")
        pressed = decisions.obs[0][:, 4 * size] > 0
        pyramid_shown = decisions.obs[0][:, 4 * size + 1 :].any(axis=1)
        assert np.array_equal(pressed, pyramid_shown)
        seen_hidden |= (~pressed).any()
        seen_shown |= pressed.any()
        env.set_actions("Pyramids?team=0", policy("Pyramids?team=0", decisions))
        env.step()
    assert seen_hidden and seen_shown


def test_pyramids_corners_placement_from_a_configs_env_args_in_process(caplog):
    """``env_settings.env_args`` reach the in-process scene as they reach a build: switch top-left, pyramid
    bottom-right in every episode, which the scripted policy reaches and random play almost never does."""
    args = ["--room-size", "7", "--placement", "corners", "--max-steps", "50", "--step-delay-ms", "5"]
    env = create_sim_env("Pyramids", seed=3, num_areas=32, additional_args=args)
    assert "not scene options of Pyramids: --step-delay-ms 5" in caplog.text
    env.reset()
    decisions, _ = env.get_steps("Pyramids?team=0")
    size = 7
    switch = decisions.obs[0][:, 2 * size : 4 * size]
    assert (switch.argmax(axis=1) == 0).all() and (switch[:, size:].argmax(axis=1) == 0).all()
    scripted = episode_returns(env, "Pyramids", "scripted", 100)["Pyramids?team=0"]
    assert len(scripted) >= 32 and min(scripted) == 1.0
    random = episode_returns(env, "Pyramids", "random", 500)["Pyramids?team=0"]
    assert len(random) >= 250 and np.mean(random) < 0.02
    with pytest.raises(SceneOptionError, match="placement must be one of random, corners"):
        create_sim_env("Pyramids", additional_args=["--placement", "middle"])


def test_pyramids_state_sensor_is_a_one_hot_of_the_cell_and_the_switch_from_env_args():
    """``--state-sensor true`` adds a second observation, one-hot over (switch pressed, row, column), which
    moves with the agent; the scripted policy still solves the room with it."""
    args = ["--room-size", "5", "--placement", "corners", "--state-sensor", "true"]
    env = create_sim_env("Pyramids", seed=2, num_areas=4, additional_args=args)
    env.reset()
    assert [spec.shape for spec in env.behavior_specs["Pyramids?team=0"].observation_specs] == [(31,), (50,)]
    policy = scene_class("Pyramids").scripted_policy()
    size, seen = 5, set()
    for _ in range(20):
        decisions, _ = env.get_steps("Pyramids?team=0")
        vector, states = decisions.obs
        assert (states.sum(axis=1) == 1).all()
        row, column, pressed = (
            vector[:, :size].argmax(1),
            vector[:, size : 2 * size].argmax(1),
            vector[:, 4 * size],
        )
        assert np.array_equal(states.argmax(axis=1), (pressed * size + row) * size + column)
        seen |= set(states.argmax(axis=1).tolist())
        env.set_actions("Pyramids?team=0", policy("Pyramids?team=0", decisions))
        env.step()
    assert {12, 25} <= seen and max(seen) > 25  # the middle; the switch pressed, and the way on from it
    assert scene_class("Pyramids").Options().state_sensor is False  # off unless asked for


def _hallway_correct_doors(policy_kind: str) -> list[bool]:
    env = rldojo_sim.make_env("Hallway", seed=5, num_areas=16)
    env.reset()
    scene = scene_class("Hallway")
    policy = scene.scripted_policy()
    correct = []
    for _ in range(300):
        decisions, terminals = env.get_steps(HALLWAY)
        correct += [reward > 0 for reward in terminals.reward.tolist()]
        cue = decisions.obs[0][:, -2:]
        first = decisions.obs[0][:, 0] > 0
        assert np.array_equal(cue.any(axis=1), first & cue.any(axis=1)), "the cue shows at the start only"
        actions = (
            policy(HALLWAY, decisions) if policy_kind == "memory" else scene.heuristic(HALLWAY, decisions.obs)
        )
        env.set_actions(HALLWAY, actions)
        env.step()
    return correct


def test_hallway_needs_memory_without_it_the_door_is_a_coin_toss():
    with_memory, without = _hallway_correct_doors("memory"), _hallway_correct_doors("memoryless")
    print(f"Hallway correct door: with memory {np.mean(with_memory):.3f}, without {np.mean(without):.3f}")
    assert len(with_memory) > 500 and all(with_memory)
    assert len(without) > 500 and 0.4 < np.mean(without) < 0.6


def test_dungeon_escape_group_over_grpc_members_leave_join_and_share_the_group_reward(sim_build, launch):
    env = launch(sim_build("DungeonEscape"), seed=3, additional_args=["--num-areas", "1"])
    env.reset()
    policy = scene_class("DungeonEscape").scripted_policy()
    decisions, _ = env.get_steps(DUNGEON)
    members = set(decisions.agent_id.tolist())
    assert np.asarray(decisions.group_id).tolist() == [1, 1, 1] and len(members) == 3
    left, joined = set(), set()
    for step in range(20):
        actions = policy(DUNGEON, decisions)
        if step < 5:  # the others wait, so the hunter dies before anyone can escape
            hunting = decisions.obs[0][:, 7] > 0  # dragon alive
            actions.discrete[hunting & (actions.discrete[:, 0] == 2), 0] = 0
        env.set_actions(DUNGEON, actions)
        env.step()
        decisions, terminals = env.get_steps(DUNGEON)
        assert set(np.asarray(decisions.group_id).tolist()) == {1}
        if len(terminals) == 1:  # the hunter slew the dragon and died: it leaves, the group goes on
            assert terminals.reward.tolist() == [0.0] and terminals.group_reward.tolist() == [0.0]
            assert not terminals.interrupted[0]
            left = set(terminals.agent_id.tolist())
            joined = set(decisions.agent_id.tolist()) - members
            assert len(joined) == 1 and set(decisions.agent_id.tolist()) == members - left | joined
        if len(terminals) == 3:  # the group escaped: every current member gets the group reward
            assert set(terminals.agent_id.tolist()) == members - left | joined
            assert terminals.group_reward.tolist() == [1.0, 1.0, 1.0]
            assert np.asarray(terminals.group_id).tolist() == [1, 1, 1]
            break
    else:
        pytest.fail("the group did not escape")
    assert left and joined


def _striker_goals(env: BaseEnv, striker: str, goalie: str) -> float:
    scene = scene_class("StrikersVsGoalie")
    rng = np.random.default_rng(0)
    env.reset()
    goals = []
    for _ in range(400):
        for behavior, kind in ((STRIKER, striker), (GOALIE, goalie)):
            decisions, terminals = env.get_steps(behavior)
            if behavior == STRIKER:
                goals += [reward > 0 for reward in terminals.reward.tolist()]
            spec = env.behavior_specs[behavior]
            scripted = scene.heuristic(behavior, decisions.obs)
            env.set_actions(
                behavior, scripted if kind == "scripted" else random_actions(spec, decisions, rng)
            )
        env.step()
    return float(np.mean(goals))


def test_strikers_vs_goalie_has_two_behaviors_with_different_specs_and_skill_matters():
    env = rldojo_sim.make_env("StrikersVsGoalie", seed=2)
    env.reset()
    striker, goalie = env.behavior_specs[STRIKER], env.behavior_specs[GOALIE]
    assert striker.observation_specs[0].shape == (4,) and striker.action_spec.discrete_branches == (3, 2)
    assert goalie.observation_specs[0].shape == (5,) and goalie.action_spec.continuous_size == 1
    scripted_vs_random = _striker_goals(env, "scripted", "random")
    random_vs_scripted = _striker_goals(env, "random", "scripted")
    print(f"goal rate: scripted striker vs random goalie {scripted_vs_random:.2f}, "
          f"random striker vs scripted goalie {random_vs_scripted:.2f}")  # fmt: skip
    assert scripted_vs_random > 0.8 and random_vs_scripted < 0.5
