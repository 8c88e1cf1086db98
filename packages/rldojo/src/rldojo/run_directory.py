"""The results folder of one run: ``<results_dir>/<run_id>/``.

It holds ``configuration.yaml`` (the resolved config), ``run_manifest.json`` (what is needed to
reproduce the run), ``run_logs/`` and one folder per behavior. ``prepare`` applies the
``--resume`` / ``--force`` / ``--initialize-from`` rules of mlagents-learn before anything is written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from rldojo.errors import ConfigError
from rldojo.files import atomic_write
from rldojo.plugins import plugin_distributions, run_plugin_sources
from rldojo.settings import RunOptions, read_yaml
from rldojo.settings.run import behavior_name_of
from rldojo.torch_startup import cuda_available, torch_build

logger = logging.getLogger(__name__)

CONFIGURATION_FILE = "configuration.yaml"
MANIFEST_FILE = "run_manifest.json"
RUN_LOGS = "run_logs"
TRAINING_STATUS_FILE = "training_status.json"
LATEST_CHECKPOINT = "checkpoint.pt"
"""A behavior's newest checkpoint (beside ``<behavior>-<step>.pt``), read on --resume."""

EXISTING_RUN_MESSAGE = (
    "Previous data from this run ID was found. Either specify a new run ID, use --resume to resume "
    "this run, or use the --force parameter to overwrite existing data."
)

MANIFEST_PACKAGES = (
    "rldojo", "rldojo-unity", "rldojo-sim", "rldojo-stats", "rldojo-gym", "rldojo-sb3", "torch", "numpy",
    "mlagents-envs", "protobuf", "grpcio", "pydantic", "gymnasium", "stable-baselines3", "onnx",
    "onnxruntime", "tensorboard", "wandb",
)  # fmt: skip
"""Distributions whose versions go into the manifest (those installed)."""

IGNORED_ON_RESUME = ("checkpoint_settings.resume", "checkpoint_settings.force")
"""Settings that naturally differ between the first launch and a resumed one."""
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's safe dumper where PyYAML has it: the same text as ``yaml.safe_dump`` (every shipped and ML-Agents
config) in about a quarter of the CPU time."""


@dataclass(frozen=True)
class RunDirectory:
    """Paths of one run's results folder, checked and created by :meth:`prepare`."""

    path: Path
    resume: bool
    initialize_from: Path | None
    """The results folder of the run whose weights a new run starts from (``--initialize-from``)."""

    @property
    def run_logs_dir(self) -> Path:
        return self.path / RUN_LOGS

    @property
    def training_status_file(self) -> Path:
        return training_status_file(self.path)

    @property
    def configuration_file(self) -> Path:
        return self.path / CONFIGURATION_FILE

    @property
    def manifest_file(self) -> Path:
        return self.path / MANIFEST_FILE

    def behavior_dir(self, behavior: str) -> Path:
        """Checkpoints and event files of a behavior, given by ``behavior_name`` or one ``behavior_id``."""
        return self.path / behavior_name_of(behavior)

    def final_model_file(self, behavior: str) -> Path:
        return final_model_file(self.path, behavior)

    def best_checkpoint_file(self, behavior: str) -> Path:
        """The checkpoint of a behavior's best evaluation, ``<run>/<behavior>/<behavior>-best.pt``."""
        behavior_dir = self.behavior_dir(behavior)
        return behavior_dir / f"{behavior_dir.name}-best.pt"

    def best_model_file(self, behavior: str) -> Path:
        """The ONNX model of a behavior's best evaluation, ``<run>/<behavior_name>-best.onnx``."""
        return self.path / f"{behavior_name_of(behavior)}-best.onnx"

    @classmethod
    def prepare(cls, options: RunOptions) -> RunDirectory:
        """Check the run id against what is on disk, then create the folders (hold its run lock first).

        A run folder that holds no checkpoint (a launch that failed or was killed before saving) is
        started afresh, with or without ``--resume``. Raises ConfigError for an existing run without
        ``--resume``/``--force``, a ``--resume`` of a run that does not exist, or an ``--initialize-from``
        run that does not exist.
        """
        settings = options.checkpoint_settings
        path = settings.write_path
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{path} is a file, not a run folder; choose another --run-id or --results-dir")
        exists = path.is_dir() and any(path.iterdir())
        saved = exists and has_checkpoints(path)
        leftover = exists and not saved and _is_run_folder(path)
        if exists and not (settings.resume or settings.force or leftover):
            raise ConfigError(f"{EXISTING_RUN_MESSAGE} ({path})")
        resume = settings.resume and saved
        if settings.resume and not resume:
            if not leftover:
                raise ConfigError(
                    f"--resume: there is no run '{settings.run_id}' to resume in {path.parent}; "
                    "leave out --resume to start it"
                )
            logger.warning(
                "run '%s' saved no checkpoint before it stopped; starting it from step 0", settings.run_id
            )
        initialize_from = settings.maybe_init_path
        if initialize_from is not None and not (initialize_from / CONFIGURATION_FILE).is_file():
            raise ConfigError(
                f"--initialize-from: there is no run '{settings.initialize_from}' in {initialize_from.parent}"
            )
        if (exists and settings.force) or leftover:
            _remove_run(path)
        for partial in path.glob("**/.*.tmp"):  # from writes killed half-way; the run lock is ours
            partial.unlink(missing_ok=True)
        directory = cls(path=path, resume=resume, initialize_from=initialize_from)
        directory.run_logs_dir.mkdir(parents=True, exist_ok=True)
        return directory

    def saved_options(self) -> dict[str, Any]:
        """The configuration written by an earlier launch of this run."""
        return read_yaml(self.configuration_file)

    def write_configuration(self, options: RunOptions) -> None:
        """Write the resolved configuration (ML-Agents' ``configuration.yaml``)."""
        text = yaml.dump(as_yaml_data(options), Dumper=YAML_DUMPER, sort_keys=False)
        _write_text(self.configuration_file, text)

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Write ``run_manifest.json``, keeping the manifests of earlier launches in ``previous_launches``."""
        previous: list[Any] = []
        if self.manifest_file.is_file():
            earlier = json.loads(self.manifest_file.read_text())
            previous = [*earlier.pop("previous_launches", []), earlier]
        document = {**manifest, "previous_launches": previous} if previous else dict(manifest)
        _write_text(self.manifest_file, json.dumps(document, indent=2) + "\n")


def final_model_file(run_path: Path, behavior: str) -> Path:
    """The ONNX model of a behavior's final checkpoint, ``<run>/<behavior_name>.onnx``."""
    return run_path / f"{behavior_name_of(behavior)}.onnx"


def training_status_file(run_path: Path) -> Path:
    """``<run>/run_logs/training_status.json``: the checkpoints kept per behavior (ML-Agents' format)."""
    return run_path / RUN_LOGS / TRAINING_STATUS_FILE


def latest_checkpoint_file(behavior_dir: Path) -> Path:
    """A behavior folder's newest checkpoint, ``checkpoint.pt``."""
    return behavior_dir / LATEST_CHECKPOINT


def step_checkpoint_file(behavior_dir: Path, step: int) -> Path:
    """The checkpoint of ``step`` in a behavior's folder (named after it): ``<behavior>-<step>.pt``."""
    return behavior_dir / f"{behavior_dir.name}-{step}.pt"


def step_checkpoint_files(behavior_dir: Path) -> dict[int, Path]:
    """The ``<behavior>-<step>.pt`` files of a behavior folder, by step, oldest first."""
    files = {}
    for path in behavior_dir.glob(f"{behavior_dir.name}-*.pt"):
        step = path.stem.removeprefix(f"{behavior_dir.name}-")
        if step.isdigit():
            files[int(step)] = path
    return dict(sorted(files.items()))


def model_file(checkpoint: Path) -> Path:
    """The ONNX model exported from ``checkpoint``, beside it: ``<behavior>-<step>.onnx``."""
    return checkpoint.with_suffix(".onnx")


def library_versions() -> dict[str, str]:
    """The rldojo and torch versions that checkpoints and ``training_status.json`` record."""
    return dict(_installed_library_versions())


@functools.cache
def _installed_library_versions() -> tuple[tuple[str, str], ...]:
    """Read once per process: each ``metadata.version`` searches every installed distribution."""
    return (("rldojo", metadata.version("rldojo")), ("torch", metadata.version("torch").split("+")[0]))


class TrainingStatus:
    """``run_logs/training_status.json``: the checkpoints kept per behavior, as ML-Agents writes it."""

    def __init__(self, path: Path):
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
        self.data["metadata"] = {"stats_format_version": "0.3.0", **library_versions()}

    def checkpoints(self, behavior: str) -> list[dict[str, Any]]:
        return self.data.setdefault(behavior, {}).setdefault("checkpoints", [])

    def save(self) -> None:
        _write_text(self.path, json.dumps(self.data, indent=2))


def saved_steps(run_logs_dir: Path) -> dict[str, int]:
    """Each behavior's newest checkpoint step, from ``training_status.json`` (empty when unreadable)."""
    try:
        status = json.loads((run_logs_dir / TRAINING_STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {
        name: entry["checkpoints"][-1]["steps"]
        for name, entry in status.items()
        if isinstance(entry, dict) and entry.get("checkpoints")
    }


def has_checkpoints(path: Path) -> bool:
    """Whether the run folder ``path`` holds a checkpoint of any behavior (something to resume)."""
    return any(path.glob("*/*.pt"))


def _is_run_folder(path: Path) -> bool:
    return any((path / name).exists() for name in (CONFIGURATION_FILE, MANIFEST_FILE, "run_logs"))


def _remove_run(path: Path) -> None:
    """Delete an earlier run for ``--force``, refusing folders that are not rldojo runs."""
    if not _is_run_folder(path):
        raise ConfigError(
            f"--force: {path} is not an rldojo run folder (no {CONFIGURATION_FILE}); "
            "refusing to delete it, choose another --run-id or --results-dir"
        )
    shutil.rmtree(path)


def _write_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically (readers see the old or the new file, never half of one)."""
    atomic_write(path, lambda file: file.write(text.encode()))


def as_yaml_data(options: RunOptions) -> dict[str, Any]:
    """The options as plain YAML data, in the order ML-Agents writes ``configuration.yaml``."""
    return options.model_dump(mode="json")


def config_differences(saved: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """One line per setting that differs, as ``path: saved -> given`` (for ``--resume``)."""
    old, new = _flatten(saved), _flatten(given)
    lines = []
    for key in sorted(old.keys() | new.keys()):
        if key in IGNORED_ON_RESUME or old.get(key) == new.get(key):
            continue
        lines.append(f"{key}: {_show(old, key)} -> {_show(new, key)}")
    return lines


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping) and data:
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: data}


def _show(values: Mapping[str, Any], key: str) -> str:
    return json.dumps(values[key]) if key in values else "(not set)"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_state(cwd: Path) -> dict[str, Any] | None:
    """Commit and dirty flag of the git checkout containing ``cwd``; outside one, those the rldojo image
    was built from (``RLDOJO_GIT_COMMIT`` / ``RLDOJO_GIT_DIRTY``, set by its build), else None."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        built_from = os.environ.get("RLDOJO_GIT_COMMIT")
        return (
            {"commit": built_from, "dirty": os.environ.get("RLDOJO_GIT_DIRTY") == "true"}
            if built_from
            else None
        )
    return {"commit": commit, "dirty": bool(status.strip())}


def _find_upwards(name: str, start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / name).is_file():
            return folder / name
    return None


def _versions() -> dict[str, str]:
    versions = {}
    for name in MANIFEST_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def build_manifest(
    options: RunOptions, command_line: Sequence[str], device: str, env_build: Path | None
) -> dict[str, Any]:
    """What is needed to reproduce a launch: code, lock file, packages, platform, device, seed, env."""
    torch_version, torch_cuda = torch_build()
    cwd = Path.cwd()
    rldojo_source = Path(__file__).resolve().parent
    lock_file = _find_upwards("uv.lock", cwd) or _find_upwards("uv.lock", rldojo_source)
    env: dict[str, Any] = {"spec": options.env_settings.env_path}
    if env_build is not None:
        env.update(build_path=str(env_build.resolve()), build_sha256=file_sha256(env_build))
    return {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command_line": list(command_line),
        "working_directory": str(cwd),
        "git": git_state(cwd),
        "rldojo_source": {"path": str(rldojo_source), "git": git_state(rldojo_source)},
        "uv_lock": {"path": str(lock_file), "sha256": file_sha256(lock_file)} if lock_file else None,
        "packages": _versions(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "torch": torch_version,
        "cuda": torch_cuda,
        "cuda_available": cuda_available(),
        "device": device,
        "seed": options.env_settings.seed,
        "env": env,
        "plugins": plugin_distributions(run_plugin_sources(options)),
    }
