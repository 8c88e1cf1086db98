"""ONNX export of trained policies in ML-Agents' model format (model API 3, opset 9)."""

from rldojo.export.exporter import ONNX_OPSET, export_beside_checkpoint, export_onnx
from rldojo.export.onnx_model import MODEL_API_VERSION, export_module, input_names, output_names
from rldojo.export.spec import behavior_spec_from_state, behavior_spec_state

__all__ = [
    "MODEL_API_VERSION",
    "ONNX_OPSET",
    "behavior_spec_from_state",
    "behavior_spec_state",
    "export_beside_checkpoint",
    "export_module",
    "export_onnx",
    "input_names",
    "output_names",
]
