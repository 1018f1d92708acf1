"""The preflight: what the cluster already says that decides whether a phase can be applied at all,
read from the read-only exports (`az aks show`, `az policy assignment list`, the CRDs, and the
namespaces and add-on Deployments of the cluster file) against what the phase's desired state asks.

Each finding says what the cluster says, what breaks and the fix. A `refuses` finding is one the API
server or an admission controller would refuse (check refuses the phase); `warns` is one that applies
but loses something (memory not measured, alerts that cannot fire); `not known` names the export that
would tell. docs/preflight.md lists the sources of each rule."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from components.core import pod_security
from components.core.config import MigrationConfig
from components.core.inputs import ECHO_CHARS, escape
from components.desired.alerts import kube_state_labels
from components.desired.spec import DesiredState, ResourceSpec
from components.export.aks import AksFacts
from components.export.cluster import KUBE_STATE_METRICS, METRICS_SERVER, ClusterReads, addon_deployments
from components.export.guardrails import Guardrail, installer_refusals
from components.export.migration import Migration
from components.export.schemas import KUBERNETES_VERSIONS

HTTPROUTE_CRD = "httproutes.gateway.networking.k8s.io"
# Gateway API release annotations on its CRDs (kubernetes-sigs/gateway-api config/crd, since v0.5).
BUNDLE_VERSION = "gateway.networking.k8s.io/bundle-version"
CHANNEL = "gateway.networking.k8s.io/channel"
# ValidatingAdmissionPolicy is served at admissionregistration.k8s.io/v1 from Kubernetes 1.30 (KEP-3488).
ADMISSION_POLICY_SINCE = (1, 30)
REINIT = "run migrate init with the current export: it writes the cluster file with them"
_POD_TEMPLATE_KINDS = frozenset({"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"})


class Outcome(StrEnum):
    REFUSES = "refuses"
    WARNS = "warns"
    OK = "ok"
    UNKNOWN = "not known"


@dataclass(frozen=True)
class Finding:
    """One thing the cluster says. `says` and `breaks` may hold strings from the exports: they reach a
    terminal or markdown only through the project's escaping."""

    topic: str
    outcome: Outcome
    says: str
    breaks: str = ""
    fix: str = ""
    key: str = "cluster"

    def line(self) -> str:
        parts = [f"{self.topic}: {self.says}"]
        if self.breaks:
            parts.append(self.breaks)
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return "; ".join(parts)


def preflight(migration: Migration, state: DesiredState) -> list[Finding]:
    """Every finding for one phase's desired state, in a fixed order of topics."""
    reads = migration.reads
    cluster_objects = migration.cluster.objects if migration.cluster else ()
    namespaces = _namespaces(cluster_objects)
    deployments: list[Mapping[str, Any]] = [o for o in cluster_objects if o.get("kind") == "Deployment"]
    config = migration.config
    # Namespaces and add-ons come from the cluster file; one without namespaces predates the preflight.
    missing = (
        None
        if namespaces is not None
        else "the cluster file holds no Namespace (its export listed none, or an older init wrote it)"
        if migration.cluster
        else "there is no cluster file (cluster.export)"
    )
    return [
        *version_findings(config, reads.aks, state),
        *guardrail_findings(config, reads),
        *pod_security_findings(state, namespaces, reads.guardrails, missing),
        *gateway_findings(state, reads.crds),
        *metrics_findings(config, deployments, reads.aks, missing),
        *workload_identity_findings(migration, reads.aks),
    ]


def refusals(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.outcome is Outcome.REFUSES]


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def version_findings(config: MigrationConfig, aks: AksFacts | None, state: DesiredState) -> list[Finding]:
    """The control plane's version against the schemas check validates with, and against the APIs the
    phase uses (the admission policy from cutover)."""
    topic = "Kubernetes version"
    configured = config.cluster.kubernetes_version
    if aks is None or aks.version is None:
        return [
            Finding(
                topic,
                Outcome.UNKNOWN,
                f"no `az aks show` export (cluster.aks); check validates against Kubernetes {configured} "
                "as cluster.kubernetesVersion says",
                fix="give init --aks-cluster (az aks show -o json)",
            )
        ]
    running = aks.version
    newest = max(KUBERNETES_VERSIONS, key=_minor)
    uses_admission_policy = any(s.inputs.get("kind") == "ValidatingAdmissionPolicy" for s in state.resources)
    if uses_admission_policy and _minor(running) < ADMISSION_POLICY_SINCE:
        return [
            Finding(
                topic,
                Outcome.REFUSES,
                f"the control plane runs Kubernetes {running}",
                "the phase registers a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1), served "
                "from Kubernetes 1.30 only",
                "upgrade the control plane (az aks upgrade --control-plane-only)",
                "cluster.kubernetesVersion",
            )
        ]
    if _minor(running) > _minor(newest):
        if configured == newest:
            return [
                Finding(
                    topic,
                    Outcome.WARNS,
                    f"the control plane runs Kubernetes {running}, newer than the newest schemas check "
                    f"has ({newest})",
                    f"objects are validated against {newest}; every API the migration uses is served in "
                    f"{running} too, but fields new in {running} are not checked",
                    key="cluster.kubernetesVersion",
                )
            ]
        return [
            Finding(
                topic,
                Outcome.REFUSES,
                f"the control plane runs Kubernetes {running}, cluster.kubernetesVersion says {configured}",
                "check would validate against older schemas than the cluster's",
                f"set cluster.kubernetesVersion: '{newest}' (the newest schemas check has)",
                "cluster.kubernetesVersion",
            )
        ]
    if running != configured:
        return [
            Finding(
                topic,
                Outcome.REFUSES,
                f"the control plane runs Kubernetes {running}, cluster.kubernetesVersion says {configured}",
                "check validates against another version's schemas than the API server serves",
                f"set cluster.kubernetesVersion: '{running}'"
                + ("" if running in KUBERNETES_VERSIONS else " after upgrading the control plane"),
                "cluster.kubernetesVersion",
            )
        ]
    return [Finding(topic, Outcome.OK, f"the control plane runs Kubernetes {running}, as configured")]


def guardrail_findings(config: MigrationConfig, reads: ClusterReads) -> list[Finding]:
    """Deployment Safeguards, AKS Automatic and Azure Policy against the shim's privileged installer."""
    topic = "installer guardrails"
    if reads.aks is None and not reads.policy_assignments:
        return [
            Finding(
                topic,
                Outcome.UNKNOWN,
                "no `az aks show` or `az policy assignment list` export (cluster.aks, "
                "cluster.policyAssignments)",
                "Deployment Safeguards, AKS Automatic or Azure Policy may refuse the shim's privileged "
                "installer",
                "give init --aks-cluster and --policy-assignments",
            )
        ]
    if not config.uses_shim:
        return [Finding(topic, Outcome.OK, "no workload takes the shim: nothing privileged is installed")]
    namespace = config.shim.namespace
    refusing = installer_refusals(list(reads.guardrails), namespace)
    if refusing:
        return [
            Finding(
                topic,
                Outcome.REFUSES,
                f"{escape(g.source, ECHO_CHARS)} refuses {g.refuses} in namespace {namespace}",
                "the installer DaemonSet's pods are refused, so no node gets the shim",
                f"{g.fix}, or set target: container",
                "target",
            )
            for g in refusing
        ]
    warning = [g for g in reads.guardrails if not g.enforced and g.applies_to(namespace)]
    if warning:
        return [
            Finding(
                topic,
                Outcome.WARNS,
                f"{escape(g.source, ECHO_CHARS)} only warns about {g.refuses} in namespace {namespace}",
                "the installer runs; each of its pods is reported",
            )
            for g in warning
        ]
    return [Finding(topic, Outcome.OK, f"nothing exported refuses the installer in namespace {namespace}")]


def _namespaces(objects: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, str]] | None:
    """Namespace name -> labels, from the cluster file; None where it holds no Namespace (written by an
    older init, before it copied them)."""
    found = {
        str(o["metadata"].get("name")): o["metadata"].get("labels") or {}
        for o in objects
        if o.get("kind") == "Namespace"
    }
    return found or None


def _pod_specs(state: DesiredState) -> Iterator[tuple[ResourceSpec, str, Mapping[str, Any]]]:
    """Each object of the phase that makes pods: its spec, namespace and pod spec."""
    for spec in state.resources:
        inputs = spec.inputs
        if (
            not spec.is_kubernetes
            or spec.is_patch
            or spec.import_id
            or inputs.get("kind") not in _POD_TEMPLATE_KINDS
        ):
            continue
        template = (inputs.get("spec") or {}).get("template") or {}
        namespace = inputs["metadata"].get("namespace") or "default"
        yield spec, namespace, template.get("spec") or {}


def _phase_namespace_labels(state: DesiredState) -> dict[str, dict[str, str]]:
    """The labels the phase itself gives namespaces (the installer's, created or patched)."""
    labels: dict[str, dict[str, str]] = {}
    for spec in state.resources:
        if spec.is_kubernetes and spec.inputs.get("kind") == "Namespace" and not spec.import_id:
            name = spec.inputs["metadata"]["name"]
            labels.setdefault(name, {}).update(spec.inputs["metadata"].get("labels") or {})
    return labels


def _labels_of(
    namespace: str,
    own: Mapping[str, Mapping[str, str]],
    namespaces: Mapping[str, Mapping[str, str]] | None,
) -> Mapping[str, str] | None:
    """A namespace's labels once the phase is applied: the export's, with the phase's own over them;
    None where the export does not hold the namespace and the phase does not make it."""
    exported = (namespaces or {}).get(namespace)
    if namespace in own:
        return {**(exported or {}), **own[namespace]}
    return exported


def pod_security_findings(
    state: DesiredState,
    namespaces: Mapping[str, Mapping[str, str]] | None,
    guardrails: Iterable[Guardrail],
    missing: str | None = None,
) -> list[Finding]:
    """Each pod-making object of the phase against its namespace's Pod Security level: the namespace's
    labels (the phase's own labels first), raised to baseline where Deployment Safeguards enforce it."""
    topic = "Pod Security"
    own = _phase_namespace_labels(state)
    safeguards = [g for g in guardrails if g.enforced and g.pod_security_baseline]
    findings: list[Finding] = []
    unknown: set[str] = set()
    for spec, namespace, pod in _pod_specs(state):
        labels = _labels_of(namespace, own, namespaces)
        if labels is None:
            unknown.add(namespace)
            labels = {}
        level = pod_security.level_of(labels)
        source = f"namespace {namespace} enforces Pod Security {level}"
        if level == "privileged" and any(g.applies_to(namespace) for g in safeguards):
            level, source = "baseline", f"Deployment Safeguards enforce Pod Security baseline in {namespace}"
        failed = pod_security.violations(pod, level)
        if failed:
            findings.append(
                Finding(
                    topic,
                    Outcome.REFUSES,
                    f"{source}; {spec.label} fails {', '.join(failed)}",
                    "the API server refuses its pods (FailedCreate), so it never becomes Ready",
                    "make the legacy pod template meet the level (the new pods copy it), or exclude the "
                    "namespace",
                    "cluster.export",
                )
            )
            continue
        for mode, label in (("warns", pod_security.WARN_LABEL), ("audits", pod_security.AUDIT_LABEL)):
            flagged = pod_security.violations(pod, pod_security.level_of(labels, label))
            if flagged:
                findings.append(
                    Finding(
                        topic,
                        Outcome.WARNS,
                        f"namespace {namespace} {mode} at Pod Security "
                        f"{pod_security.level_of(labels, label)}; {spec.label} fails {', '.join(flagged)}",
                        "its pods are admitted and reported",
                    )
                )
    if unknown and namespaces is None:
        findings.append(
            Finding(
                topic,
                Outcome.UNKNOWN,
                missing or "the cluster file holds no namespaces",
                "a namespace's Pod Security label may refuse the new pods",
                REINIT,
                "cluster.export",
            )
        )
    elif unknown:
        findings.append(
            Finding(
                topic,
                Outcome.UNKNOWN,
                f"namespace(s) {', '.join(sorted(unknown))} are not in the export",
                "the phase creates pods there",
                "export again: the namespace must exist before the phase",
                "cluster.export",
            )
        )
    if not findings:
        findings.append(Finding(topic, Outcome.OK, "every pod the phase creates meets its namespace's level"))
    return findings


def _served(crd: Mapping[str, Any]) -> list[str]:
    versions = (crd.get("spec") or {}).get("versions") or ()
    return [
        escape(str(v.get("name")), ECHO_CHARS) for v in versions if isinstance(v, dict) and v.get("served")
    ]


def gateway_findings(state: DesiredState, crds: tuple[Mapping[str, Any], ...] | None) -> list[Finding]:
    """The HTTPRoutes the phase creates against the Gateway API CRDs the cluster serves."""
    topic = "Gateway API"
    routes = [
        s
        for s in state.resources
        if s.is_kubernetes and not s.import_id and s.inputs.get("kind") == "HTTPRoute"
    ]
    if not routes:
        return []
    wanted = sorted({str(s.inputs["apiVersion"]).rsplit("/", 1)[-1] for s in routes})
    if crds is None:
        return [
            Finding(
                topic,
                Outcome.UNKNOWN,
                f"the phase creates {len(routes)} HTTPRoute(s), and there is no CRD export (cluster.crds)",
                "without the Gateway API CRDs the API server refuses them",
                "give init --crds (kubectl get customresourcedefinitions -o yaml)",
                "cluster.crds",
            )
        ]
    crd = next((c for c in crds if (c.get("metadata") or {}).get("name") == HTTPROUTE_CRD), None)
    if crd is None:
        return [
            Finding(
                topic,
                Outcome.REFUSES,
                f"the cluster serves no {HTTPROUTE_CRD}",
                f"the phase's {len(routes)} HTTPRoute(s) are refused (no such kind)",
                "install the Gateway API standard CRDs (kubernetes-sigs/gateway-api standard-install.yaml, "
                "v1.0 or later) or the gateway your Gateway runs on installs them",
                "cluster.crds",
            )
        ]
    served = _served(crd)
    annotations = (crd.get("metadata") or {}).get("annotations") or {}
    release = ", ".join(
        f"{what} {escape(str(annotations.get(key, 'unknown')), ECHO_CHARS)}"
        for what, key in (("bundle", BUNDLE_VERSION), ("channel", CHANNEL))
    )
    missing = [v for v in wanted if v not in served]
    if missing:
        return [
            Finding(
                topic,
                Outcome.REFUSES,
                f"{HTTPROUTE_CRD} serves {', '.join(served) or 'no version'} ({release})",
                f"the phase's HTTPRoutes are {', '.join(missing)} and are refused",
                "upgrade the Gateway API CRDs to v1.0 or later (HTTPRoute v1)",
                "cluster.crds",
            )
        ]
    return [Finding(topic, Outcome.OK, f"{HTTPROUTE_CRD} serves {', '.join(served)} ({release})")]


def _ready(deployment: Mapping[str, Any]) -> bool:
    return bool((deployment.get("status") or {}).get("readyReplicas"))


_ALLOWLIST_ARG = re.compile(r"^--metric-labels-allowlist(?:=(.*))?$")


def _allowlist_args(deployment: Mapping[str, Any]) -> str:
    """The `--metric-labels-allowlist` value a kube-state-metrics container runs with ('' when none)."""
    template = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in template.get("containers") or ():
        args = [str(a) for a in [*(container.get("command") or ()), *(container.get("args") or ())]]
        for index, arg in enumerate(args):
            match = _ALLOWLIST_ARG.match(arg)
            if match and match[1] is not None:
                return match[1]
            if match:
                return args[index + 1] if index + 1 < len(args) else ""
    return ""


def parse_allowlist(text: str) -> dict[str, set[str]]:
    """kube-state-metrics' `--metric-labels-allowlist` ("pods=[a,b],nodes=[*]"): resource -> labels."""
    allowed: dict[str, set[str]] = {}
    for resource, labels in re.findall(r"([a-z0-9.]+)=\[([^\]]*)\]", text):
        allowed.setdefault(resource, set()).update(
            label.strip() for label in labels.split(",") if label.strip()
        )
    return allowed


def metrics_findings(
    config: MigrationConfig,
    deployments: list[Mapping[str, Any]],
    aks: AksFacts | None,
    missing: str | None = None,
) -> list[Finding]:
    """metrics-server for the verification's memory, kube-state-metrics (and the labels it exports)
    for the alerts; `missing` says why the add-ons are not known."""
    findings = []
    wanted = []
    if config.verification.enabled and any(w.target != "aci" for w in config.workloads):
        wanted.append(("metrics-server", "the verification's memory figures"))
    if config.alerts.mode != "off":
        wanted.append(("kube-state-metrics", "every alert"))
    if missing is not None:
        return [
            Finding(topic, Outcome.UNKNOWN, missing, f"{what} depends on it", REINIT, "cluster.export")
            for topic, what in wanted
        ]
    for topic, _ in wanted:
        findings.append(
            _metrics_server(deployments)
            if topic == "metrics-server"
            else _kube_state_metrics(config, deployments, aks)
        )
    return findings


def _metrics_server(deployments: list[Mapping[str, Any]]) -> Finding:
    topic = "metrics-server"
    servers = addon_deployments(deployments, METRICS_SERVER)
    if not any(_ready(d) for d in servers):
        return Finding(
            topic,
            Outcome.WARNS,
            "no Ready metrics-server Deployment in the export"
            if not servers
            else "metrics-server is not Ready",
            "the verification gate reports memory as not measured (metrics.k8s.io is not served)",
            "install or repair metrics-server (AKS runs it in kube-system)",
            "verification.thresholds",
        )
    return Finding(topic, Outcome.OK, "metrics-server is Ready: the verification measures memory")


def _kube_state_metrics(
    config: MigrationConfig, deployments: list[Mapping[str, Any]], aks: AksFacts | None
) -> Finding:
    topic = "kube-state-metrics"
    found = addon_deployments(deployments, KUBE_STATE_METRICS)
    if not found:
        return Finding(
            topic,
            Outcome.WARNS,
            "no kube-state-metrics Deployment in the export",
            "every alert reads kube-state-metrics series: none can fire",
            "enable Azure Monitor managed Prometheus (az aks update --enable-azure-monitor-metrics) or "
            "install kube-state-metrics",
            "alerts.mode",
        )
    needed = kube_state_labels(config)
    allowed: dict[str, set[str]] = {}
    for deployment in found:
        for resource, labels in parse_allowlist(_allowlist_args(deployment)).items():
            allowed.setdefault(resource, set()).update(labels)
    if aks is not None:
        for resource, labels in parse_allowlist(aks.ksm_labels).items():
            allowed.setdefault(resource, set()).update(labels)
    missing = {
        resource: sorted(labels - allowed.get(resource, set()))
        for resource, labels in needed.items()
        if "*" not in allowed.get(resource, set()) and labels - allowed.get(resource, set())
    }
    if missing:
        wanted = ",".join(f"{r}=[{','.join(labels)}]" for r, labels in sorted(missing.items()))
        return Finding(
            topic,
            Outcome.WARNS,
            f"kube-state-metrics exports no {wanted} labels",
            "the alerts that read those labels never fire",
            f"run it with --metric-labels-allowlist={wanted} (Azure Monitor: az aks update "
            f"--ksm-metric-labels-allow-list {wanted})",
            "alerts.mode",
        )
    return Finding(topic, Outcome.OK, "kube-state-metrics runs and exports the labels the alerts read")


def workload_identity_findings(migration: Migration, aks: AksFacts | None) -> list[Finding]:
    """Workloads whose pods take an Entra token through workload identity keep the label and service
    account on the new side; the cluster must still issue the tokens."""
    topic = "workload identity"
    using = [w.config.key for w in migration.workloads if w.workload_identity]
    if not using:
        return []
    if aks is None:
        return [
            Finding(
                topic,
                Outcome.UNKNOWN,
                f"{', '.join(using)} use workload identity, and there is no `az aks show` export",
                fix="give init --aks-cluster",
            )
        ]
    if not (aks.oidc_issuer and aks.workload_identity):
        return [
            Finding(
                topic,
                Outcome.WARNS,
                f"{', '.join(using)} use workload identity, and the cluster has "
                f"{'the OIDC issuer' if not aks.oidc_issuer else 'workload identity'} off",
                "their pods get no Entra token, new as legacy",
                "az aks update --enable-oidc-issuer --enable-workload-identity",
            )
        ]
    return [
        Finding(topic, Outcome.OK, f"{', '.join(using)} use workload identity, and the cluster issues tokens")
    ]
