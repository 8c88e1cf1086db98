"""The stats_writers: section and the --wandb-* flags: writers are opt-in, names and options checked."""

from __future__ import annotations

import pytest

from rldojo.cli import build_parser
from rldojo.commands.learn import overrides_from
from rldojo.errors import ConfigError
from rldojo.plugins import stats_writer_factories
from rldojo.settings import load_run_options, run_options_from_dict
from rldojo.stats import ConsoleWriter, TensorboardWriter
from rldojo_stats.tables import CsvWriter, JsonlWriter
from rldojo_stats.wandb_writer import WandbWriter


def writers_for(options) -> list:
    return [writer for entry in stats_writer_factories().values() for writer in entry.factory(options)]


@pytest.mark.smoke
def test_installing_rldojo_stats_adds_no_writer_to_a_run_that_did_not_ask(tmp_path):
    options = run_options_from_dict({"checkpoint_settings": {"results_dir": str(tmp_path)}}, "c.yaml")
    assert {type(writer) for writer in writers_for(options)} <= {ConsoleWriter, TensorboardWriter}


@pytest.mark.smoke
def test_each_listed_writer_is_added_with_its_options(tmp_path):
    data = {
        "checkpoint_settings": {"results_dir": str(tmp_path)},
        "stats_writers": {
            "csv": None,
            "jsonl": {"episodes": False},
            "wandb": {"project": "p", "tags": ["a"]},
        },
    }
    options = run_options_from_dict(data, "c.yaml")
    assert options.stats_writers["jsonl"] == {"episodes": False}
    assert options.stats_writers["wandb"]["project"] == "p" and options.stats_writers["wandb"]["mode"] is None
    added = {type(writer): writer for writer in writers_for(options)}
    assert {CsvWriter, JsonlWriter, WandbWriter} <= set(added)
    assert added[JsonlWriter].episodes_path is None and added[CsvWriter].episodes_path is not None


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"wandbb": {}},
            "c.yaml: stats_writers.wandbb: unknown stats writer 'wandbb' (installed stats writers: ",
        ),
        ({"wandbb": {}}, "did you mean 'wandb'?"),
        ({"tensorboard": {}}, "csv, default, jsonl, "),
        ({"wandb": {"projct": "p"}}, "c.yaml: stats_writers.wandb.projct: Extra inputs are not permitted"),
        ({"wandb": {"mode": "sometimes"}}, "c.yaml: stats_writers.wandb.mode: Input should be 'online'"),
        (
            {"csv": {"episodes": "often"}},
            "c.yaml: stats_writers.csv.episodes: Input should be a valid boolean",
        ),
        ({"default": {"x": 1}}, "c.yaml: stats_writers.default: stats writer 'default' takes no options"),
    ],
)
def test_bad_stats_writer_sections_are_one_clear_error(section, message):
    with pytest.raises(ConfigError) as error:
        run_options_from_dict({"stats_writers": section}, "c.yaml")
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.smoke
def test_wandb_flags_set_the_wandb_section(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("stats_writers:\n  wandb:\n    group: g\n    project: from-file\n")
    args = build_parser().parse_args(
        ["learn", str(config), "--wandb-project", "p", "--wandb-entity", "team", "--wandb-mode", "offline",
         "--wandb-tags", "a", "b"]
    )  # fmt: skip
    options = load_run_options(config, overrides_from(args), args.flag_of_path)
    wandb = options.stats_writers["wandb"]
    assert (wandb["project"], wandb["entity"], wandb["mode"], wandb["tags"], wandb["group"]) == (
        "p", "team", "offline", ["a", "b"], "g"
    )  # fmt: skip


@pytest.mark.smoke
def test_a_bad_wandb_mode_flag_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["learn", "c.yaml", "--wandb-mode", "sometimes"])
    assert exit_info.value.code == 2
    assert "--wandb-mode: invalid choice: 'sometimes'" in capsys.readouterr().err
