"""Plugin registry over real entry points: distributions written as dist-info folders on sys.path."""

from __future__ import annotations

import re

import pytest

from rldojo import plugins
from rldojo.errors import ConfigError
from rldojo.plugins import PluginError

from .plugin_sites import run_rldojo, write_distribution

pytestmark = pytest.mark.smoke


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh folder on sys.path for fake distributions; the registry cache is cleared around each test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.clear_cache()
    yield tmp_path
    plugins.clear_cache()


def unique(prefix: str, request: pytest.FixtureRequest) -> str:
    """A module name no other test has imported (sys.modules would otherwise return the first one)."""
    return prefix + "_" + re.sub(r"\W", "_", request.node.name)


TRAINER_MODULE = """
from rldojo.settings import OffPolicyHyperparamSettings

class TinySettings(OffPolicyHyperparamSettings):
    exploration: float = 0.1

class TinyTrainer:
    pass

def get_type_and_setting():
    return {"tiny": TinyTrainer}, {"tiny": TinySettings}
"""


def test_core_registers_ppo_and_default_writers_through_entry_points():
    entry = plugins.trainer_types()["ppo"]
    assert entry.source.distribution == "rldojo"
    assert entry.settings_class.__name__ == "PPOSettings"
    assert "default" in plugins.stats_writer_factories()


def test_third_party_trainer_type_is_registered_and_its_settings_validate(site, request):
    module = unique("tiny_trainer", request)
    write_distribution(site, "tiny-trainer", f"[rldojo.trainer_type]\ntiny = {module}:get_type_and_setting\n",
                       {module: TRAINER_MODULE})  # fmt: skip
    entry = plugins.trainer_types()["tiny"]
    assert (entry.trainer_class.__name__, entry.settings_class.__name__) == ("TinyTrainer", "TinySettings")
    assert entry.source == plugins.PluginSource("tiny-trainer", f"tiny = {module}:get_type_and_setting")

    from rldojo.settings import run_options_from_dict

    options = run_options_from_dict({"behaviors": {"B": {"trainer_type": "tiny"}}}, "test.yaml")
    hyperparameters = options.behaviors["B"].hyperparameters
    assert type(hyperparameters).__name__ == "TinySettings" and hyperparameters.batch_size == 128
    with pytest.raises(ConfigError, match=r"hyperparameters\.exploratoin: .* did you mean 'exploration'\?$"):
        run_options_from_dict(
            {"behaviors": {"B": {"trainer_type": "tiny", "hyperparameters": {"exploratoin": 1}}}}, "test.yaml"
        )


def test_plugin_that_fails_to_import_is_recorded_as_broken_naming_distribution_and_entry_point(site, request):
    module = unique("broken", request)
    write_distribution(site, "broken-plugin", f"[rldojo.stats_writer]\nbroken = {module}:writers\n",
                       {module: "raise RuntimeError('cannot find libfoo')\n"})  # fmt: skip
    registry = plugins.stats_writer_registry()
    assert [broken.message for broken in registry.broken] == [
        f"plugin broken-plugin (entry point 'broken = {module}:writers') in group rldojo.stats_writer "
        "failed to load: RuntimeError: cannot find libfoo"
    ]
    assert "broken" not in plugins.stats_writer_factories() and "default" in plugins.stats_writer_factories()


def test_plugin_whose_registration_raises_is_broken_and_named_when_its_scheme_is_used(site, request):
    module = unique("raising", request)
    write_distribution(site, "raising-envs", f"[rldojo.env]\nraising = {module}:providers\n",
                       {module: "def providers():\n    raise KeyError('config')\n"})  # fmt: skip
    assert "sim" in plugins.env_providers()
    from rldojo.envs import create_env

    expected = (
        r"unknown env scheme 'raising:'.*; plugin raising-envs \(entry point .*\) in group rldojo.env "
        r"raised while registering: KeyError: 'config'$"
    )
    with pytest.raises(ConfigError, match=expected):
        create_env("raising:Scene")


def test_two_distributions_claiming_one_trainer_type(site, request):
    module = unique("impostor", request)
    source = TRAINER_MODULE.replace('"tiny"', '"ppo"')
    write_distribution(site, "impostor", f"[rldojo.trainer_type]\nppo = {module}:get_type_and_setting\n",
                       {module: source})  # fmt: skip
    with pytest.raises(PluginError) as raised:
        plugins.trainer_type("ppo")
    message = str(raised.value)
    assert message.startswith("trainer type 'ppo' is registered twice: by ")
    assert f"impostor (entry point 'ppo = {module}:get_type_and_setting')" in message
    assert "rldojo (entry point 'ppo = rldojo.trainers.ppo.settings:get_type_and_setting')" in message
    assert plugins.trainer_type("sac") is not None  # other trainer types are still usable


def test_two_providers_claiming_one_env_scheme(site, request):
    module = unique("second_sim", request)
    write_distribution(site, "second-sim", f"[rldojo.env]\nsim2 = {module}:providers\n",
                       {module: "def providers():\n    return {'sim': print}\n"})  # fmt: skip
    with pytest.raises(
        PluginError, match=r"^env scheme 'sim' is registered twice: by rldojo-sim .* second-sim"
    ):
        plugins.env_provider_registry().get("sim")


def test_settings_class_must_derive_from_the_hyperparameter_bases(site, request):
    module = unique("plain_settings", request)
    source = (
        "class S: pass\nclass T: pass\ndef get_type_and_setting():\n    return {'plain': T}, {'plain': S}\n"
    )
    write_distribution(site, "plain", f"[rldojo.trainer_type]\nplain = {module}:get_type_and_setting\n",
                       {module: source})  # fmt: skip
    from rldojo.settings import run_options_from_dict

    with pytest.raises(
        ConfigError, match=r"plugin plain \(entry point .*\): settings class for 'plain' must derive"
    ):
        run_options_from_dict({"behaviors": {"B": {"trainer_type": "plain"}}}, "test.yaml")


def test_rldojo_plugins_lists_each_group_with_its_distribution(capsys):
    from rldojo.cli import main

    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Trainer types (rldojo.trainer_type):"
    assert any(
        re.fullmatch(r"  ppo\s+rldojo\.trainers\.ppo\S*\s+settings \S+PPOSettings\s+from rldojo", line)
        for line in lines
    )
    assert any(re.fullmatch(r"  sim:\s+\S+\s+from rldojo-sim", line) for line in lines)
    assert any(re.fullmatch(r"  default\s+\S+\s+from rldojo", line) for line in lines)


def test_rldojo_plugins_lists_a_broken_plugin_with_its_cause_and_exits_1(tmp_path):
    write_distribution(tmp_path, "broken-cli-plugin", "[rldojo.trainer_type]\nbad = broken_cli_plugin:get\n",
                       {"broken_cli_plugin": "import not_a_module_anywhere\n"})  # fmt: skip
    result = run_rldojo("plugins", pythonpath=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        "  BROKEN: plugin broken-cli-plugin (entry point 'bad = broken_cli_plugin:get') in group "
        "rldojo.trainer_type failed to load: ModuleNotFoundError: No module named 'not_a_module_anywhere'"
    ) in lines
    assert any(line.startswith("  ppo ") for line in lines)  # the working plugins are still listed
    assert result.stderr.strip().splitlines() == ["rldojo: error: 1 plugin(s) broken (listed above)"]
