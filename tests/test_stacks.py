"""The reference environment and its walk: one source of truth (stacks/Pulumi.prod.yaml), phase files
generated from it and up to date, consecutive files differing only in what the step is about, and the
project file declaring exactly the keys the program reads. Nothing here depends on the phase the
environment is in (the pull-request walk moves it)."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import yaml

from components.core.config import CONFIG_KEYS, ConfigError, MigrationConfig, Phase, parse_config
from migrate.phases import is_generated, render, verify
from tests.conftest import ENVIRONMENT, PHASE_FILES, ROOT, STACKS, WALK, load_raw, phase_path

PHASE_KEYS = {"phase", "decommission"}


def test_walk_visits_every_phase_in_order_with_a_file_per_traffic_step():
    phases = [file.phase for file in WALK]
    assert sorted(set(phases), key=phases.index) == list(Phase)
    assert phases == sorted(phases, key=lambda phase: phase.position)
    # Parallel starts outside traffic and ends at full capacity around the environment's steps.
    assert [file.weight for file in WALK if file.phase is Phase.PARALLEL] == [0, 10, 50, 90, 100]
    assert [path.name for path in PHASE_FILES] == [
        "prod.1-baseline.yaml",
        "prod.2-prepare.yaml",
        "prod.3a-parallel-0.yaml",
        "prod.3b-parallel-10.yaml",
        "prod.3c-parallel-50.yaml",
        "prod.3d-parallel-90.yaml",
        "prod.3e-parallel-100.yaml",
        "prod.4-cutover.yaml",
        "prod.5-decommission.yaml",
    ]
    assert [parse_config(load_raw(file.path)).phase for file in WALK] == phases


def test_phase_files_are_generated_from_the_environment_and_up_to_date():
    for file in WALK:
        assert file.path.read_text() == render(ENVIRONMENT, file), file.path.name
        verify(file.path, "prod")
    verify(ENVIRONMENT, "prod")
    # Nothing else in stacks/ claims to be generated (a stale step file would).
    assert {path for path in STACKS.glob("*.yaml") if is_generated(path)} == set(PHASE_FILES)


def test_consecutive_files_differ_only_in_what_the_step_is_about():
    for before, after in pairwise(WALK):
        old, new = load_raw(before.path), load_raw(after.path)
        changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        if before.phase is after.phase:  # a traffic step: the weight and nothing else
            assert changed == {"traffic"}, (before.path.name, after.path.name)
            assert {**old["traffic"], "weight": new["traffic"]["weight"]} == new["traffic"]
            assert new["traffic"]["weight"] > old["traffic"]["weight"]
        else:  # entering and leaving parallel keeps the weight: the first and last steps
            assert "phase" in changed and changed <= PHASE_KEYS, (before.path.name, after.path.name, changed)


def test_only_the_decommission_file_carries_the_confirmation():
    for file in WALK:
        assert ("decommission" in load_raw(file.path)) == (file.phase is Phase.DECOMMISSION), file.path.name


def test_environment_is_its_phase_file_whatever_phase_it_is_in():
    """The pull-request walk and the phase-file walk agree: the environment's config is the phase file of
    the step it stands at, apart from the keys that phase does not read."""
    environment = load_raw(ENVIRONMENT)
    phase = Phase(environment["phase"])
    weight = environment["traffic"]["weight"] if phase is Phase.PARALLEL else None
    phase_file = load_raw(phase_path(phase, weight))
    ignored = {"decommission"} if phase is not Phase.DECOMMISSION else set()
    if phase is not Phase.PARALLEL:
        environment["traffic"].pop("weight")
        phase_file["traffic"].pop("weight")
    assert {k: v for k, v in environment.items() if k not in ignored} == {
        k: v for k, v in phase_file.items() if k not in ignored
    }


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
    baseline = phase_path(Phase.BASELINE)
    for key, declaration in declared.items():
        if "default" not in declaration:
            assert fields[key].is_required(), key
            continue
        without = load_raw(baseline)
        without.pop(key, None)
        # The same value, or the same refusal (targetPools: [] is refused while a workload needs the shim).
        assert _meaning({**load_raw(baseline), key: declaration["default"]}, key) == _meaning(without, key), (
            key
        )


def _meaning(raw: dict[str, Any], key: str) -> Any:
    try:
        return getattr(parse_config(raw), _attribute(key))
    except ConfigError as error:
        return error.problems


def _attribute(alias: str) -> str:
    return next(name for name, field in MigrationConfig.model_fields.items() if field.alias == alias)


def test_every_stack_file_the_docs_name_exists():
    """The examples of the README, of every file of docs/ and of the CLI name real files of the walk."""
    from migrate.__main__ import EPILOG
    from tests.test_docs import documentation

    texts = {path.relative_to(ROOT).as_posix(): path.read_text() for path in documentation()}
    for where, text in {**texts, "EPILOG": EPILOG}.items():
        named = set(re.findall(r"stacks/[\w.-]+\.yaml", text))
        assert named or where not in (
            "README.md",
            "docs/offline-review.md",
            "docs/pulumi-cli.md",
            "EPILOG",
        ), where
        assert {name for name in named if not (ROOT / name).exists()} == set(), where
