"""Loading a migration from wherever its config lives (the Pulumi engine or a stack file on disk),
into one validated value: the config model plus the legacy manifests it points to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config import PROJECT, ConfigError, MigrationConfig, parse_config, problem
from components.legacy import YAML_LOADER, LegacyWorkload, load_legacy_workload

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Stands in for a value the stack file holds encrypted; offline tools never decrypt secrets.
ENCRYPTED_PLACEHOLDER = "[secret: encrypted in the stack file]"


@dataclass(frozen=True)
class Migration:
    config: MigrationConfig
    workloads: tuple[LegacyWorkload, ...]


def load_migration(raw: dict[str, Any], base_dir: Path = PROJECT_ROOT) -> Migration:
    """Validate everything, collecting every problem, before a single resource exists."""
    config = parse_config(raw)
    workloads, problems = [], []
    for index, workload in enumerate(config.workloads):
        legacy, found = load_legacy_workload(workload, index, base_dir, config.cluster.kubernetes_version)
        problems.extend(found)
        if legacy:
            workloads.append(legacy)
    if problems:
        raise ConfigError(problems)
    return Migration(config, tuple(workloads))


def _decode_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return ENCRYPTED_PLACEHOLDER
        return {key: _decode_secure(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode_secure(item) for item in value]
    return value


def raw_config_from_stack_file(path: Path) -> dict[str, Any]:
    """The project's keys from a Pulumi stack file, as the program would receive them."""
    try:
        document = yaml.load(path.read_text(), Loader=YAML_LOADER)
    except OSError as error:
        raise ConfigError([problem("stack file", str(path), f"cannot read: {error.strerror}")]) from None
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise ConfigError([problem("stack file", str(path), f"is not valid YAML: {detail}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError([problem("stack file", str(path), "must be a mapping with a `config:` mapping")])
    raw: dict[str, Any] = {}
    prefix = f"{PROJECT}:"
    for key, value in document["config"].items():
        if not str(key).startswith(prefix):
            raise ConfigError([problem(str(key), value, f"keys of this project are written `{prefix}<key>`")])
        raw[str(key).removeprefix(prefix)] = _decode_secure(value)
    return raw


def raw_config_from_engine(keys: tuple[str, ...]) -> dict[str, Any]:
    """The project's keys as the Pulumi engine hands them over (structured values arrive as JSON)."""
    import pulumi

    raw: dict[str, Any] = {}
    for key in keys:
        value = pulumi.runtime.get_config(f"{PROJECT}:{key}")
        if value is None:
            continue
        try:
            raw[key] = json.loads(value)
        except json.JSONDecodeError:
            raw[key] = value
    return raw
