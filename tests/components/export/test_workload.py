"""Legacy manifests are read as `kubectl get -o yaml` writes them and checked before anything runs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from components.core.config import ConfigError, Phase
from components.export.workload import strip_server_fields
from components.loading import load_migration
from tests.conftest import ROOT, load_raw, phase_path

BASE = load_raw(phase_path(Phase.BASELINE))
HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"


def _with_manifest(tmp_path: Path, text: str, **workload) -> dict:
    (tmp_path / "app.yaml").write_text(text)
    raw = copy.deepcopy(BASE)
    raw["workloads"] = [{**raw["workloads"][0], "manifest": "app.yaml", **workload}]
    return raw


def _problems(raw: dict, base_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_migration(raw, base_dir)
    return caught.value.problems


def test_server_set_fields_are_stripped():
    exported = yaml.safe_load(HELLO.read_text())["items"][0]
    clean = strip_server_fields(exported)
    assert "status" not in clean
    for key in ("managedFields", "uid", "resourceVersion", "creationTimestamp", "generation", "annotations"):
        assert key not in clean["metadata"], key
    assert "creationTimestamp" not in clean["spec"]["template"]["metadata"]
    assert clean["spec"]["template"]["spec"] == exported["spec"]["template"]["spec"]
    assert exported["status"], "the input must not be modified"


def test_reference_workloads_load(tmp_path):
    migration = load_migration(BASE)
    assert [w.config.key for w in migration.workloads] == [
        "web/hello-spin",
        "shop/orders-api",
        "shop/inventory",
    ]
    assert [w.runtime_class for w in migration.workloads] == [
        "wasmtime-spin-v2",
        "wasmtime-spin-v1",
        "wasmtime-slight-v1",
    ]


def test_spiderlightning_without_a_replacement_image_is_rejected(tmp_path):
    text = (ROOT / "manifests/legacy/shop/inventory.yaml").read_text()
    raw = _with_manifest(tmp_path, text, name="inventory", namespace="shop", image=None)
    assert _problems(raw, tmp_path) == [
        "workloads[0].image: shop/inventory runs on wasmtime-slight-v1 (SpiderLightning), which has no "
        "successor shim; set the image of a Spin rebuild of this app (got (not set))"
    ]


def test_missing_and_malformed_manifests_are_named(tmp_path):
    raw = copy.deepcopy(BASE)
    raw["workloads"][1]["manifest"] = "nowhere.yaml"
    assert _problems(raw, ROOT) == [
        "workloads[1].manifest: cannot read file: No such file or directory (got 'nowhere.yaml')"
    ]
    problems = _problems(_with_manifest(tmp_path, "items: [unclosed"), tmp_path)
    assert problems[0].startswith("workloads[0].manifest: not valid Kubernetes YAML")


def test_a_deployment_that_is_not_on_the_wasi_pool_is_rejected(tmp_path):
    text = HELLO.read_text().replace("runtimeClassName: wasmtime-spin-v2", "runtimeClassName: runc")
    problems = _problems(_with_manifest(tmp_path, text), tmp_path)
    assert problems[0].startswith("workloads[0].manifest: the Deployment does not run Wasm on a WASI pool")
    assert "(got 'runc')" in problems[0]


def test_namespace_and_name_must_match_the_manifest(tmp_path):
    problems = _problems(
        _with_manifest(tmp_path, HELLO.read_text(), namespace="shop", name="hello"), tmp_path
    )
    assert problems[0] == "workloads[0].namespace: Deployment hello-spin is in 'web' (got 'shop')"
    assert any(
        p.startswith("workloads[0].name: the Deployment in app.yaml is named 'hello-spin'") for p in problems
    )


def test_service_selector_must_match_the_pods(tmp_path):
    text = HELLO.read_text().replace(
        "    selector:\n      app: hello-spin\n", "    selector:\n      app: other\n"
    )
    problems = _problems(_with_manifest(tmp_path, text), tmp_path)
    assert problems == [
        "workloads[0].manifest: no Service in it selects the Deployment's pods: the migration keeps a "
        "Service's address and moves its endpoints, so export the Service users reach with the Deployment "
        "(got 'app.yaml')"
    ]


def test_krustlet_era_pods_are_recognised(tmp_path):
    text = HELLO.read_text().replace(
        "runtimeClassName: wasmtime-spin-v2",
        "nodeSelector:\n          kubernetes.io/arch: wasm32-wagi\n        hostNetwork: true",
    )
    migration = load_migration(_with_manifest(tmp_path, text), tmp_path)
    assert migration.workloads[0].runtime_class is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: hello\n"
            "spec: {selector: {}, template: {}}\n---\n"
            "apiVersion: v1\nkind: Service\nmetadata: {name: hello-spin}\nspec: {ports: [{port: 80}]}\n",
            "Deployment ? (Kubernetes 1.33): metadata: 'hello' is not of type 'object', 'null'",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hello-spin}\nspec:\n  replicas: two\n"
            "  selector: {matchLabels: {app: a}}\n  template: {metadata: {labels: {app: a}}, spec: "
            "{runtimeClassName: wasmtime-spin-v2, containers: [{name: c, image: i}]}}\n---\n"
            "apiVersion: v1\nkind: Service\nmetadata: {name: hello-spin}\n"
            "spec: {selector: {app: a}, ports: [80]}\n",
            "Deployment hello-spin (Kubernetes 1.33): spec.replicas: 'two' is not of type 'integer', 'null'",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hello-spin}\nspec:\n"
            "  selector: {matchLabels: {app: a}}\n  template: {metadata: {labels: {app: a}}}\n---\n"
            "apiVersion: v1\nkind: Service\nmetadata: {name: hello-spin}\nspec: {selector: {app: a}}\n",
            "spec.template.spec.containers: a pod needs at least one container, as the API server says",
        ),
        (
            "kind: List\nitems: [1, 2]\n",
            "not valid Kubernetes YAML: each YAML document must be a Kubernetes object",
        ),
    ],
    ids=["metadata-not-a-mapping", "wrong-types", "no-pod-spec", "list-of-scalars"],
)
def test_malformed_exports_are_reported_not_crashed_on(tmp_path, text, expected):
    problems = _problems(_with_manifest(tmp_path, text), tmp_path)
    assert any(expected in line for line in problems), problems
    assert all(line.startswith("workloads[0].manifest: ") for line in problems)


HPA = """- apiVersion: autoscaling/v2
  kind: HorizontalPodAutoscaler
  metadata:
    name: hello-spin
    namespace: web
  spec:
    scaleTargetRef:
      apiVersion: apps/v1
      kind: Deployment
      name: hello-spin
    minReplicas: 2
    maxReplicas: 6
    metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
"""

SCALED_BY_HPA = """    - apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec:
          f:replicas: {}
      manager: kube-controller-manager
      operation: Update
      subresource: scale
      time: "2024-05-02T10:11:12Z"
"""


def test_the_hpa_that_scales_the_deployment_comes_with_it(tmp_path):
    """An HPA in the export is translated, not refused, also when managedFields show it at work."""
    text = HELLO.read_text().replace("items:\n", "items:\n" + HPA, 1)
    text = text.replace("    managedFields:\n", "    managedFields:\n" + SCALED_BY_HPA, 1)
    (legacy,) = load_migration(_with_manifest(tmp_path, text), tmp_path).workloads
    assert legacy.autoscaler is not None and legacy.autoscaler["metadata"]["name"] == "hello-spin"


def test_an_autoscaler_missing_from_the_export_is_refused(tmp_path):
    text = HELLO.read_text().replace("    managedFields:\n", "    managedFields:\n" + SCALED_BY_HPA, 1)
    problems = _problems(_with_manifest(tmp_path, text), tmp_path)
    assert "'kube-controller-manager' through the scale subresource" in problems[0]
    assert "export its HorizontalPodAutoscaler (or KEDA ScaledObject) with the Deployment" in problems[0]


def test_kubectl_scale_is_not_an_autoscaler(tmp_path):
    text = HELLO.read_text().replace(
        "    managedFields:\n",
        "    managedFields:\n" + SCALED_BY_HPA.replace("kube-controller-manager", "kubectl"),
        1,
    )
    assert load_migration(_with_manifest(tmp_path, text), tmp_path).workloads
