"""Spaces of ML-Agents behaviors in Gymnasium terms, and the conversions both ways."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from mlagents_envs.base_env import (
    ActionSpec,
    DecisionSteps,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
)

from rldojo_gym.spaces import ActionLayout, ObservationLayout, VisualFormat, allowed_actions

pytestmark = pytest.mark.smoke

VECTOR = ObservationSpec((8,), (DimensionProperty.NONE,), ObservationType.DEFAULT, "VectorSensor")
CAMERA = ObservationSpec(
    (3, 4, 5),
    (
        DimensionProperty.NONE,
        DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
        DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
    ),
    ObservationType.DEFAULT,
    "CameraSensor",
)
GOAL = ObservationSpec((2,), (DimensionProperty.NONE,), ObservationType.GOAL_SIGNAL, "GoalSensor")


def test_one_observation_is_a_box() -> None:
    layout = ObservationLayout([VECTOR])
    assert layout.space == spaces.Box(-np.inf, np.inf, (8,), np.float32)
    batch = layout.convert([np.ones((3, 8), dtype=np.float64)])
    assert batch.shape == (3, 8) and batch.dtype == np.float32


def test_several_observations_are_a_dict_keyed_by_sensor_name() -> None:
    layout = ObservationLayout([CAMERA, GOAL, VECTOR])
    assert isinstance(layout.space, spaces.Dict)
    assert set(layout.space.spaces) == {"CameraSensor", "GoalSensor", "VectorSensor"}
    assert layout.space["CameraSensor"] == spaces.Box(0.0, 1.0, (3, 4, 5), np.float32)


def test_repeated_and_unnamed_sensors_get_distinct_keys() -> None:
    unnamed = VECTOR._replace(name="")
    assert ObservationLayout([VECTOR, VECTOR, unnamed]).keys == ["VectorSensor", "VectorSensor_1", "obs_2"]


def test_visual_observations_as_hwc_uint8_images() -> None:
    layout = ObservationLayout([CAMERA], VisualFormat.HWC_UINT8)
    assert layout.space == spaces.Box(0, 255, (4, 5, 3), np.uint8)
    chw = np.zeros((1, 3, 4, 5), dtype=np.float32)
    chw[0, 2, 1, 3] = 1.0  # channel 2 at row 1, column 3
    chw[0, 0, 0, 0] = 0.5
    image = layout.convert([chw])
    assert image.dtype == np.uint8 and image.shape == (1, 4, 5, 3)
    assert image[0, 1, 3, 2] == 255 and image[0, 0, 0, 0] == 128 and image.sum() == 255 + 128
    assert image[0] in layout.space


@pytest.mark.parametrize(
    ("action_spec", "space"),
    [
        (ActionSpec(2, ()), spaces.Box(-1.0, 1.0, (2,), np.float32)),
        (ActionSpec(0, (3,)), spaces.Discrete(3)),
        (ActionSpec(0, (3, 2)), spaces.MultiDiscrete([3, 2])),
        (
            ActionSpec(1, (4,)),
            spaces.Dict(
                {"continuous": spaces.Box(-1.0, 1.0, (1,), np.float32), "discrete": spaces.Discrete(4)}
            ),
        ),
    ],
)
def test_action_spaces(action_spec: ActionSpec, space: spaces.Space) -> None:
    layout = ActionLayout(action_spec)
    assert layout.space == space
    space.seed(0)
    samples = [space.sample() for _ in range(5)]
    batch = (
        {key: np.stack([sample[key] for sample in samples]) for key in samples[0]}
        if isinstance(space, spaces.Dict)
        else np.stack(samples)
    )
    action = layout.to_action_tuple(batch, num_agents=5)
    assert action.continuous.shape == (5, action_spec.continuous_size)
    assert action.discrete.shape == (5, len(action_spec.discrete_branches))
    first = samples[0]
    if isinstance(space, spaces.Dict):
        assert action.discrete[0, 0] == first["discrete"]
        np.testing.assert_allclose(action.continuous[0], first["continuous"])
    elif action_spec.continuous_size:
        np.testing.assert_allclose(action.continuous[0], first)
    else:
        np.testing.assert_array_equal(action.discrete[0], np.atleast_1d(first))


def test_wrong_action_shape_says_what_was_expected() -> None:
    with pytest.raises(ValueError, match=r"expected 2 action\(s\) of 3 value\(s\) each"):
        ActionLayout(ActionSpec(3, ())).to_action_tuple(np.zeros(3), num_agents=2)


def test_hybrid_actions_need_both_keys() -> None:
    with pytest.raises(ValueError, match="pass a dict with keys 'continuous' and 'discrete'"):
        ActionLayout(ActionSpec(1, (2,))).to_action_tuple(np.zeros(1), num_agents=1)


def test_masks_are_inverted_to_allowed_actions() -> None:
    disabled = [
        np.array([[True, False, False], [False, False, False]]),
        np.array([[False, True], [False, False]]),
    ]
    steps = DecisionSteps(
        [np.zeros((2, 8), np.float32)],
        np.zeros(2, np.float32),
        np.arange(2, dtype=np.int32),
        disabled,
        np.zeros(2, np.int32),
        np.zeros(2, np.float32),
    )
    allowed = allowed_actions(steps, ActionSpec(0, (3, 2)))
    np.testing.assert_array_equal(allowed, [[False, True, True, True, False], [True] * 5])
