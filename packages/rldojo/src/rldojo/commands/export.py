"""``rldojo export RUN_ID [--step N] [--out PATH]``: ONNX models from a run's checkpoints, after the fact."""

from __future__ import annotations

import argparse
from pathlib import Path

from rldojo.commands.checkpoint_arguments import add_checkpoint_arguments
from rldojo.errors import ConfigError
from rldojo.run_directory import final_model_file, model_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write ONNX models (Unity's format) from a run's checkpoints",
        description="Export every behavior of a run to ONNX, as ML-Agents models that Unity runs. "
        "Default: the newest checkpoint, to <run>/<Behavior>.onnx; with --step N, to "
        "<run>/<Behavior>/<Behavior>-N.onnx.",
    )
    parser.add_argument("run_id", metavar="RUN_ID", help="the run id given to 'rldojo learn'")
    parser.add_argument(
        "--out", type=Path, help="output file (*.onnx, one behavior) or folder (<Behavior>.onnx each)"
    )
    add_checkpoint_arguments(parser)
    parser.set_defaults(command_function=run)


def run(args: argparse.Namespace) -> int:
    from rldojo.export import export_onnx
    from rldojo.export.saved_policy import find_run, load_saved_policies

    run_folder = find_run(args.run_id, args.results_dir)
    saved = load_saved_policies(run_folder, args.step)
    out: Path | None = args.out
    if out is not None and out.suffix == ".onnx" and len(saved) > 1:
        names = ", ".join(s.behavior for s in saved)
        raise ConfigError(f"--out {out} is one file but the run has behaviors {names}; give a folder")
    for policy in saved:
        if out is None:
            final_model = final_model_file(run_folder, policy.behavior)
            target = model_file(policy.checkpoint) if args.step else final_model
        else:
            target = out if out.suffix == ".onnx" else out / f"{policy.behavior}.onnx"
        export_onnx(policy.policy.export_network(), policy.policy.behavior_spec, target)
        print(f"{policy.behavior} step {policy.step}: {target}")
    return 0
