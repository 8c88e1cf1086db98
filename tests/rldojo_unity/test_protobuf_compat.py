"""mlagents-envs' generated messages run on the current protobuf (upb) backend."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import mlagents_envs.communicator_objects as communicator_objects
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.internal import api_implementation

from rldojo_unity import protobuf_compat

pytestmark = pytest.mark.smoke

GENERATED_MODULES = sorted(
    f"{communicator_objects.__name__}.{info.name}"
    for info in pkgutil.iter_modules(communicator_objects.__path__)
    if info.name.endswith("_pb2")
)


def _all_message_classes():
    for module_name in GENERATED_MODULES:
        module = importlib.import_module(module_name)
        for name in module.DESCRIPTOR.message_types_by_name:
            yield pytest.param(getattr(module, name), id=name)


def _sample_value(field: FieldDescriptor, depth: int):
    """A non-default value for a scalar field, distinct per field number."""
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_STRING:
        return f"value-{field.number}"
    if field.type == FieldDescriptor.TYPE_BYTES:
        return bytes([field.number, 0, 255, depth])
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return field.number + 0.5
    if field.type == FieldDescriptor.TYPE_ENUM:
        return field.enum_type.values[-1].number
    return field.number * 3 + depth


def _populate(message, depth: int = 0) -> None:
    """Set every field of ``message`` (recursively, two levels deep) to a non-default value."""
    descriptor = message.DESCRIPTOR
    set_oneofs = set()
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None:
            if oneof.name in set_oneofs:
                continue
            set_oneofs.add(oneof.name)
        is_message = field.type == FieldDescriptor.TYPE_MESSAGE
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            container = getattr(message, field.name)
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                if depth < 2:
                    _populate(container[f"key-{depth}"], depth + 1)
            else:
                container[f"key-{depth}"] = _sample_value(value_field, depth)
        elif field.is_repeated:
            container = getattr(message, field.name)
            if is_message:
                if depth < 2:
                    _populate(container.add(), depth + 1)
            else:
                container.extend([_sample_value(field, depth), _sample_value(field, depth + 1)])
        elif is_message:
            if depth < 2:
                _populate(getattr(message, field.name), depth + 1)
        else:
            setattr(message, field.name, _sample_value(field, depth))


def test_upb_backend_is_active():
    assert api_implementation.Type() == "upb"


def test_hook_is_applied_at_interpreter_start():
    code = (
        "import sys, mlagents_envs.environment;"
        "from rldojo_unity import protobuf_compat;"
        "from google.protobuf.internal import api_implementation;"
        "assert protobuf_compat.is_installed(); print(api_implementation.Type())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "upb"


def test_every_generated_module_is_served_from_its_embedded_descriptor():
    assert len(GENERATED_MODULES) >= 20
    for module_name in GENERATED_MODULES:
        module = importlib.import_module(module_name)
        assert isinstance(module.__loader__, protobuf_compat._DescriptorLoader), module_name
        source = Path(module.__file__).read_text(encoding="utf-8")
        embedded = protobuf_compat.serialized_descriptor(source)
        rebuilt = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(rebuilt)
        assert rebuilt == descriptor_pb2.FileDescriptorProto.FromString(embedded)


@pytest.mark.parametrize("message_class", list(_all_message_classes()))
def test_message_round_trips(message_class):
    message = message_class()
    _populate(message)
    data = message.SerializeToString()
    assert data or not message.DESCRIPTOR.fields, "a populated message serializes to something"
    decoded = message_class.FromString(data)
    assert decoded == message
    assert decoded.SerializeToString(deterministic=True) == message.SerializeToString(deterministic=True)


def test_enum_constants_and_nested_types_match_the_old_generated_api():
    from mlagents_envs.communicator_objects import command_pb2, observation_pb2

    assert (command_pb2.STEP, command_pb2.RESET, command_pb2.QUIT) == (0, 1, 2)
    assert observation_pb2.CompressionTypeProto.Name(observation_pb2.PNG) == "PNG"
    assert observation_pb2.GOAL_SIGNAL == 1
    observation = observation_pb2.ObservationProto(shape=[2])
    observation.float_data.CopyFrom(observation_pb2.ObservationProto.FloatData(data=[1.5, -2.0]))
    decoded = observation_pb2.ObservationProto.FromString(observation.SerializeToString())
    assert list(decoded.float_data.data) == [1.5, -2.0]


def test_environment_module_imports_and_speaks_the_protocol_version():
    from mlagents_envs.environment import UnityEnvironment

    assert UnityEnvironment.API_VERSION == "1.5.0"


def test_install_refuses_when_old_modules_were_already_imported(monkeypatch):
    finders = [f for f in sys.meta_path if not isinstance(f, protobuf_compat._CommunicatorObjectsFinder)]
    monkeypatch.setattr(sys, "meta_path", finders)
    monkeypatch.setitem(sys.modules, f"{protobuf_compat.GENERATED_PACKAGE}.stale_pb2", object())
    with pytest.raises(RuntimeError, match="import rldojo_unity first"):
        protobuf_compat.install()


def test_serialized_descriptor_rejects_a_file_without_one():
    with pytest.raises(ImportError, match="no serialized file descriptor"):
        protobuf_compat.serialized_descriptor("x = 1\n")
