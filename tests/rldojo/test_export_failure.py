"""A failing ONNX export is logged with its cause and neither stops training nor harms the checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import yaml

from rldojo.checkpoint import load_checkpoint
from rldojo.cli import main

CONFIGS = Path(__file__).parents[2] / "configs"


def test_training_finishes_with_whole_checkpoints_when_the_exporter_fails(tmp_path, monkeypatch, caplog):
    def broken_export(*args: object, **kwargs: object) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(torch.onnx, "export", broken_export)
    config = yaml.safe_load((CONFIGS / "basic_ppo.yaml").read_text())
    config["behaviors"]["Basic"].update(max_steps=600, checkpoint_interval=300)
    (tmp_path / "basic.yaml").write_text(yaml.safe_dump(config))
    arguments = ["learn", str(tmp_path / "basic.yaml"), "--run-id", "r1", "--results-dir", str(tmp_path)]
    with caplog.at_level(logging.WARNING, logger="rldojo.export"):
        assert main(arguments) == 0
    behavior = tmp_path / "r1" / "Basic"
    final = load_checkpoint(behavior / "checkpoint.pt")
    assert final["step"] >= 600
    assert len(list(behavior.glob("Basic-*.pt"))) >= 2
    assert not list(tmp_path.rglob("*.onnx"))
    failures = [r.getMessage() for r in caplog.records if r.name.startswith("rldojo.export")]
    assert failures and all("RuntimeError: exporter exploded" in message for message in failures)
    assert f"ONNX export for Basic-{final['step']}.pt failed" in failures[-1]
