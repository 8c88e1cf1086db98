"""The rldojo-sim command line: list scenes, write builds, explain mistakes."""

from __future__ import annotations

import os

import pytest

from rldojo_sim import scene_names
from rldojo_sim.cli import main

pytestmark = pytest.mark.smoke


def test_list_names_every_scene_with_a_summary(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "3DBall", "Basic", "DungeonEscape", "GridWorld", "Hallway", "Pyramids", "StrikersVsGoalie", "Tennis"
    ]  # fmt: skip
    assert all(len(line.split("\t")[1]) > 10 for line in lines)


def test_build_all_writes_one_executable_launcher_per_scene(tmp_path, capsys):
    assert main(["build", "--all", "--out-root", str(tmp_path)]) == 0
    launchers = [tmp_path / scene / f"{scene}.x86_64" for scene in scene_names()]
    assert capsys.readouterr().out.splitlines() == [str(launcher) for launcher in launchers]
    assert all(os.access(launcher, os.X_OK) for launcher in launchers)


def test_unknown_scene_is_one_line_that_suggests_the_right_name(tmp_path, capsys):
    assert main(["build", "GridWrld", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error == (
        "rldojo-sim: error: Unknown sim scene 'GridWrld'. Did you mean 'GridWorld'? "
        "Available scenes: 3DBall, Basic, DungeonEscape, GridWorld, Hallway, Pyramids, StrikersVsGoalie, "
        "Tennis.\n"
    )


def test_build_needs_a_name_or_all(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["build"])
    assert exit_info.value.code == 2
    assert "give either a scene name or --all" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["record", "Basic", "--episode", "2", "--out", "{tmp}/basic.demo"],
            "rldojo-sim record: error: the following arguments are required: --episodes "
            "(see 'rldojo-sim record --help')",
        ),
        (
            ["record", "Basic", "--episodes", "2", "--ou", "{tmp}/basic.demo"],
            "rldojo-sim record: error: the following arguments are required: --out "
            "(see 'rldojo-sim record --help')",
        ),
        (
            ["build", "Basic", "--ou", "{tmp}/Basic"],
            "rldojo-sim: error: unrecognized arguments: --ou {tmp}/Basic (see 'rldojo-sim --help')",
        ),
    ],
)
def test_an_abbreviated_flag_is_a_one_line_error(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([arg.format(tmp=tmp_path) for arg in args])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == message.format(tmp=tmp_path) + "\n"
    assert not list(tmp_path.iterdir())
