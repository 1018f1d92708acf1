"""A workload that must never run two copies (strategy Recreate, a writable volume holding state) moves
stop-then-start: no new pod before cutover, then the legacy pods stop, a gate Job waits until they are
gone (terminating ones too), and only then do the new pods start; the way back stops the new pods the
same way before the legacy ones start again. The interruption is a warning, never a surprise."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from components.core.config import ConfigError, Phase
from components.desired import build_desired_state
from components.loading import load_migration
from migrate.check import transition_capacity_problems, transition_capacity_warnings
from migrate.state import Loaded
from tests.conftest import ROOT, load_raw, phase_path

HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"
STATE_VOLUME = {"name": "data", "persistentVolumeClaim": {"claimName": "hello-data"}}


def _recreated(project_dir: Path, **template_changes) -> str:
    listing = yaml.safe_load(HELLO.read_text())
    deployment = listing["items"][0]
    deployment["spec"]["replicas"] = 1
    deployment["spec"]["strategy"] = {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    pod["volumes"] = [STATE_VOLUME]
    pod["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    pod.update(template_changes)
    path = project_dir / "hello.yaml"
    path.write_text(yaml.safe_dump(listing))
    return str(path.relative_to(ROOT))


def _raw(project_dir: Path, phase: Phase, weight: int | None = None, **workload) -> dict:
    raw = copy.deepcopy(load_raw(phase_path(phase, weight)))
    raw["workloads"] = [{**raw["workloads"][0], "manifest": _recreated(project_dir), **workload}]
    return raw


def _state(raw: dict):
    migration = load_migration(raw)
    return migration, build_desired_state(migration)


def test_the_export_says_it_must_not_run_twice(project_dir):
    migration, _ = _state(_raw(project_dir, Phase.BASELINE))
    (legacy,) = migration.workloads
    assert legacy.single_copy == (
        "strategy Recreate: its pods must not overlap",
        "volume data (persistentVolumeClaim hello-data) is mounted writable by hello-spin",
    )
    assert legacy.stop_then_start
    allowed, _ = _state(_raw(project_dir, Phase.BASELINE, sideBySide=True))
    assert not allowed.workloads[0].stop_then_start


@pytest.mark.parametrize(
    ("phase", "weight"), [(Phase.PREPARE, None), (Phase.PARALLEL, 0), (Phase.PARALLEL, 100)]
)
def test_no_new_pod_runs_before_cutover(project_dir, phase, weight):
    _, state = _state(_raw(project_dir, phase, weight))
    new = state.by_name()["web/hello-spin/wasm-deployment"].inputs
    assert new["spec"]["replicas"] == 0
    assert new["spec"]["strategy"] == {"type": "Recreate"}  # its own rollouts never run two copies either
    assert "web/hello-spin/verify-job" not in state.by_name()  # nothing to compare side by side


def test_cutover_stops_the_legacy_pods_and_waits_until_they_are_gone(project_dir):
    _, state = _state(_raw(project_dir, Phase.CUTOVER))
    specs = state.by_name()
    assert specs["web/hello-spin/legacy-replicas"].inputs["spec"] == {"replicas": 0}
    job = specs["web/hello-spin/stop-gate-job"]
    assert "web/hello-spin/legacy-replicas" in job.depends_on
    settings = job.inputs["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"]
    assert '"selector": "app=hello-spin,!aks-wasm-migration/instance"' in settings
    deployment = specs["web/hello-spin/wasm-deployment"]
    assert "web/hello-spin/stop-gate-job" in deployment.depends_on
    assert deployment.inputs["spec"]["replicas"] == 1


def test_the_way_back_stops_the_new_pods_before_the_legacy_ones_start(project_dir):
    _, state = _state(_raw(project_dir, Phase.PARALLEL, 100))
    specs = state.by_name()
    job = specs["web/hello-spin/stop-gate-job"]
    assert "web/hello-spin/wasm-deployment" in job.depends_on
    settings = job.inputs["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"]
    assert '"selector": "aks-wasm-migration/instance=hello-spin-spin"' in settings
    assert "web/hello-spin/stop-gate-job" in specs["web/hello-spin/legacy-replicas"].depends_on


def _loaded(raw: dict) -> Loaded:
    migration, state = _state(raw)
    return Loaded(Path("stack.yaml"), raw, migration, state)


@pytest.mark.parametrize("back", [False, True], ids=["cutover", "the way back"])
def test_the_interruption_is_a_warning_not_a_refusal(project_dir, back):
    parallel = _loaded(_raw(project_dir, Phase.PARALLEL, 100))
    cutover = _loaded(_raw(project_dir, Phase.CUTOVER))
    source, target = (cutover, parallel) if back else (parallel, cutover)
    assert transition_capacity_problems(source, target, "step") == []
    warnings = transition_capacity_warnings(source, target)
    assert warnings and all("must never run two copies (strategy Recreate" in w for w in warnings)
    assert any("Service web/hello-spin reaches 0 Ready pods" in w for w in warnings)


def test_an_autoscaled_workload_that_must_not_run_twice_is_a_decision(project_dir):
    raw = _raw(project_dir, Phase.BASELINE)
    listing = yaml.safe_load((ROOT / raw["workloads"][0]["manifest"]).read_text())
    listing["items"].append(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "hello-spin", "namespace": "web"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hello-spin"},
                "minReplicas": 1,
                "maxReplicas": 3,
            },
        }
    )
    (ROOT / raw["workloads"][0]["manifest"]).write_text(yaml.safe_dump(listing))
    with pytest.raises(ConfigError) as refused:
        load_migration(raw)
    assert refused.value.problems[0].startswith("workloads[0].sideBySide: it must never run two copies")
