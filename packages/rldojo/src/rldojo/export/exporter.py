"""Write a policy network as an ONNX model that Unity's inference engine runs like an ML-Agents one.

Opset 9: the opset ML-Agents writes and every Unity inference engine (Barracuda, Sentis) accepts.
torch's TorchScript exporter (``dynamo=False``) still writes it; the dynamo exporter only targets
recent opsets. Every input and action output has a dynamic batch axis.
"""

from __future__ import annotations

import copy
import logging
import tempfile
import warnings
from pathlib import Path

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.checkpoint import atomic_write
from rldojo.export.onnx_model import export_module, input_names, memory_size_of, output_names
from rldojo.random_streams import training_streams_untouched
from rldojo.run_directory import model_file

__all__ = ["ONNX_OPSET", "export_beside_checkpoint", "export_onnx"]

ONNX_OPSET = 9
BATCH_OUTPUTS = (
    "continuous_actions",
    "deterministic_continuous_actions",
    "discrete_actions",
    "deterministic_discrete_actions",
    "recurrent_out",
)

logger = logging.getLogger(__name__)


def _dummy_inputs(spec: BehaviorSpec, memory_size: int) -> tuple[torch.Tensor, ...]:
    inputs = [torch.zeros(1, *obs.shape) for obs in spec.observation_specs]
    branches = spec.action_spec.discrete_branches
    if branches:
        inputs.append(torch.ones(1, sum(branches)))
    if memory_size:
        inputs.append(torch.zeros(1, 1, memory_size))
    return tuple(inputs)


def export_onnx(network: nn.Module, spec: BehaviorSpec, path: Path) -> Path:
    """Write ``network`` (a policy's ``export_network()``) to ``path`` atomically; it stays untouched, and so
    does torch's random state (a run's checkpoints do not change what it learns)."""
    module = export_module(copy.deepcopy(network).cpu().eval(), spec)
    memory_size = memory_size_of(network)
    inputs, outputs = input_names(spec, memory_size), output_names(spec, memory_size)
    dynamic_axes = {name: {0: "batch"} for name in inputs + [o for o in outputs if o in BATCH_OUTPUTS]}
    with (
        tempfile.TemporaryDirectory() as scratch,
        warnings.catch_warnings(),
        torch.no_grad(),
        training_streams_untouched(),  # tracing samples actions
    ):
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            module,
            _dummy_inputs(spec, memory_size),
            Path(scratch) / "model.onnx",
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic_axes,
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
        exported = (Path(scratch) / "model.onnx").read_bytes()
    atomic_write(path, lambda file: file.write(exported))
    return path


def export_beside_checkpoint(
    network: nn.Module, spec: BehaviorSpec, checkpoint: Path, final_model: Path | None
) -> None:
    """Best effort: ``<checkpoint>.onnx`` beside the checkpoint and, if given, a copy at ``final_model``.

    A failure is logged with its cause and never raised: the checkpoint is already written and
    training goes on.
    """
    try:
        model = export_onnx(network, spec, model_file(checkpoint))
        if final_model is not None:
            atomic_write(final_model, lambda file: file.write(model.read_bytes()))
    except Exception as error:  # export must never stop training
        logger.warning(
            "ONNX export for %s failed (%s: %s); the checkpoint is kept, export it later with "
            "'rldojo export'",
            checkpoint.name,
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
        )
