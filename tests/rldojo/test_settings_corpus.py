"""Every ML-Agents example config either loads or names the one feature rldojo does not build yet.

When a feature lands, its files move from NOT_SUPPORTED_YET to LOADS: this table is the visible list.
The curricula among them run their lessons.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rldojo.curriculum import BehaviorProgress, EnvironmentParameterManager
from rldojo.errors import ConfigError
from rldojo.settings import load_run_options

pytestmark = pytest.mark.smoke

# ML-Agents' configs, demos and models, in ../shared beside the checkout
REFERENCE_DATA = Path(__file__).resolve().parents[3] / "shared" / "reference-data" / "mlagents"
CORPUS = REFERENCE_DATA / "configs"

PPO_LOADS = """3DBall 3DBallHard 3DBall_randomize Basic Crawler FoodCollector GridWorld Hallway Match3
PushBlock Pyramids PyramidsRND Sorter_curriculum Visual3DBall VisualFoodCollector Walker WallJump
WallJump_curriculum Worm"""
POCA_LOADS = "DungeonEscape PushBlockCollab SoccerTwos StrikersVsGoalie"
SAC_LOADS = """3DBall 3DBallHard Basic Crawler FoodCollector GridWorld Hallway PushBlock Pyramids Walker
WallJump Worm"""
IMITATION_LOADS = "Crawler Hallway PushBlock Pyramids"
LOADS = (
    {f"ppo/{name}.yaml": "ppo" for name in PPO_LOADS.split()}
    | {
        "plugin/dqn_basic.yaml": "dqn",
        "plugin/a2c_3DBall.yaml": "a2c",
    }
    | {f"sac/{name}.yaml": "sac" for name in SAC_LOADS.split()}
    | {f"poca/{name}.yaml": "poca" for name in POCA_LOADS.split()}
    | {f"imitation/{name}.yaml": "ppo" for name in IMITATION_LOADS.split()}
)
"""file: the trainer_type of its behaviors"""

NOT_SUPPORTED_YET: dict[str, tuple[str, str]] = {}
"""file: (feature, YAML path of the first place it is used); empty since every corpus config loads"""

CORPUS_FILES = sorted(str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*.yaml"))


def test_every_corpus_file_is_pinned():
    assert len(CORPUS_FILES) == 41
    assert set(CORPUS_FILES) == set(LOADS) | set(NOT_SUPPORTED_YET)
    assert not set(LOADS) & set(NOT_SUPPORTED_YET)


@pytest.mark.parametrize("name", sorted(LOADS))
def test_config_loads(name):
    options = load_run_options(CORPUS / name)
    assert options.behaviors
    for settings in options.behaviors.values():
        assert settings.trainer_type == LOADS[name]


@pytest.mark.parametrize("name", sorted(NOT_SUPPORTED_YET))
def test_config_names_the_missing_feature(name):
    feature, yaml_path = NOT_SUPPORTED_YET[name]
    expected = f"not supported yet: {feature} (in {CORPUS / name}: {yaml_path})"
    with pytest.raises(ConfigError, match=f"^{re.escape(expected)}$"):
        load_run_options(CORPUS / name)


CURRICULA = {  # file: lesson count per parameter
    "ppo/WallJump_curriculum.yaml": {"big_wall_height": 4, "small_wall_height": 4},
    "ppo/Sorter_curriculum.yaml": {"num_tiles": 10},
}


@pytest.mark.parametrize("name", sorted(CURRICULA))
def test_curricula_start_at_lesson_zero_and_reach_their_last_lesson_on_progress(name):
    options = load_run_options(CORPUS / name)
    manager = EnvironmentParameterManager(options.environment_parameters, run_seed=0)
    assert manager.lesson_numbers() == dict.fromkeys(CURRICULA[name], 0)
    finished = {behavior: BehaviorProgress(1.0, [0.0] * 100) for behavior in options.behaviors}
    while manager.update_lessons(finished).changed:
        pass
    assert manager.lesson_numbers() == {param: lessons - 1 for param, lessons in CURRICULA[name].items()}
