"""docs/configuration.md and Pulumi.yaml's config descriptions are what migrate.config_reference generates
from the model: a change to the model without `python -m migrate.config_reference --write` fails here."""

from __future__ import annotations

import yaml
from pydantic import BaseModel

from components.core.config import CONFIG_KEYS, MigrationConfig, Traffic
from migrate import config_reference
from tests.conftest import ROOT
from tests.markdown_tree import nodes


def _models() -> list[type[BaseModel]]:
    return [model for _, model in config_reference._sections()]


def test_the_configuration_reference_is_generated_from_the_model() -> None:
    assert config_reference.outdated() == {}, f"run {config_reference.COMMAND}"
    assert (ROOT / "docs" / "configuration.md").read_text() == config_reference.reference_markdown()


def test_pulumi_yaml_describes_each_key_as_the_model_does() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    config = project["config"]
    assert tuple(config) == CONFIG_KEYS
    descriptions = config_reference.pulumi_descriptions()
    assert {key: value["description"] for key, value in config.items()} == descriptions
    # The CLI's own keys stay: a type for every key, and defaults only where the model has one.
    for name, field in MigrationConfig.model_fields.items():
        declared = config[field.alias or name]
        assert declared["type"] in ("string", "object", "array"), name
        assert ("default" in declared) == (not field.is_required()), name


def test_every_field_has_a_description() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in _models()
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert missing == []


def test_every_key_of_every_object_is_a_row_of_the_reference() -> None:
    text = config_reference.reference_markdown()
    rows = [node for node in nodes(text) if node.type == "tr"]
    cells = [[child for child in row.children] for row in rows]
    assert {len(row) for row in cells} == {4}
    expected = sum(len(model.model_fields) for model in _models())
    assert len(rows) == expected + len(_models())  # one header row per table


def test_a_changed_description_or_default_changes_the_generated_files(monkeypatch) -> None:
    before = config_reference.reference_markdown()
    field = Traffic.model_fields["weight"]
    monkeypatch.setattr(field, "description", "a new | *description* <b>")
    changed = config_reference.reference_markdown()
    assert changed != before
    assert r"a new \| \*description\* \<b\>" in changed  # through migrate.markdown's escaping
    monkeypatch.setattr(field, "default", 40)
    assert "| `40` |" in config_reference.reference_markdown()
    assert config_reference.outdated() != {}


def test_the_command_writes_and_checks(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text().replace("The AKS", "An AKS"))
    monkeypatch.setattr(config_reference, "ROOT", tmp_path)
    assert config_reference.main(["--check"]) == 1
    assert "docs/configuration.md is out of date" in capsys.readouterr().err
    assert config_reference.main(["--write"]) == 0
    assert (tmp_path / "Pulumi.yaml").read_text() == (ROOT / "Pulumi.yaml").read_text()
    assert (tmp_path / "docs" / "configuration.md").read_text() == config_reference.reference_markdown()
    assert config_reference.main(["--check"]) == 0
    assert config_reference.main(["--bogus"]) == 2
