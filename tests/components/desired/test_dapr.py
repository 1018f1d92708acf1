"""A Dapr app (dapr.io/enabled with an app-id on its pod template): before the new pods serve they run
without the sidecar when `daprBeforeServing: withoutSidecar` (with it they would join the app-id's
pub/sub consumer groups, input bindings and actor placement: production work, unverified); the choice
is required; and in decommission the new Deployment's metadata changes, so Dapr's operator makes it the
owner of `<app-id>-dapr` before the legacy Deployment (and with it, by garbage collection, whatever it
owns) is deleted: the engine deletes after every create and update."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from components.core.config import ConfigError, Phase
from components.desired import build_desired_state
from components.loading import load_migration
from tests.conftest import ROOT, load_raw, phase_path

HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"
NEW = "web/hello-spin/wasm-deployment"


def _dapr_app(project_dir: Path) -> str:
    listing = yaml.safe_load(HELLO.read_text())
    template = listing["items"][0]["spec"]["template"]["metadata"]
    template["annotations"] = {
        **(template.get("annotations") or {}),
        "dapr.io/enabled": "true",
        "dapr.io/app-id": "hello",
        "dapr.io/app-port": "80",
    }
    path = project_dir / "hello-dapr.yaml"
    path.write_text(yaml.safe_dump(listing))
    return str(path.relative_to(ROOT))


def _state(project_dir: Path, phase: Phase, weight: int | None = None, **workload):
    raw = copy.deepcopy(load_raw(phase_path(phase, weight)))
    raw["workloads"] = [{**raw["workloads"][0], "manifest": _dapr_app(project_dir), **workload}]
    return build_desired_state(load_migration(raw)).by_name()


def _pod_annotations(state) -> dict[str, str]:
    return state[NEW].inputs["spec"]["template"]["metadata"].get("annotations") or {}


def test_the_choice_is_required(project_dir):
    with pytest.raises(ConfigError) as refused:
        _state(project_dir, Phase.PREPARE)
    assert any(
        line.startswith("workloads[0].daprBeforeServing: is required") for line in refused.value.problems
    )


STEPS = [(Phase.PARALLEL, 0), (Phase.PARALLEL, 50), (Phase.PARALLEL, 100), (Phase.CUTOVER, None)]


@pytest.mark.parametrize(("phase", "weight"), STEPS)
def test_without_sidecar_until_the_pods_serve(project_dir, phase, weight):
    annotations = _pod_annotations(_state(project_dir, phase, weight, daprBeforeServing="withoutSidecar"))
    serving = weight != 0
    # Dapr's injector reads dapr.io/enabled (dapr/dapr pkg/injector/patcher/sidecar.go): "false": no daprd
    assert annotations["dapr.io/enabled"] == ("true" if serving else "false")


@pytest.mark.parametrize(("phase", "weight"), STEPS)
def test_with_sidecar_from_the_start(project_dir, phase, weight):
    annotations = _pod_annotations(_state(project_dir, phase, weight, daprBeforeServing="withSidecar"))
    assert annotations["dapr.io/enabled"] == "true"
    assert annotations["dapr.io/app-id"] == "hello"


def test_decommission_hands_the_dapr_service_to_the_new_deployment_before_deleting_the_legacy_one(
    project_dir,
):
    cutover = _state(project_dir, Phase.CUTOVER, daprBeforeServing="withoutSidecar")
    decommission = _state(project_dir, Phase.DECOMMISSION, daprBeforeServing="withoutSidecar")
    before, after = cutover[NEW].inputs, decommission[NEW].inputs
    # An update of the new Deployment's own metadata (the operator reconciles on it), no pod template
    # change (no rollout)...
    assert before["metadata"]["annotations"] != after["metadata"]["annotations"]
    assert before["spec"] == after["spec"]
    # ...while the legacy Deployment leaves the program: deleted after every update of the step.
    assert "web/hello-spin/legacy-deployment" in cutover
    assert "web/hello-spin/legacy-deployment" not in decommission


def test_the_diff_names_the_flip_and_how_to_confirm_the_hand_over(project_dir, capsys):
    from migrate.__main__ import main
    from tests.migrate.test_diff import write_stack

    manifest = _dapr_app(project_dir)
    paths = []
    for phase in (Phase.CUTOVER, Phase.DECOMMISSION):
        raw = copy.deepcopy(load_raw(phase_path(phase)))
        raw["workloads"][0] = {
            **raw["workloads"][0],
            "manifest": manifest,
            "daprBeforeServing": "withSidecar",
        }
        paths.append(write_stack(project_dir / f"{phase.value}.yaml", raw))
    capsys.readouterr()
    main(["diff", str(paths[0]), str(paths[1]), "--max-chars", "0"])
    out = capsys.readouterr().out
    (line,) = [item for item in out.splitlines() if "Dapr's operator" in item]
    assert line.startswith("  - `web/hello-spin`: Dapr's operator points Service `hello-dapr`")
    assert "`kubectl get service hello-dapr -n web -o jsonpath={.metadata.ownerReferences[0].name}`" in line
    assert line.endswith("(expect `hello-spin-spin`)")
