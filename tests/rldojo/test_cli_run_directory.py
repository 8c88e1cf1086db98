"""RunDirectory: mlagents-learn's run-id rules, --force, --initialize-from, manifest and config diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rldojo.commands.learn import env_build_path
from rldojo.errors import ConfigError
from rldojo.run_directory import (
    RunDirectory,
    as_yaml_data,
    build_manifest,
    config_differences,
    file_sha256,
)
from rldojo.settings import RunOptions, load_run_options, run_options_from_dict

pytestmark = pytest.mark.smoke


def options(tmp_path, **checkpoint) -> RunOptions:
    data = {"behaviors": {"Basic": {}}, "checkpoint_settings": {"results_dir": str(tmp_path), **checkpoint}}
    return run_options_from_dict(data, "test.yaml")


def test_prepare_creates_the_folders(tmp_path):
    run_dir = RunDirectory.prepare(options(tmp_path, run_id="r1"))
    assert run_dir.path == tmp_path / "r1" and run_dir.run_logs_dir.is_dir()
    assert run_dir.behavior_dir("Basic?team=0") == tmp_path / "r1" / "Basic"
    assert not run_dir.resume and run_dir.initialize_from is None


def test_force_replaces_an_earlier_run(tmp_path):
    first = RunDirectory.prepare(options(tmp_path, run_id="r1"))
    first.write_configuration(options(tmp_path, run_id="r1"))
    (first.path / "Basic").mkdir()
    (first.path / "Basic" / "Basic-10.pt").write_bytes(b"a checkpoint")
    with pytest.raises(ConfigError, match="Previous data from this run ID was found"):
        RunDirectory.prepare(options(tmp_path, run_id="r1"))
    RunDirectory.prepare(options(tmp_path, run_id="r1", force=True))
    assert not (first.path / "Basic").exists() and first.run_logs_dir.is_dir()


def test_a_run_that_saved_no_checkpoint_starts_again_with_or_without_resume(tmp_path):
    for resume in (False, True):
        leftover = RunDirectory.prepare(options(tmp_path, run_id="r1"))
        leftover.write_configuration(options(tmp_path, run_id="r1"))
        (leftover.path / "Basic" / ".Basic-10.pt.x.tmp").parent.mkdir(exist_ok=True)
        (leftover.path / "Basic" / ".Basic-10.pt.x.tmp").write_bytes(b"half")
        again = RunDirectory.prepare(options(tmp_path, run_id="r1", resume=resume))
        assert not again.resume and not (again.path / "Basic").exists() and again.run_logs_dir.is_dir()


def test_force_refuses_to_delete_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ConfigError, match="is not an rldojo run folder"):
        RunDirectory.prepare(options(tmp_path, run_id="photos", force=True))
    assert (tmp_path / "photos" / "cat.jpg").exists()


def test_initialize_from_points_at_the_other_run(tmp_path):
    RunDirectory.prepare(options(tmp_path, run_id="r0")).write_configuration(options(tmp_path, run_id="r0"))
    run_dir = RunDirectory.prepare(options(tmp_path, run_id="r1", initialize_from="r0"))
    assert run_dir.initialize_from == tmp_path / "r0"


def test_config_differences_lists_changed_added_and_removed_settings():
    saved = {"behaviors": {"Basic": {"max_steps": 100, "gone": 1}}, "checkpoint_settings": {"resume": False}}
    given = {"behaviors": {"Basic": {"max_steps": 200, "new": "x"}}, "checkpoint_settings": {"resume": True}}
    assert config_differences(saved, given) == [
        "behaviors.Basic.gone: 1 -> (not set)",
        "behaviors.Basic.max_steps: 100 -> 200",
        'behaviors.Basic.new: (not set) -> "x"',
    ]


def test_manifest_keeps_earlier_launches(tmp_path):
    run_dir = RunDirectory.prepare(options(tmp_path, run_id="r1"))
    run_dir.write_manifest({"command_line": ["first"]})
    run_dir.write_manifest({"command_line": ["second"]})
    run_dir.write_manifest({"command_line": ["third"]})
    manifest = json.loads(run_dir.manifest_file.read_text())
    assert manifest["command_line"] == ["third"]
    assert [launch["command_line"] for launch in manifest["previous_launches"]] == [["first"], ["second"]]


def test_manifest_records_the_build_file_and_its_hash(tmp_path, sim_build, monkeypatch):
    build = sim_build("Basic")
    with monkeypatch.context() as patched:  # a build path loads no env provider (rldojo-gym: gymnasium)
        patched.setattr("rldojo.commands.learn.env_providers", lambda: pytest.fail("providers loaded"))
        assert env_build_path(str(build)) == build
    assert env_build_path(str(build.with_suffix(""))) == build  # mlagents-learn also accepts no extension
    assert env_build_path("sim:Basic") is None
    manifest = build_manifest(options(tmp_path), ["rldojo", "learn"], "cpu", build)
    assert manifest["env"]["build_path"] == str(build.resolve())
    assert manifest["env"]["build_sha256"] == file_sha256(build) and len(file_sha256(build)) == 64


@pytest.mark.smoke
def test_outside_a_checkout_the_manifest_records_the_commit_the_image_was_built_from(tmp_path, monkeypatch):
    from rldojo.run_directory import git_state

    monkeypatch.setenv("RLDOJO_GIT_COMMIT", "0123abc")
    monkeypatch.setenv("RLDOJO_GIT_DIRTY", "true")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # tmp_path is in no checkout
    assert git_state(tmp_path) == {"commit": "0123abc", "dirty": True}
    monkeypatch.delenv("RLDOJO_GIT_COMMIT")
    assert git_state(tmp_path) is None


@pytest.mark.smoke
def test_a_certificate_error_in_the_image_build_names_extra_ca():
    from rldojo.docker_engine import proxy_hint

    hint = proxy_hint("pip: SSL: CERTIFICATE_VERIFY_FAILED certificate verify failed")
    assert "--extra-ca proxy-ca.pem" in hint and "EXTRA_CA=proxy-ca.pem" in hint
    assert proxy_hint("no space left on device") == ""


SHIPPED_CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("**/*.yaml"))
RUN_CONFIGS = [path for path in SHIPPED_CONFIGS if "sweeps" not in path.parts]  # sweeps: not run configs


@pytest.mark.parametrize("config", RUN_CONFIGS, ids=lambda path: path.stem)
def test_configuration_yaml_is_the_safe_dump_of_the_options(config, tmp_path):
    """Written with libyaml's dumper where there is one: the text of PyYAML's own ``safe_dump``."""
    options = load_run_options(config, {"checkpoint_settings.results_dir": str(tmp_path)}, {})
    run_dir = RunDirectory.prepare(options)
    run_dir.write_configuration(options)
    expected = yaml.safe_dump(as_yaml_data(options), sort_keys=False)
    assert run_dir.configuration_file.read_text() == expected
