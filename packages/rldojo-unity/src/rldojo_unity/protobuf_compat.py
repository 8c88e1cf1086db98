"""Run mlagents-envs' generated protobuf modules on the current protobuf (upb) backend.

mlagents-envs 1.1.0 ships ``communicator_objects/*_pb2.py`` written by an old protoc. They build
descriptors directly, which protobuf >= 4 forbids on its fast backends, and protobuf 6+ rejects
outright. Each of those files still embeds its serialized ``FileDescriptorProto``. The finder
installed here intercepts imports of those modules, reads the embedded bytes without executing the
file, adds them to the default descriptor pool and builds the message classes and enum constants
with ``message_factory``, so ``mlagents_envs`` works unchanged on upb (about 180x faster than the
pure-Python backend on a 3DBall-sized message).
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["GENERATED_PACKAGE", "install", "is_installed", "serialized_descriptor"]

GENERATED_PACKAGE = "mlagents_envs.communicator_objects"


def serialized_descriptor(source: str) -> bytes:
    """Return the serialized ``FileDescriptorProto`` that a generated ``*_pb2.py`` source embeds.

    Old protoc writes ``FileDescriptor(..., serialized_pb=_b('...'))``; newer protoc writes
    ``AddSerializedFile(b'...')``. mlagents-envs 1.1.0 ships both styles.
    """
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        candidates = [kw.value for kw in node.keywords if kw.arg == "serialized_pb"]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "AddSerializedFile":
            candidates.extend(node.args[:1])
        for value in candidates:
            # Old protoc wraps the literal as _b('...'), which latin-1 encodes it on Python 3.
            if isinstance(value, ast.Call) and len(value.args) == 1:
                value = value.args[0]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value.encode("latin1")
            if isinstance(value, ast.Constant) and isinstance(value.value, bytes):
                return value.value
    raise ImportError("no serialized file descriptor found in generated protobuf module")


def _module_name_of_proto(proto_file: str) -> str:
    return proto_file.removesuffix(".proto").replace("/", ".") + "_pb2"


class _DescriptorLoader(importlib.abc.Loader):
    """Builds a generated module's contents from its embedded file descriptor."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        from google.protobuf.internal import enum_type_wrapper

        serialized = serialized_descriptor(Path(self.origin).read_text(encoding="utf-8"))
        file_proto = descriptor_pb2.FileDescriptorProto.FromString(serialized)
        for dependency in file_proto.dependency:
            importlib.import_module(_module_name_of_proto(dependency))

        pool = descriptor_pool.Default()
        try:
            file_descriptor = pool.FindFileByName(file_proto.name)
        except KeyError:
            file_descriptor = pool.AddSerializedFile(serialized)

        setattr(module, "DESCRIPTOR", file_descriptor)  # noqa: B010 (ModuleType has no such attribute)
        for name, message in file_descriptor.message_types_by_name.items():
            setattr(module, name, message_factory.GetMessageClass(message))
        for name, enum in file_descriptor.enum_types_by_name.items():
            setattr(module, name, enum_type_wrapper.EnumTypeWrapper(enum))
            for value in enum.values:
                setattr(module, value.name, value.number)


class _CommunicatorObjectsFinder(importlib.abc.MetaPathFinder):
    """Routes ``mlagents_envs.communicator_objects.*_pb2`` imports to :class:`_DescriptorLoader`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not (fullname.startswith(GENERATED_PACKAGE + ".") and fullname.endswith("_pb2")):
            return None
        file_spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if file_spec is None or file_spec.origin is None:
            return None
        loader = _DescriptorLoader(file_spec.origin)
        return importlib.util.spec_from_file_location(fullname, file_spec.origin, loader=loader)


def is_installed() -> bool:
    """Whether the import hook is active in this interpreter."""
    return any(isinstance(finder, _CommunicatorObjectsFinder) for finder in sys.meta_path)


def install() -> None:
    """Activate the import hook (idempotent). Must run before mlagents_envs imports its messages."""
    if is_installed():
        return
    stale = [name for name in sys.modules if name.startswith(GENERATED_PACKAGE + ".")]
    if any(name.endswith("_pb2") for name in stale):
        raise RuntimeError(
            f"{GENERATED_PACKAGE} was imported before rldojo_unity; import rldojo_unity first "
            "(it is applied automatically by the rldojo-unity .pth file in an installed environment)"
        )
    sys.meta_path.insert(0, _CommunicatorObjectsFinder())
