"""Random and scripted play: the returns each scene gives are printed and must make sense."""

from __future__ import annotations

import numpy as np
import pytest

import rldojo_sim
from rldojo_sim.play import episode_returns

# scene -> (decisions to play, lowest scripted mean return, highest random mean return)
EXPECTED = {
    "Basic": (200, 0.93, 0.5),
    "3DBall": (1001, 99.0, 5.0),
    "GridWorld": (200, 0.9, 0.0),
    "Tennis": (301, 0.5, 0.0),
    "Pyramids": (400, 1.0, 0.2),
    "Hallway": (200, 0.95, 0.0),
}


@pytest.mark.parametrize("scene", sorted(EXPECTED))
def test_scripted_play_beats_random_play(scene):
    steps, scripted_floor, random_ceiling = EXPECTED[scene]
    scripted = episode_returns(rldojo_sim.make_env(scene, seed=3), scene, "scripted", steps)
    random = episode_returns(rldojo_sim.make_env(scene, seed=3), scene, "random", steps)
    for behavior in scripted:
        scripted_mean, random_mean = np.mean(scripted[behavior]), np.mean(random[behavior])
        print(
            f"{behavior:18s} scripted {scripted_mean:8.3f} ({len(scripted[behavior])} episodes)"
            f"   random {random_mean:8.3f} ({len(random[behavior])} episodes)"
        )
        assert scripted_mean >= scripted_floor - 1e-6
        assert random_mean <= random_ceiling


def test_basic_scripted_policy_earns_0_93_through_a_launched_build(sim_build, launch):
    env = launch(sim_build("Basic"), seed=0)
    returns = episode_returns(env, "Basic", "scripted", 40)["Basic?team=0"]
    assert len(returns) == 5
    assert returns == pytest.approx([0.93] * 5, abs=1e-5)
