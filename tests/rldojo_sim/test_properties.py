"""Properties of every scene in process, for any seed, area count, episode limit and random play."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import rldojo_sim
from rldojo_sim.play import random_actions

from .checks import EpisodeChecker


@settings(max_examples=25, deadline=None)
@given(
    scene=st.sampled_from(rldojo_sim.scene_names()),
    seed=st.integers(0, 2**31 - 1),
    num_areas=st.integers(1, 4),
    max_steps=st.integers(1, 12),
)
def test_episodes_are_consistent_and_observations_fit_their_specs(scene, seed, num_areas, max_steps):
    env = rldojo_sim.make_env(scene, seed=seed, num_areas=num_areas, max_steps=max_steps)
    env.reset()
    joins = scene == "DungeonEscape"  # three agents per area; a slain one is replaced mid-episode
    checkers = {
        name: EpisodeChecker(len(env.get_steps(name)[0]), max_steps, agents_join_late=joins)
        for name in env.behavior_specs
    }
    rng = np.random.default_rng(seed)
    for _ in range(30):
        for name, spec in env.behavior_specs.items():
            decisions, terminals = env.get_steps(name)
            checkers[name].check(decisions, terminals)
            for steps in (decisions, terminals):
                assert np.isfinite(steps.reward).all()
                for obs, obs_spec in zip(steps.obs, spec.observation_specs, strict=True):
                    assert obs.dtype == np.float32 and obs.shape == (len(steps), *obs_spec.shape)
                    assert np.isfinite(obs).all()
            if decisions.action_mask is not None:
                assert all((~mask).any(axis=1).all() for mask in decisions.action_mask), "an allowed action"
            env.set_actions(name, random_actions(spec, decisions, rng))
        env.step()
