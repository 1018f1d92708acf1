"""Stack file in, desired state out, with every failure turned into plain problem lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from components.analysis.traffic import analysed, analysed_state
from components.core.config import ConfigError, MigrationConfig, Phase, parse_config, problem
from components.core.inputs import Project, UnsafeInput, read_project_file, relative_path
from components.desired import build_desired_state
from components.desired.spec import DesiredState
from components.export.migration import Migration
from components.export.workload import Load, hand_over, is_kept, load_legacy_workload, take_over
from components.loading import PROJECT_ROOT, load_each, load_migration, raw_config_from_stack_file
from migrate.background import Background
from migrate.exits import EXIT_INPUT as EXIT_INPUT
from migrate.exits import EXIT_OK as EXIT_OK
from migrate.exits import EXIT_PROBLEMS as EXIT_PROBLEMS
from migrate.exits import InputError as InputError


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


def load_raw(
    path: Path, raw: dict[str, Any], base_dir: Project = PROJECT_ROOT, *, analysed: bool = True
) -> Loaded:
    """Validate and build, manifests read under `base_dir` (a root on disk, or files in memory);
    InputError (exit 1) listing every config problem. `analysed=False`: the plan alone (see
    `state_at`)."""
    try:
        migration = load_migration(raw, base_dir, load_in_two)
    except ConfigError as error:
        raise InputError([f"{path}: {line}" for line in error.problems], EXIT_PROBLEMS) from None
    state = analysed_state(migration) if analysed else build_desired_state(migration)
    return Loaded(Path(path), raw, migration, state)


# Below this many workloads, forking costs more than the child's half saves.
MIN_WORKLOADS_IN_TWO = 32


def load_in_two(config: MigrationConfig, base_dir: Project) -> list[Load]:
    """Every legacy workload's load (parse, strict schemas, facts: most of loading a stack), the second
    half worked out in a forked child (migrate/background.py) while this process works out the first.
    One after another, as the program loads them, for a small config, where no child can be forked,
    or when this process has them already (the second side of `check --from` or `diff` names the same
    manifests): the answers are the same either way."""
    workloads = list(enumerate(config.workloads))
    version, pools = config.cluster.kubernetes_version, config.legacy_pools
    if len(workloads) < MIN_WORKLOADS_IN_TWO:
        return load_each(config, base_dir)
    last, workload = workloads[-1]
    if is_kept(workload, last, base_dir, version, pools):
        return load_each(config, base_dir)
    middle = len(workloads) // 2
    second = workloads[middle:]
    child = Background(lambda: hand_over(second, base_dir, version, pools))
    if not child.forked:
        return load_each(config, base_dir)
    first = [load_legacy_workload(w, index, base_dir, version, pools) for index, w in workloads[:middle]]
    return first + take_over(child.result(), second, base_dir, version, pools)


def with_traffic_analysed(loaded: Loaded) -> Loaded:
    """A stack file loaded with `analysed=False`, its traffic analysed now (what `analysed=True` gives)."""
    return replace(loaded, state=analysed(loaded.state, loaded.migration.workloads))


def load(path: Path, root: Path = PROJECT_ROOT, *, analysed: bool = True) -> Loaded:
    """A stack file read and built, its manifests read under `root`."""
    return load_raw(path, read_raw(path), root, analysed=analysed)


def in_tree(relative: str, root: Path = PROJECT_ROOT) -> str:
    """A manifest's text in the working tree, read as load_legacy_workload reads it."""
    return read_project_file(root, relative)


def read_manifests(
    config: MigrationConfig, label: str, read: Callable[[str], str] = in_tree
) -> dict[str, str]:
    """The text of every manifest the config names, by normalized path, through `read`; InputError
    (exit 1) with one line per manifest that cannot be read, naming its key."""
    named = ((f"workloads[{index}].manifest", w.manifest) for index, w in enumerate(config.workloads))
    return read_named(named, label, read)


def read_named(named: Iterable[tuple[str, str]], label: str, read: Callable[[str], str]) -> dict[str, str]:
    """The text of each file a config names, `(config key, relative path)`, by normalized path, through
    `read`; InputError (exit 1) with one line per file that cannot be read, naming its key."""
    texts, problems = {}, []
    for key, relative in named:
        try:
            texts[relative_path(relative)] = read(relative)
        except UnsafeInput as error:
            problems.append(f"{label}: {problem(key, relative, str(error))}")
    if problems:
        raise InputError(problems, EXIT_PROBLEMS)
    return texts


def state_at(migration: Migration, phase: Phase, *, analysed: bool = True) -> DesiredState:
    """The desired state of the same config in another phase (legacy manifests are not re-read).
    `analysed=False`: the plan alone, each workload's traffic without its share per entry point (the
    analysis reads every route and Service of the cluster; what renders resources needs none of it)."""
    config = migration.config.model_copy(update={"phase": phase})
    at = replace(migration, config=config)
    return analysed_state(at) if analysed else build_desired_state(at)


def previous_phase(phase: Phase) -> Phase | None:
    return list(Phase)[phase.position - 1] if phase.position > 0 else None
