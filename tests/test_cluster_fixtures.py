"""The cluster exports under tests/fixtures/clusters are what `migrate init` reads in tests and what the
phases are walked from, so they must stay what they claim to be: one `kubectl get ... -A -o yaml` List of
an AKS cluster with a WASI node pool, in kubectl's layout, every object valid for every supported
Kubernetes version (custom resources against their CRD's own schema), owners, nodes and node pools that
agree with each other, and a README that accounts for every file."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv
import pytest
import yaml
from referencing import Registry, Resource

from components.core.identifiers import CRD_DIR, go_pattern_validator
from components.core.inputs import load_yaml_documents
from components.export.schemas import KUBERNETES_VERSIONS, strict
from migrate.init.kubectl_list import split_list
from tests.test_fixture_environments import SERVER_WRITTEN, problems_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = FIXTURES / "clusters"
ENVIRONMENTS = sorted(path.name for path in ROOT.iterdir() if path.is_dir())
_OBJECT_META = (
    "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)

# The command docs/real-clusters.md (and this directory's README) gives users. kubectl prints the types
# in the order `kubectl api-resources` lists them (API groups by the API server's group priority, CRD
# groups after the built-in ones, by name; resources of a group alphabetically), each type's items by
# namespace, then name.
EXPORT_RESOURCES = (
    r"deployments\.apps|replicasets\.apps|statefulsets\.apps|daemonsets\.apps|cronjobs\.batch|jobs\.batch|"
    r"pods|services|horizontalpodautoscalers\.autoscaling|poddisruptionbudgets\.policy|"
    r"networkpolicies\.networking\.k8s\.io|ingresses\.networking\.k8s\.io|"
    r"httproutes\.gateway\.networking\.k8s\.io|runtimeclasses\.node\.k8s\.io|scaledobjects\.keda\.sh|"
    r"servicemonitors\.monitoring\.coreos\.com|podmonitors\.monitoring\.coreos\.com|nodes|namespaces"
)
KIND_ORDER = (
    "Namespace",
    "Node",
    "Pod",
    "Service",
    "DaemonSet",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "CronJob",
    "Job",
    "Ingress",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "RuntimeClass",
    "HTTPRoute",
    "ScaledObject",
    "PodMonitor",
    "ServiceMonitor",
)
CLUSTER_SCOPED = {"Namespace", "Node", "RuntimeClass"}
# Custom resources the export may hold, checked against their CRD's own schema (HTTPRoute and
# ServiceMonitor go through problems_of, which already does that).
CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): CRD_DIR / "keda.sh_scaledobjects.yaml",
}
AKS_WASI_LABELS = (
    "kubernetes.azure.com/wasmtime-spin-v1",
    "kubernetes.azure.com/wasmtime-spin-v2",
    "kubernetes.azure.com/wasmtime-slight-v1",
)
AGENTPOOL_LABELS = ("kubernetes.azure.com/agentpool", "agentpool")
COMMIT = re.compile(r"\b[0-9a-f]{40}\b")


@cache
def export_text(env: str) -> str:
    return (ROOT / env / "export.yaml").read_text()


@cache
def _export(env: str) -> dict[str, Any]:
    documents = load_yaml_documents(export_text(env))
    assert len(documents) == 1, f"{env}: export.yaml holds {len(documents)} YAML documents"
    return documents[0]


def export(env: str) -> dict[str, Any]:
    return copy.deepcopy(_export(env))


def node_pools(env: str) -> list[dict[str, Any]]:
    return json.loads((ROOT / env / "node-pools.json").read_text())


def readme(env: str) -> str:
    return (ROOT / env / "README.md").read_text()


# --- custom resources ------------------------------------------------------------------------------


@cache
def _crd_validator(api_version: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    """The CRD's schema for the served version, made strict as components.export.schemas makes the
    HTTPRoute's; the CRD leaves metadata open, so it is checked as the API server does: as ObjectMeta."""
    crd = yaml.safe_load(CRDS[(api_version, kind)].read_text())
    served = api_version.split("/")[1]
    schema = strict(
        next(v for v in crd["spec"]["versions"] if v["name"] == served)["schema"]["openAPIV3Schema"]
    )
    schema["properties"].update(
        apiVersion={"const": api_version}, kind={"const": kind}, metadata={"$ref": _OBJECT_META}
    )
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind", "metadata"})
    definitions = kv.schema_contents(
        f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version
    )
    return go_pattern_validator(schema, registry=Resource.from_contents(definitions) @ Registry())


def object_problems(obj: dict[str, Any], version: str) -> list[str]:
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key not in CRDS:
        return problems_of(obj, version)
    errors = _crd_validator(*key, version).iter_errors(obj)
    return [
        f"{obj['kind']}: {'.'.join(map(str, e.absolute_path)) or '(object)'}: {e.message}"
        for e in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))
    ]


# --- consistency checks, as functions so the tests below can show they fail --------------------------


def owner_problems(items: list[dict[str, Any]], readme_text: str) -> list[str]:
    """Every ownerReference names an object of that kind, name and uid in the export (in the owned
    object's namespace unless the owner is cluster-scoped); owners of kinds the export does not list
    must be named in the README."""
    by_uid = {o["metadata"]["uid"]: o for o in items}
    problems = []
    for obj in items:
        meta = obj["metadata"]
        for ref in meta.get("ownerReferences", []):
            where = f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}"
            if ref["kind"] not in KIND_ORDER:
                if f"`{ref['kind']}`" not in readme_text:
                    problems.append(
                        f"{where}: owner kind {ref['kind']} is not exported and not in the README"
                    )
                continue
            owner = by_uid.get(ref["uid"])
            if owner is None:
                problems.append(f"{where}: no object with uid {ref['uid']} ({ref['kind']} {ref['name']})")
                continue
            owner_ns = owner["metadata"].get("namespace")
            same_ns = owner["kind"] in CLUSTER_SCOPED or owner_ns == meta.get("namespace")
            named = (owner["apiVersion"], owner["kind"], owner["metadata"]["name"])
            if named != (ref["apiVersion"], ref["kind"], ref["name"]) or not same_ns:
                problems.append(
                    f"{where}: ownerReference {ref} does not match {owner['kind']} {owner['metadata']}"
                )
    return problems


def naming_problems(items: list[dict[str, Any]]) -> list[str]:
    """ReplicaSets are `<deployment>-<pod-template-hash>` with that hash in their labels and selector;
    their Pods are `<replicaset>-<5 characters>`, carry the hash and every label of the template."""
    by_uid = {o["metadata"]["uid"]: o for o in items}
    problems = []
    for obj in items:
        meta = obj["metadata"]
        refs = [r for r in meta.get("ownerReferences", []) if r.get("controller")]
        owner = by_uid.get(refs[0]["uid"]) if refs else None
        if obj["kind"] == "ReplicaSet" and owner and owner["kind"] == "Deployment":
            h = meta["labels"].get("pod-template-hash")
            if meta["name"] != f"{owner['metadata']['name']}-{h}":
                problems.append(f"ReplicaSet {meta['name']}: not <deployment>-<pod-template-hash>")
            if obj["spec"]["selector"]["matchLabels"].get("pod-template-hash") != h:
                problems.append(f"ReplicaSet {meta['name']}: selector without its pod-template-hash")
            revision = "deployment.kubernetes.io/revision"
            serving = meta["annotations"].get(revision) == owner["metadata"]["annotations"].get(revision)
            template_labels = set(obj["spec"]["template"]["metadata"]["labels"]) - {"pod-template-hash"}
            if serving and template_labels != set(owner["spec"]["template"]["metadata"]["labels"]):
                problems.append(f"ReplicaSet {meta['name']}: template labels differ from the Deployment's")
        if obj["kind"] == "Pod" and owner and owner["kind"] == "ReplicaSet":
            rs = owner["metadata"]["name"]
            if not re.fullmatch(re.escape(rs) + r"-[bcdfghjklmnpqrstvwxz2456789]{5}", meta["name"]):
                problems.append(f"Pod {meta['name']}: not <replicaset>-<5 characters>")
            template_labels = owner["spec"]["template"]["metadata"]["labels"]
            if any(meta["labels"].get(k) != v for k, v in template_labels.items()):
                problems.append(f"Pod {meta['name']}: lacks labels of its ReplicaSet's template")
    return problems


# --- the tests ----------------------------------------------------------------------------------------


def test_there_are_environments_and_the_readme_gives_the_export_command() -> None:
    assert len(ENVIRONMENTS) >= 8, ENVIRONMENTS
    assert f"grep -xE '{EXPORT_RESOURCES}'" in (ROOT / "README.md").read_text()
    assert (
        f"grep -xE '{EXPORT_RESOURCES}'" in (FIXTURES.parent.parent / "docs" / "real-clusters.md").read_text()
    )
    assert len(EXPORT_RESOURCES.split("|")) == len(KIND_ORDER)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_export_is_one_kubectl_list_in_kubectl_layout(env: str) -> None:
    document = export(env)
    assert document["apiVersion"] == "v1" and document["kind"] == "List", env
    assert document["metadata"] == {"resourceVersion": ""}, env
    items = document["items"]
    assert items and all(isinstance(o, dict) for o in items), env
    # kubectl's layout (items at column 0, their keys at column 2), as migrate/init/kubectl_list.py reads it
    split = split_list(export_text(env))
    assert split is not None, f"{env}: not in kubectl's layout"
    assert [item.kind for item in split[1]] == [o["kind"] for o in items], env
    # grouped by type in api-resources order, then namespace, then name
    keys = [
        (KIND_ORDER.index(o["kind"]), o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for o in items
    ]
    assert keys == sorted(keys), f"{env}: items are not in kubectl's order"
    assert len(set(keys)) == len(keys), f"{env}: an object appears twice"
    uids = [o["metadata"]["uid"] for o in items]
    assert len(set(uids)) == len(uids), f"{env}: a uid is used twice"
    for obj in items:
        where = (env, obj["kind"], obj["metadata"]["name"])
        assert all(key in obj["metadata"] for key in SERVER_WRITTEN), where
        assert ("namespace" in obj["metadata"]) == (obj["kind"] not in CLUSTER_SCOPED), (env, obj["kind"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_strictly(env: str, version: str) -> None:
    problems = [
        f"{o['kind']} {o['metadata'].get('namespace', '')}/{o['metadata']['name']}: {p}"
        for o in export(env)["items"]
        for p in object_problems(o, version)
    ]
    assert problems == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_owner_references_point_into_the_export(env: str) -> None:
    assert owner_problems(export(env)["items"], readme(env)) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_replicasets_and_pods_are_named_and_labelled_by_their_controllers(env: str) -> None:
    assert naming_problems(export(env)["items"]) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_pods_run_on_exported_nodes(env: str) -> None:
    items = export(env)["items"]
    nodes = {o["metadata"]["name"] for o in items if o["kind"] == "Node"}
    assert nodes, env
    pods = [o for o in items if o["kind"] == "Pod"]
    assert pods, env
    assert [p["metadata"]["name"] for p in pods if p["spec"].get("nodeName") not in nodes] == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nodes_belong_to_the_node_pools(env: str) -> None:
    pools = {p["name"]: p for p in node_pools(env)}
    assert all(
        isinstance(p, dict) and p.get("type") == "Microsoft.ContainerService/managedClusters/agentPools"
        for p in pools.values()
    ), env
    assert any(p["workloadRuntime"] == "WasmWasi" for p in pools.values()), f"{env}: no WASI pool"
    nodes = [o for o in export(env)["items"] if o["kind"] == "Node"]
    counts: dict[str, int] = {}
    for node in nodes:
        labels = node["metadata"]["labels"]
        pool = labels[AGENTPOOL_LABELS[0]]
        assert labels[AGENTPOOL_LABELS[1]] == pool, node["metadata"]["name"]
        assert pool in pools, f"{node['metadata']['name']}: pool {pool} not in node-pools.json"
        assert node["metadata"]["name"].startswith(f"aks-{pool}-"), node["metadata"]["name"]
        assert labels["kubernetes.azure.com/node-image-version"] == pools[pool]["nodeImageVersion"]
        assert labels["node.kubernetes.io/instance-type"] == pools[pool]["vmSize"]
        taints = [f"{t['key']}={t['value']}:{t['effect']}" for t in node["spec"].get("taints", [])]
        assert taints == (pools[pool]["nodeTaints"] or []), node["metadata"]["name"]
        counts[pool] = counts.get(pool, 0) + 1
    assert counts == {name: p["count"] for name, p in pools.items()}, env


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_wasi_pool_nodes_carry_the_aks_wasi_labels(env: str) -> None:
    wasi = {p["name"] for p in node_pools(env) if p["workloadRuntime"] == "WasmWasi"}
    for node in (o for o in export(env)["items"] if o["kind"] == "Node"):
        labels = node["metadata"]["labels"]
        on_wasi = labels[AGENTPOOL_LABELS[0]] in wasi
        assert all((labels.get(k) == "true") == on_wasi for k in AKS_WASI_LABELS), node["metadata"]["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_readme_names_every_file_and_a_pinned_source(env: str) -> None:
    text = readme(env)
    files = [p.name for p in sorted((ROOT / env).iterdir()) if p.name != "README.md"]
    assert files, env
    assert [f for f in files if f"`{f}`" not in text] == []
    assert COMMIT.search(text), f"{env}: README names no source commit"


# --- the checks catch what they are for ---------------------------------------------------------------


def _first_env_with(kind: str) -> str:
    return next(e for e in ENVIRONMENTS if any(o["kind"] == kind for o in _export(e)["items"]))


def test_owner_check_catches_a_broken_uid_and_an_unnamed_owner_kind() -> None:
    env = _first_env_with("ReplicaSet")
    items = export(env)["items"]
    pod = next(o for o in items if o["kind"] == "Pod" and o["metadata"].get("ownerReferences"))
    pod["metadata"]["ownerReferences"][0]["uid"] = "00000000-0000-4000-8000-000000000000"
    rs = next(o for o in items if o["kind"] == "ReplicaSet")
    rs["metadata"]["ownerReferences"][0]["kind"] = "Rollout"
    problems = owner_problems(items, readme(env))
    assert len(problems) == 2, problems
    assert "no object with uid 00000000-0000-4000-8000-000000000000" in problems[1] + problems[0]
    assert any("owner kind Rollout is not exported and not in the README" in p for p in problems)


def test_naming_check_catches_a_pod_without_its_template_labels() -> None:
    items = export(_first_env_with("ReplicaSet"))["items"]
    pod = next(o for o in items if o["kind"] == "Pod" and o["metadata"]["labels"].get("pod-template-hash"))
    del pod["metadata"]["labels"]["pod-template-hash"]
    assert naming_problems(items) == [
        f"Pod {pod['metadata']['name']}: lacks labels of its ReplicaSet's template"
    ]


def test_scaledobject_check_is_strict() -> None:
    (scaled,) = [o for o in export(_first_env_with("ScaledObject"))["items"] if o["kind"] == "ScaledObject"]
    assert object_problems(scaled, "1.33") == []
    scaled["spec"]["maxReplicas"] = 30
    scaled["spec"]["triggers"][0]["authenticationRef"]["nmae"] = "x"
    assert object_problems(scaled, "1.33") == [
        "ScaledObject: spec: Additional properties are not allowed ('maxReplicas' was unexpected)",
        "ScaledObject: spec.triggers.0.authenticationRef: Additional properties are not allowed "
        "('nmae' was unexpected)",
    ]
