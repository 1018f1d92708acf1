"""Stack file in, desired state out, with every failure turned into plain problem lines."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from components.config import ConfigError, MigrationConfig, Phase, parse_config
from components.desired import build_desired_state
from components.desired.spec import DesiredState
from components.migration import Migration, load_migration, raw_config_from_stack_file

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_INPUT = 2


class InputError(Exception):
    """Problems that stop a command; `exit_code` 2 for unreadable input, 1 for an invalid config."""

    def __init__(self, problems: list[str], exit_code: int):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.exit_code = exit_code


@dataclass(frozen=True)
class Loaded:
    path: Path
    raw: dict[str, Any]
    migration: Migration
    state: DesiredState


def read_raw(path: Path) -> dict[str, Any]:
    """The project's keys of a stack file; InputError (exit 2) when it cannot be read or parsed."""
    try:
        return raw_config_from_stack_file(Path(path))
    except ConfigError as error:
        raise InputError([f"{path}: {line}" for line in error.problems], EXIT_INPUT) from None


def parse_only(path: Path, raw: dict[str, Any]) -> MigrationConfig:
    """The config model alone, without reading the legacy manifests; InputError (exit 1)."""
    try:
        return parse_config(raw)
    except ConfigError as error:
        raise InputError([f"{path}: {line}" for line in error.problems], EXIT_PROBLEMS) from None


def load_raw(path: Path, raw: dict[str, Any]) -> Loaded:
    """Validate and build; InputError (exit 1) listing every config problem."""
    try:
        migration = load_migration(raw)
    except ConfigError as error:
        raise InputError([f"{path}: {line}" for line in error.problems], EXIT_PROBLEMS) from None
    return Loaded(Path(path), raw, migration, build_desired_state(migration))


def load(path: Path) -> Loaded:
    return load_raw(path, read_raw(path))


def state_at(migration: Migration, phase: Phase) -> DesiredState:
    """The desired state of the same config in another phase (legacy manifests are not re-read)."""
    config = migration.config.model_copy(update={"phase": phase})
    return build_desired_state(replace(migration, config=config))


def previous_phase(phase: Phase) -> Phase | None:
    return list(Phase)[phase.position - 1] if phase.position > 0 else None
