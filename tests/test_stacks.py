"""The stack files are a walk: one complete config per phase, consecutive files differing only in
phase keys, and the project file declares exactly the keys the program reads."""

from __future__ import annotations

from itertools import pairwise

import yaml

from components.config import CONFIG_KEYS, MigrationConfig, Phase, parse_config
from tests.conftest import PHASE_FILES, ROOT, STACKS, load_raw

PHASE_KEYS = {"phase", "decommission"}


def test_one_file_per_phase_in_walking_order():
    assert [parse_config(load_raw(path)).phase for path in PHASE_FILES] == list(Phase)


def test_consecutive_files_differ_only_in_phase_keys():
    for before, after in pairwise(PHASE_FILES):
        old, new = load_raw(before), load_raw(after)
        changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        assert "phase" in changed, (before.name, after.name)
        assert changed <= PHASE_KEYS, (before.name, after.name, changed)


def test_environment_stack_file_starts_at_baseline():
    assert load_raw(STACKS / "Pulumi.prod.yaml") == load_raw(PHASE_FILES[0])


def test_project_file_declares_every_key_the_program_reads():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "aks-wasm-migration"
    assert project["stackConfigDir"] == "stacks"
    declared = project["config"]
    assert set(declared) == set(CONFIG_KEYS)
    for key, declaration in declared.items():
        assert declaration["type"] in {"string", "object", "array"}, key
        assert declaration["description"], key
        if declaration["type"] == "array":
            assert declaration["items"] == {"type": "object"}, key


def test_project_defaults_equal_the_model_defaults():
    """The CLI fills declared defaults, offline tools use the model's: both must mean the same."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    fields = {field.alias: field for field in MigrationConfig.model_fields.values()}
    for key, declaration in declared.items():
        if "default" not in declaration:
            assert fields[key].is_required(), key
            continue
        with_default = parse_config({**load_raw(PHASE_FILES[0]), key: declaration["default"]})
        without = load_raw(PHASE_FILES[0])
        without.pop(key, None)
        assert getattr(with_default, _attribute(key)) == getattr(parse_config(without), _attribute(key)), key


def _attribute(alias: str) -> str:
    return next(name for name, field in MigrationConfig.model_fields.items() if field.alias == alias)
