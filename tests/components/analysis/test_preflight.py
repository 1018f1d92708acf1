"""The preflight on the reference stack with the exports of tests/fixtures/azure: each finding's outcome
and what it names, expected from what each fixture says (its version, its Safeguards, the Gateway API
versions its CRDs serve, the add-ons' arguments), and `check` refusing the phases the cluster would
refuse, and only those."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.analysis.preflight import Outcome, parse_allowlist, preflight
from components.analysis.traffic import analysed_state
from components.core.config import Phase
from components.desired.alerts import alert_rules
from components.export.aks import aks_facts
from components.export.cluster import ClusterExport, ClusterReads, read_crds
from components.export.guardrails import read_guardrails
from components.export.migration import Migration
from components.loading import aci_problems, load_migration
from migrate.check import check
from migrate.state import Loaded
from tests.conftest import ROOT, load_raw, phase_path

AZURE = ROOT / "tests" / "fixtures" / "azure"


def aks_json(name: str = "aks-no-safeguards.json", **changes: Any) -> dict[str, Any]:
    cluster = json.loads((AZURE / name).read_text())
    cluster.update(changes)
    return cluster


def reads(
    aks: dict[str, Any] | None = None, policies: str | None = None, crds: str | None = None
) -> ClusterReads:
    """What loading makes of the exports, from the same functions loading calls."""
    guardrails = read_guardrails(
        json.dumps(aks) if aks is not None else None,
        (AZURE / policies).read_text() if policies else None,
        ("aks.json", "policies.json"),
    )
    return ClusterReads(
        aks_facts(aks) if aks is not None else None,
        tuple(guardrails),
        policies is not None,
        read_crds((AZURE / crds).read_text(), crds) if crds else None,
    )


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


ADDONS = yaml.safe_load((AZURE / "addons-kube-system.yaml").read_text())["items"]
NAMESPACES = [namespace(n) for n in ("default", "kube-system", "web", "shop")]


def loaded(
    phase: Phase,
    cluster_reads: ClusterReads | None = None,
    objects: list[dict[str, Any]] | None = None,
    version: str = "1.31",
    edit: Any = None,
) -> Loaded:
    """The reference stack's phase with the cluster's exports as loading would hold them."""
    raw = copy.deepcopy(load_raw(phase_path(phase)))
    raw["cluster"]["kubernetesVersion"] = version
    for pool in raw.get("targetPools", []):
        pool["orchestratorVersion"] = version
    if edit:
        edit(raw)
    migration = load_migration(raw)
    migration = replace(
        migration,
        reads=cluster_reads or ClusterReads(),
        cluster=ClusterExport(tuple(objects)) if objects is not None else None,
    )
    return Loaded(Path("stacks/prod.yaml"), raw, migration, analysed_state(migration))


def findings(load: Loaded, topic: str) -> list[tuple[Outcome, str]]:
    return [(f.outcome, f.line()) for f in preflight(load.migration, load.state) if f.topic == topic]


# -------------------------------------------------------------------------------------- version


@pytest.mark.parametrize(
    ("running", "configured", "phase", "outcome", "says"),
    [
        ("1.31.7", "1.31", Phase.PREPARE, Outcome.OK, "runs Kubernetes 1.31, as configured"),
        ("1.31.7", "1.33", Phase.PREPARE, Outcome.REFUSES, "set cluster.kubernetesVersion: '1.31'"),
        ("1.35.1", "1.34", Phase.PREPARE, Outcome.WARNS, "newer than the newest schemas check has (1.34)"),
        ("1.35.1", "1.32", Phase.PREPARE, Outcome.REFUSES, "set cluster.kubernetesVersion: '1.34'"),
    ],
)
def test_the_control_plane_version_against_the_schemas(running, configured, phase, outcome, says):
    load = loaded(phase, reads(aks_json(currentKubernetesVersion=running)), version=configured)
    [(found, line)] = findings(load, "Kubernetes version")
    assert found is outcome and says in line


def test_without_az_aks_show_the_version_is_not_known():
    [(found, line)] = findings(loaded(Phase.PREPARE), "Kubernetes version")
    assert found is Outcome.UNKNOWN and "give init --aks-cluster" in line


# ----------------------------------------------------------------------------------- guardrails


@pytest.mark.parametrize(
    ("aks", "policies", "outcomes"),
    [
        (None, None, [Outcome.UNKNOWN]),
        ("aks-no-safeguards.json", None, [Outcome.OK]),
        ("aks-safeguards-warning.json", None, [Outcome.WARNS]),
        ("aks-safeguards-shim-excluded.json", "policy-deny-privileged-shim-excluded.json", [Outcome.OK]),
        ("aks-no-safeguards.json", "policy-audit-privileged.json", [Outcome.WARNS]),
    ],
)
def test_guardrails_that_warn_or_allow_the_installer(aks, policies, outcomes):
    """Refusing guardrails never reach the preflight of a shim stack: loading refuses the config first
    (test_guardrails.py); the container target is the way through."""
    load = loaded(Phase.PREPARE, reads(aks_json(aks) if aks else None, policies))
    assert [o for o, _ in findings(load, "installer guardrails")] == outcomes


def test_a_stack_without_the_shim_has_nothing_for_guardrails_to_refuse():
    def container(raw: dict[str, Any]) -> None:
        raw["target"] = "container"
        raw["container"] = {"spinImage": {"digest": "sha256:" + "ab" * 32}}

    load = loaded(Phase.PREPARE, reads(aks_json("aks-automatic.json")), edit=container)
    [(found, line)] = findings(load, "installer guardrails")
    assert found is Outcome.OK and "no workload takes the shim" in line


# ---------------------------------------------------------------------------------- Pod Security


def test_unlabelled_namespaces_admit_every_pod_of_the_phase():
    load = loaded(Phase.CUTOVER, objects=NAMESPACES)
    assert findings(load, "Pod Security") == [
        (Outcome.OK, "Pod Security: every pod the phase creates meets its namespace's level")
    ]


def test_a_restricted_namespace_refuses_pods_that_copy_an_unhardened_template():
    """web enforces restricted: the new Deployment (the legacy template, translated) sets no
    securityContext, so the API server refuses its pods; the verification Job is hardened (non-root,
    RuntimeDefault, no capabilities) and admitted; shop is unlabelled."""
    objects = [*NAMESPACES[:2], namespace("web", **{"pod-security.kubernetes.io/enforce": "restricted"})]
    objects.append(NAMESPACES[3])
    load = loaded(Phase.CUTOVER, objects=objects)
    refused = [line for outcome, line in findings(load, "Pod Security") if outcome is Outcome.REFUSES]
    assert [re.search(r"; (\w+ web/[\w-]+) fails", line)[1] for line in refused] == [
        "Deployment web/hello-spin-spin",
    ]
    assert all("runAsNonRoot != true" in line and "seccompProfile" in line for line in refused)
    problems = check(load)
    assert (
        sum("preflight: Pod Security: namespace web enforces Pod Security restricted" in p for p in problems)
        == 1
    )


def test_the_installer_namespace_is_judged_with_the_labels_the_phase_gives_it():
    """An existing wasm-shim-system at baseline: prepare's patch labels it privileged before the
    DaemonSet's pods exist, so the installer is admitted."""
    shim = namespace("wasm-shim-system", **{"pod-security.kubernetes.io/enforce": "baseline"})
    load = loaded(Phase.PREPARE, objects=[*NAMESPACES, shim])
    assert [o for o, _ in findings(load, "Pod Security")] == [Outcome.OK]


def test_enforced_safeguards_hold_every_other_namespace_to_baseline():
    """Safeguards at Enforcement with the shim's namespace excluded: the new pods in web and shop meet
    baseline; a hostPort added to the legacy template would not."""
    cluster_reads = reads(aks_json("aks-safeguards-shim-excluded.json"))
    load = loaded(
        Phase.CUTOVER, cluster_reads, objects=NAMESPACES, edit=lambda raw: raw["traffic"].update(weight=100)
    )
    assert [o for o, _ in findings(load, "Pod Security")] == [Outcome.OK]
    hosted = _with_host_port(load)
    [(found, line)] = findings(hosted, "Pod Security")
    assert found is Outcome.REFUSES and "Deployment Safeguards enforce Pod Security baseline in web" in line


def _with_host_port(load: Loaded) -> Loaded:
    state = load.state
    specs = []
    for spec in state.resources:
        if spec.inputs.get("kind") == "Deployment" and spec.label == "Deployment web/hello-spin-spin":
            inputs = copy.deepcopy(spec.inputs)
            inputs["spec"]["template"]["spec"]["containers"][0]["ports"] = [
                {"containerPort": 80, "hostPort": 80}
            ]
            spec = replace(spec, inputs=inputs)
        specs.append(spec)
    return replace(load, state=replace(state, resources=tuple(specs)))


def test_a_warn_label_reports_without_refusing():
    web = namespace("web", **{"pod-security.kubernetes.io/warn": "restricted"})
    load = loaded(Phase.PREPARE, objects=[*NAMESPACES[:2], web, NAMESPACES[3]])
    [(found, line)] = findings(load, "Pod Security")
    assert found is Outcome.WARNS and "namespace web warns at Pod Security restricted" in line


# ---------------------------------------------------------------------------------- Gateway API


def served_httproute(name: str) -> list[str]:
    """The HTTPRoute versions a CRD fixture serves, read from the fixture."""
    items = yaml.safe_load((AZURE / name).read_text())["items"]
    crd = [i for i in items if i["metadata"]["name"] == "httproutes.gateway.networking.k8s.io"]
    return [v["name"] for v in crd[0]["spec"]["versions"] if v["served"]] if crd else []


@pytest.mark.parametrize(
    ("crds", "outcome"),
    [
        ("crds-gateway-v1.2.1.yaml", Outcome.OK),
        ("crds-gateway-v0.6.2.yaml", Outcome.REFUSES),
        ("crds-no-gateway.yaml", Outcome.REFUSES),
        (None, Outcome.UNKNOWN),
    ],
)
def test_routes_against_the_gateway_api_the_cluster_serves(crds, outcome):
    """The reference stack routes hello-spin through an HTTPRoute gateway.networking.k8s.io/v1 from
    prepare; baseline registers no route and is never refused for it."""
    load = loaded(Phase.PREPARE, reads(crds=crds))
    [(found, line)] = findings(load, "Gateway API")
    assert found is outcome
    if crds:
        assert ("v1" in served_httproute(crds)) == (found is Outcome.OK)
        if served_httproute(crds):
            assert f"serves {', '.join(served_httproute(crds))} (bundle v" in line
    problems = [p for p in check(load) if "preflight: Gateway API" in p]
    assert bool(problems) == (outcome is Outcome.REFUSES)
    assert findings(loaded(Phase.BASELINE, reads(crds=crds)), "Gateway API") == []


def test_the_crd_copy_keeps_no_schema():
    kept = read_crds((AZURE / "crds-gateway-v1.2.1.yaml").read_text(), "crds.yaml")
    assert [c["metadata"]["name"].split(".")[0] for c in kept] == [
        "gatewayclasses",
        "gateways",
        "grpcroutes",
        "httproutes",
        "referencegrants",
    ]
    assert "schema" not in yaml.safe_dump(list(kept))
    assert kept[3]["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] == "v1.2.1"


# ---------------------------------------------------------------------------------- metrics add-ons


def test_metrics_server_ready_means_memory_is_measured():
    load = loaded(Phase.CUTOVER, objects=[*NAMESPACES, *ADDONS])
    [(found, _)] = findings(load, "metrics-server")
    assert found is Outcome.OK


def test_a_missing_or_unready_metrics_server_warns():
    assert findings(loaded(Phase.CUTOVER, objects=NAMESPACES), "metrics-server")[0][0] is Outcome.WARNS
    down = copy.deepcopy(ADDONS[0])
    down["status"] = {"replicas": 2, "unavailableReplicas": 2}
    [(found, line)] = findings(loaded(Phase.CUTOVER, objects=[*NAMESPACES, down]), "metrics-server")
    assert found is Outcome.WARNS and "metrics-server is not Ready" in line


def needed_node_labels(load: Loaded) -> set[str]:
    """The node label names the alert rules read from kube-state-metrics, from the rules' text."""
    exprs = " ".join(rule.expr for rule in alert_rules(load.migration.config))
    return set(re.findall(r"kube_node_labels\{(label_[A-Za-z0-9_]+)=", exprs))


def sanitized(key: str) -> str:
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


@pytest.mark.parametrize(
    ("allowlist", "aks_allowlist", "outcome"),
    [
        ("", "", Outcome.WARNS),  # the add-on's default: no labels at all
        ("nodes=[wasm-migration.io/shim]", "", Outcome.OK),
        ("pods=[app],nodes=[*]", "", Outcome.OK),
        ("pods=[wasm-migration.io/shim]", "", Outcome.WARNS),  # the right label on the wrong resource
        ("", "nodes=[wasm-migration.io/shim]", Outcome.OK),  # az aks update --ksm-metric-labels-allow-list
    ],
)
def test_kube_state_metrics_exports_the_labels_the_alerts_read(allowlist, aks_allowlist, outcome):
    ksm = copy.deepcopy(ADDONS[1])
    ksm["spec"]["template"]["spec"]["containers"][0]["args"][0] = f"--metric-labels-allowlist={allowlist}"
    aks = aks_json(
        azureMonitorProfile={
            "metrics": {"enabled": True, "kubeStateMetrics": {"metricLabelsAllowlist": aks_allowlist}}
        }
    )
    load = loaded(Phase.CUTOVER, reads(aks), objects=[*NAMESPACES, ADDONS[0], ksm])
    [(found, line)] = findings(load, "kube-state-metrics")
    assert found is outcome
    # The model: what the rules read, against what the allowlists let through.
    allowed = parse_allowlist(allowlist).get("nodes", set()) | parse_allowlist(aks_allowlist).get(
        "nodes", set()
    )
    exported = {sanitized(k) for k in allowed}
    needed = needed_node_labels(load)
    assert needed == {sanitized(load.migration.config.shim.node_label.key)}
    assert (outcome is Outcome.OK) == ("*" in allowed or needed <= exported)
    if outcome is Outcome.WARNS:
        assert "--metric-labels-allowlist=nodes=[wasm-migration.io/shim]" in line


def test_without_kube_state_metrics_no_alert_can_fire():
    [(found, line)] = findings(loaded(Phase.CUTOVER, objects=[*NAMESPACES, ADDONS[0]]), "kube-state-metrics")
    assert found is Outcome.WARNS and "none can fire" in line


def test_add_ons_are_not_known_without_a_cluster_file():
    load = loaded(Phase.CUTOVER)
    assert [o for o, _ in findings(load, "metrics-server") + findings(load, "kube-state-metrics")] == [
        Outcome.UNKNOWN,
        Outcome.UNKNOWN,
    ]


# ---------------------------------------------------------------------------------- workload identity


def with_workload_identity(migration: Migration) -> Migration:
    """hello-spin's pods labelled for workload identity, as the azure-workload-identity webhook wants."""
    workloads = []
    for w in migration.workloads:
        if w.config.name == "hello-spin":
            template = copy.deepcopy(w.pod_template)
            template["metadata"].setdefault("labels", {})["azure.workload.identity/use"] = "true"
            w = replace(w, template=template)
        workloads.append(w)
    return replace(migration, workloads=tuple(workloads))


@pytest.mark.parametrize(
    ("security", "outcome"),
    [
        ({"workloadIdentity": {"enabled": True}}, Outcome.OK),
        ({"workloadIdentity": {"enabled": False}}, Outcome.WARNS),
    ],
)
def test_workload_identity_needs_the_cluster_to_issue_tokens(security, outcome):
    load = loaded(Phase.PREPARE, reads(aks_json(securityProfile=security)))
    migration = with_workload_identity(load.migration)
    found = [f for f in preflight(migration, load.state) if f.topic == "workload identity"]
    assert [f.outcome for f in found] == [outcome]
    assert "web/hello-spin" in found[0].says
    assert [f for f in preflight(load.migration, load.state) if f.topic == "workload identity"] == []


def test_aci_refuses_a_workload_identity_app():
    load = loaded(Phase.PREPARE)
    migration = with_workload_identity(load.migration)
    config = migration.config.model_copy(
        update={
            "workloads": tuple(w.model_copy(update={"target": "aci"}) for w in migration.config.workloads)
        }
    )
    workloads = [replace(w, config=config.workloads[i]) for i, w in enumerate(migration.workloads)]
    problems = aci_problems(config, workloads)
    assert any("web/hello-spin" in p and "workload identity" in p for p in problems)


# ---------------------------------------------------------------------------------- escaping


def test_strings_from_the_crds_stay_one_printable_line():
    crds = yaml.safe_load((AZURE / "crds-gateway-v0.6.2.yaml").read_text())
    for crd in crds["items"]:
        crd["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] = (
            "v0.6.2\n## injected\x1b[2J"
        )
    kept = read_crds(yaml.safe_dump(crds), "crds.yaml")
    load = loaded(Phase.PREPARE, ClusterReads(crds=kept))
    [line] = [p for p in check(load) if "Gateway API" in p]
    assert "\n" not in line and "\x1b" not in line and "v0.6.2\\n## injected" in line


@pytest.mark.parametrize(
    ("phase", "enabled", "says"),
    [
        (Phase.PREPARE, True, "set cluster.kubernetesVersion: '1.29' after upgrading the control plane"),
        (Phase.CUTOVER, True, "registers a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1)"),
        (Phase.CUTOVER, False, "set cluster.kubernetesVersion: '1.29' after upgrading the control plane"),
    ],
)
def test_a_control_plane_before_1_30_cannot_take_cutovers_admission_policy(phase, enabled, says):
    """ValidatingAdmissionPolicy is served at v1 from 1.30: cutover registers one unless it is off."""
    load = loaded(
        phase,
        reads(aks_json(currentKubernetesVersion="1.29.9")),
        edit=lambda raw: raw.setdefault("admissionPolicy", {}).update(enabled=enabled),
    )
    registers = any(s.inputs.get("kind") == "ValidatingAdmissionPolicy" for s in load.state.resources)
    assert registers == (phase is Phase.CUTOVER and enabled)
    [(found, line)] = findings(load, "Kubernetes version")
    assert found is Outcome.REFUSES and says in line
