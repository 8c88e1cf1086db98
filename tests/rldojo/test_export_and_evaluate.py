"""A trained Basic run: ONNX models beside its checkpoints, ``rldojo export`` after the fact, and
``rldojo evaluate`` through a launched build, from the ONNX model and from the checkpoint."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import yaml

from rldojo.checkpoint import load_checkpoint
from rldojo.cli import main

CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/basic_ppo.yaml (5000 steps, seed 1) with a checkpoint every 1000 steps, 2 kept."""
    folder = tmp_path_factory.mktemp("basic")
    config = yaml.safe_load((CONFIGS / "basic_ppo.yaml").read_text())
    config["behaviors"]["Basic"].update(checkpoint_interval=1000, keep_checkpoints=2)
    (folder / "basic.yaml").write_text(yaml.safe_dump(config))
    arguments = ["learn", str(folder / "basic.yaml"), "--run-id", "r1", "--seed", "1", "--device", "cpu"]
    assert main([*arguments, "--results-dir", str(folder / "results")]) == 0
    return folder / "results" / "r1"


def evaluate(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, list[float]]:
    """``rldojo evaluate`` in process; its table as quantity -> [episodes, mean, std, min, max]."""
    capsys.readouterr()
    assert main(["evaluate", *arguments]) == 0, capsys.readouterr().err
    rows = capsys.readouterr().out.splitlines()[1:]
    return {" ".join(row.split()[1:-5]): [float(v) for v in row.split()[-5:]] for row in rows}


def test_an_onnx_model_is_written_beside_each_kept_checkpoint_and_at_the_end(trained_run):
    behavior = trained_run / "Basic"
    checkpoints = sorted(behavior.glob("Basic-*.pt"))
    assert len(checkpoints) == 2  # keep_checkpoints removed the older ones, and their models with them
    assert sorted(behavior.glob("Basic-*.onnx")) == [path.with_suffix(".onnx") for path in checkpoints]
    final = load_checkpoint(behavior / "checkpoint.pt")
    final_model = behavior / f"Basic-{final['step']}.onnx"
    assert (trained_run / "Basic.onnx").read_bytes() == final_model.read_bytes()
    onnx.checker.check_model(onnx.load(trained_run / "Basic.onnx"))


def test_rldojo_export_writes_the_same_model_from_a_checkpoint(trained_run, capsys):
    step = load_checkpoint(trained_run / "Basic" / "checkpoint.pt")["step"]
    results = str(trained_run.parent)
    out = trained_run.parent / "exported"
    assert main(["export", "r1", "--step", str(step), "--out", str(out), "--results-dir", results]) == 0
    assert capsys.readouterr().out == f"Basic step {step}: {out / 'Basic.onnx'}\n"
    exported, saved = onnx.load(out / "Basic.onnx"), onnx.load(trained_run / "Basic.onnx")
    assert exported.graph == saved.graph

    assert main(["export", "r1", "--step", "7", "--results-dir", results]) == 2
    kept = sorted(int(path.stem.split("-")[1]) for path in (trained_run / "Basic").glob("Basic-*.pt"))
    assert capsys.readouterr().err == (
        f"rldojo: Basic has no checkpoint at step 7 (kept steps: {kept[0]}, {kept[1]}); "
        "choose one of them with --step\n"
    )
    assert main(["export", "r2", "--results-dir", results]) == 2
    assert "there is no run 'r2'" in capsys.readouterr().err


def test_evaluate_the_onnx_model_and_the_checkpoint_through_a_launched_build(trained_run, sim_build, capsys):
    build = str(sim_build("Basic"))
    common = ["--env", build, "--episodes", "20", "--deterministic", "--seed", "3"]
    from_onnx = evaluate(capsys, str(trained_run / "Basic.onnx"), *common)
    assert from_onnx["return"][0] == 20 and from_onnx["return"][1] >= 0.9, from_onnx
    from_checkpoint = evaluate(capsys, "r1", "--results-dir", str(trained_run.parent), *common)
    assert from_checkpoint == from_onnx


def test_evaluate_rejects_a_model_of_another_environment(trained_run, capsys):
    assert main(["evaluate", str(trained_run / "Basic.onnx"), "--env", "sim:3DBall"]) == 2
    assert capsys.readouterr().err == (
        f"rldojo: {trained_run / 'Basic.onnx'} takes inputs {{'obs_0': [20], 'action_masks': [3]}} "
        "but behavior 3DBall?team=0 of the environment gives {'obs_0': [8]}; "
        "export the model from a run of this environment\n"
    )


def test_evaluate_records_a_video_of_the_episodes(trained_run, tmp_path, capsys):
    import imageio_ffmpeg

    video = tmp_path / "basic.mp4"
    model = str(trained_run / "Basic.onnx")
    capsys.readouterr()
    assert main(["evaluate", model, "--env", "sim:Basic", "--episodes", "3", "--video", str(video)]) == 0
    *table, last = capsys.readouterr().out.splitlines()
    assert last.startswith(f"video: {video} (") and last.endswith(" frames of 64x64 pixels)")
    frames_written = int(last.split("(")[1].split()[0])
    lengths = next(row.split() for row in table if "episode length" in row)
    assert frames_written >= 1 + round(float(lengths[-4]) * 3)  # the first frame, then one per decision
    frames = imageio_ffmpeg.read_frames(str(video))
    assert next(frames)["size"] == (64, 64)
    assert sum(1 for _ in frames) == frames_written


def test_evaluate_video_needs_an_environment_that_draws_frames(trained_run, tmp_path, capsys):
    model = str(trained_run / "Basic.onnx")
    assert main(["evaluate", model, "--env", "gym:CartPole-v1", "--video", str(tmp_path / "v.mp4")]) == 2
    assert capsys.readouterr().err == (
        "rldojo: --video needs an environment that draws frames, such as sim:<Scene>; gym:CartPole-v1 "
        "draws none\n"
    )
    assert not (tmp_path / "v.mp4").exists()
