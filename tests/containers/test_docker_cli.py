"""``rldojo docker``'s answers when it cannot go on: no engine, or a setting the image does not take."""

from __future__ import annotations

from pathlib import Path

import pytest

from rldojo.cli import main


@pytest.mark.smoke
@pytest.mark.parametrize("action", [["build"], ["train", "ALGO=dqn"]])
def test_unreachable_engine_says_how_to_start_one(
    action: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    socket = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")

    assert main(["docker", *action]) == 1

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"cannot reach the Docker engine at unix://{socket}" in error
    assert "start it (`sudo systemctl start docker`) or point DOCKER_HOST at a running one" in error


@pytest.mark.smoke
def test_train_refuses_what_make_train_does_not_take(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docker", "train", "ALGO=dqn", "SEED=3"]) == 2
    assert (
        "'SEED=3' is not a training setting: give KEY=VALUE with KEY one of ALGO" in capsys.readouterr().err
    )
