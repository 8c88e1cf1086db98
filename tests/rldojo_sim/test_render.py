"""Top-down rgb_array pictures of every scene: one tile per area, and they follow the scene's state."""

from __future__ import annotations

import numpy as np
import pytest

import rldojo_sim
from rldojo_sim.drawing import TILE
from rldojo_sim.scenes import scene_class

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("scene", rldojo_sim.scene_names())
def test_every_scene_draws_its_areas_and_the_picture_follows_the_state(scene: str) -> None:
    env = rldojo_sim.make_env(scene, seed=3, num_areas=1)
    env.reset()
    first = env.render()
    assert first.shape == (TILE, TILE, 3) and first.dtype == np.uint8
    assert len(np.unique(first.reshape(-1, 3), axis=0)) >= 3  # background and at least two objects
    pictures = [first]
    for _ in range(6):
        for behavior in env.behavior_specs:  # the scripted policy moves every scene's agents
            env.set_actions(behavior, scene_class(scene).heuristic(behavior, env.get_steps(behavior)[0].obs))
        env.step()
        pictures.append(env.render())
    env.reset()
    pictures.append(env.render())
    assert any(not np.array_equal(first, picture) for picture in pictures[1:])


def test_areas_are_tiled_in_a_near_square_grid() -> None:
    env = rldojo_sim.make_env("3DBall", seed=0)  # 12 areas: 3 rows of 4
    env.reset()
    assert env.render().shape == (3 * TILE, 4 * TILE, 3)
