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
import weakref
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Exported:
    """The model exported from a network, with the spec and the tensors (parameters, buffers) it had."""

    spec: BehaviorSpec
    tensors: dict[str, torch.Tensor]
    model: bytes

    def still_fits(self, spec: BehaviorSpec, tensors: dict[str, torch.Tensor]) -> bool:
        return (
            spec == self.spec
            and tensors.keys() == self.tensors.keys()
            and all(torch.equal(tensor, self.tensors[name]) for name, tensor in tensors.items())
        )


_last_exports: weakref.WeakKeyDictionary[nn.Module, _Exported] = weakref.WeakKeyDictionary()
"""Each network's last export: a run's checkpoint and final save often export the same weights (no update
between them), and exporting is the costliest part of saving."""


def _serialised_model(network: nn.Module, spec: BehaviorSpec) -> bytes:
    """``network`` (a policy's ``export_network()``) as a serialised ONNX model, the last one again when
    ``network`` is unchanged since; it stays untouched, and so does torch's random state (a run's
    checkpoints do not change what it learns)."""
    tensors = network.state_dict(keep_vars=False)
    last = _last_exports.get(network)
    if last is not None and last.still_fits(spec, tensors):
        return last.model
    model = _traced_model(network, spec)
    _last_exports[network] = _Exported(spec, {name: t.detach().clone() for name, t in tensors.items()}, model)
    return model


def _traced_model(network: nn.Module, spec: BehaviorSpec) -> bytes:
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
        return (Path(scratch) / "model.onnx").read_bytes()


def export_onnx(network: nn.Module, spec: BehaviorSpec, path: Path) -> Path:
    """Write ``network`` (a policy's ``export_network()``) to ``path`` atomically as an ONNX model."""
    exported = _serialised_model(network, spec)
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
        exported = _serialised_model(network, spec)
        for path in (model_file(checkpoint), final_model):
            if path is not None:
                atomic_write(path, lambda file: file.write(exported))
    except Exception as error:  # export must never stop training
        logger.warning(
            "ONNX export for %s failed (%s: %s); the checkpoint is kept, export it later with "
            "'rldojo export'",
            checkpoint.name,
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
        )
