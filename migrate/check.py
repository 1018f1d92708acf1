"""`check`: everything that can be proven offline before `pulumi up`.

The config (every ConfigError problem), strict schemas of every Kubernetes object on each supported
Kubernetes version, the scheduling proof, and with a source file the transition itself: one phase at
a time, no rollback out of decommission, and nothing but the phase keys changing with the phase."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from typing import Any

from components.config import Phase
from components.desired.spec import DesiredState
from components.inputs import ECHO_CHARS, echo, escape
from components.scheduling import scheduling_problems
from components.schemas import KUBERNETES_VERSIONS, schema_problems
from migrate.state import Loaded

# Keys that may (must) change when the phase moves; anything else waits for its own change.
PHASE_KEYS = ("phase", "decommission")


# Below this many (object, version) validations the fork costs more than it saves.
PARALLEL_MIN_VALIDATIONS = 400
_MANIFESTS: Sequence[dict[str, Any]] = ()  # what forked workers validate (inherited, not pickled)


def _validate(version: str) -> list[list[str]]:
    return [schema_problems(manifest, version) for manifest in _MANIFESTS]


def schema_check(state: DesiredState, versions: Iterable[str]) -> list[str]:
    """Every schema problem, ordered by object then version. Large phases validate one version per
    process: the validators are cached per version, so each worker builds only its own."""
    global _MANIFESTS
    versions = tuple(versions)
    manifests = [spec.inputs for spec in state.resources if spec.is_kubernetes]
    jobs = min(len(versions), os.cpu_count() or 1)
    parallel = (
        jobs > 1
        and len(manifests) * len(versions) >= PARALLEL_MIN_VALIDATIONS
        and "fork" in multiprocessing.get_all_start_methods()
    )
    if parallel:
        _MANIFESTS = manifests
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                by_version = pool.map(_validate, versions, chunksize=1)
        finally:
            _MANIFESTS = ()
    else:
        by_version = [[schema_problems(m, version) for m in manifests] for version in versions]
    return [line for index in range(len(manifests)) for found in by_version for line in found[index]]


def _phase(raw: dict[str, Any]) -> Phase | None:
    try:
        return Phase(raw.get("phase"))
    except ValueError:
        return None


def _expected_confirmation(raw: dict[str, Any]) -> str | None:
    cluster, pool = raw.get("cluster"), raw.get("legacyPool")
    if isinstance(cluster, dict) and isinstance(pool, dict):
        return f"{cluster.get('name')}/{pool.get('name')}"
    return None


def transition_problems(source: dict[str, Any], target: dict[str, Any]) -> tuple[list[str], str]:
    """Problems of moving from `source` to `target` (raw configs), and a one-line description."""
    before, after = _phase(source), _phase(target)
    if before is None or after is None:
        bad = "source" if before is None else "target"
        return [f"transition: the {bad} phase is not one of {', '.join(p.value for p in Phase)}"], ""
    problems = []
    step = after.index - before.index
    if step == 0:
        what = f"no phase change ({after.value})"
    elif step == 1:
        what = f"{before.value} → {after.value}"
    elif step > 1:
        skipped = [p.value for p in list(Phase)[before.index + 1 : after.index]]
        what = f"{before.value} → {after.value}"
        problems.append(
            f"transition {what} skips {', '.join(skipped)}: apply one phase at a time "
            f"(next is {list(Phase)[before.index + 1].value})"
        )
    elif before is Phase.DECOMMISSION:
        what = f"{before.value} → {after.value}"
        problems.append(
            f"transition {what} is impossible: decommission deleted the WASI pool and the legacy "
            "Deployments for good; there is nothing to roll back to"
        )
    else:
        what = f"rollback {before.value} → {after.value}"
    if after is Phase.DECOMMISSION and before is not Phase.DECOMMISSION:
        expected = _expected_confirmation(target)
        confirm = (
            (target.get("decommission") or {}).get("confirm")
            if isinstance(target.get("decommission"), dict)
            else None
        )
        if confirm != expected:
            problems.append(
                f"transition {what} is irreversible and unconfirmed: set decommission.confirm to "
                f"{echo(expected, 200)} (got {echo(confirm)})"
            )
        else:
            what += f" (irreversible; confirmed for {escape(str(confirm))})"
    if step != 0:
        for key in sorted((source.keys() | target.keys()) - set(PHASE_KEYS)):
            if source.get(key) != target.get(key):
                problems.append(
                    f"transition {what}: `{escape(str(key), ECHO_CHARS)}` changes together with the phase; "
                    f"change only {' and '.join(PHASE_KEYS)} in a phase step and ship other changes "
                    "separately"
                )
    return problems, what


def check(loaded: Loaded, versions: tuple[str, ...] = KUBERNETES_VERSIONS) -> list[str]:
    config = loaded.migration.config
    problems = []
    if config.cluster.kubernetes_version not in KUBERNETES_VERSIONS:
        problems.append(
            f"{loaded.path}: cluster.kubernetesVersion: no schemas for Kubernetes "
            f"{config.cluster.kubernetes_version}; supported: {', '.join(KUBERNETES_VERSIONS)}"
        )
    problems += [f"{loaded.path}: schema: {escape(line)}" for line in schema_check(loaded.state, versions)]
    problems += [f"{loaded.path}: scheduling: {line}" for line in scheduling_problems(config, loaded.state)]
    return problems
