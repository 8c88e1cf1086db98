"""Each package declares its public API, and every error a user can cause belongs to one tree."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

from rldojo.cli import outcome
from rldojo_unity.errors import ConfigError, RldojoError

pytestmark = pytest.mark.smoke

REPO = Path(__file__).resolve().parents[2]
IMPORT_NAMES = sorted(path.name for path in REPO.glob("packages/*/src/*") if (path / "__init__.py").exists())

INTERNAL_SIGNALS = {
    "rldojo.envs.supervision.WorkerFailure": "an env worker's (or Ray runner's) failure, supervised",
    "rldojo.envs.worker.NanObservationError": "a worker's NaN observation, handled by supervision",
}
"""Exceptions that never reach a user: raised and handled inside rldojo, so outside the tree."""

EXIT_CODES = {1, 2, 130}


def _modules(import_name: str) -> list[ModuleType]:
    package = importlib.import_module(import_name)
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{import_name}."):
        try:
            modules.append(importlib.import_module(info.name))
        except ModuleNotFoundError as error:  # an optional extra that is not installed here
            if error.name and error.name.split(".")[0] in IMPORT_NAMES:
                raise
    return modules


def _exception_classes() -> dict[str, type[BaseException]]:
    found = {}
    for import_name in IMPORT_NAMES:
        for module in _modules(import_name):
            for _, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, BaseException) and value.__module__ == module.__name__:
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def test_every_workspace_package_is_checked():
    assert {"rldojo", "rldojo_gym", "rldojo_sb3", "rldojo_sim", "rldojo_stats", "rldojo_unity"} <= set(
        IMPORT_NAMES
    )


@pytest.mark.parametrize("import_name", IMPORT_NAMES)
def test_all_names_importable_objects_sorted_and_unique(import_name):
    package = importlib.import_module(import_name)
    exported = package.__all__
    assert exported == sorted(set(exported)), f"{import_name}.__all__ is not sorted and unique"
    assert "__version__" in exported
    for name in exported:
        value = getattr(package, name)
        assert value is not None, f"{import_name}.{name} is None"
    namespace: dict[str, object] = {}
    exec(f"from {import_name} import *", namespace)
    assert set(exported) <= set(namespace)


def test_every_user_error_derives_from_the_one_base_and_has_an_exit_code():
    classes = _exception_classes()
    assert set(INTERNAL_SIGNALS) <= set(classes), "an internal exception was renamed: update the list"
    user_errors = {name: cls for name, cls in classes.items() if name not in INTERNAL_SIGNALS}
    outside = sorted(name for name, cls in user_errors.items() if not issubclass(cls, RldojoError))
    assert not outside, f"errors outside the tree rooted at rldojo_unity.errors.RldojoError: {outside}"
    for name, cls in user_errors.items():
        assert cls.exit_code in EXIT_CODES, f"{name}.exit_code is {cls.exit_code!r}"
    expected = {
        "rldojo.plugins.PluginError",
        "rldojo.envs.supervision.EnvWorkerFailed",
        "rldojo.envs.supervision.EnvFailedInProcess",
        "rldojo_sim.errors.UnknownSceneError",
        "rldojo_unity.ports.PortInUseError",
        "rldojo_gym.errors.GymEnvError",
    }
    assert expected <= set(user_errors)


def test_rldojo_errors_reexports_the_root_and_keeps_its_names():
    from rldojo import errors

    assert errors.RldojoError is RldojoError
    assert errors.ConfigError is ConfigError
    assert issubclass(errors.TrainingInterrupted, RldojoError)
    assert errors.TrainingInterrupted.exit_code == 130


def test_bad_input_from_other_packages_exits_2_and_stays_catchable_as_before():
    from mlagents_envs.exception import UnityWorkerInUseException

    from rldojo_gym import GymEnvError
    from rldojo_sim import SceneOptionError, UnknownSceneError
    from rldojo_unity.ports import PortInUseError

    port_error = PortInUseError(5005)
    assert isinstance(port_error, UnityWorkerInUseException)
    assert outcome(port_error) == (2, str(port_error))
    for error in (UnknownSceneError("no scene 'Bsic'"), SceneOptionError("bad"), GymEnvError("bad")):
        assert isinstance(error, ValueError)
        assert outcome(error) == (2, str(error))
