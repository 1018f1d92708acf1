"""Alert rules for the migration's failure modes, from one pure builder, shipped as an Azure Monitor
managed Prometheus rule group or a prometheus-operator PrometheusRule. See docs/design/alerts.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

from components.core import naming
from components.core.config import MigrationConfig, Phase
from components.desired.pools import managed_cluster_id
from components.desired.shim import INSTALLER_NAME
from components.desired.spec import ResourceSpec, kubernetes_spec, managed_labels, wire_object

ALERTS_COMPONENT = "alerts"
RULE_GROUP_TYPE = "azure-native:alertsmanagement:PrometheusRuleGroup"
RULE_GROUP = "alerts-rule-group"
PROMETHEUS_RULE = "alerts-prometheus-rule"
# Azure Monitor alert severities: 0 critical ... 4 verbose.
_AZURE_SEVERITY = {"critical": 1, "warning": 2, "info": 3}


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_: str  # Prometheus duration, "" for none
    severity: str  # critical | warning | info
    summary: str
    description: str


def _kube_state_label(key: str) -> str:
    """kube-state-metrics' name for a Kubernetes label: `label_` plus the key with [^a-zA-Z0-9_] as _."""
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def kube_state_labels(config: MigrationConfig) -> dict[str, set[str]]:
    """The Kubernetes labels the rules read through kube-state-metrics' `kube_<resource>_labels`, by
    resource as its `--metric-labels-allowlist` names them: kube-state-metrics exports none unless
    allowed (kube-state-metrics docs, "metric-labels-allowlist"), so the preflight checks them."""
    return {"nodes": {config.shim.node_label.key}} if config.uses_shim else {}


def _regex(values: list[str]) -> str:
    return "|".join(re.escape(value).replace("\\-", "-") for value in values)


def _wasm_pods(config: MigrationConfig) -> str:
    """The new Wasm pods as kube-state-metrics series: those of the shim's RuntimeClass, and the pods
    of each container target's Deployment (no RuntimeClass: through the ReplicaSets it owns, which the
    Deployment controller names `<deployment>-<pod-template-hash>`)."""
    parts = []
    if config.uses_shim:
        parts.append(
            f'kube_pod_runtimeclass_name_info{{runtimeclass_name="{config.shim.runtime_class_name}"}}'
        )
    in_containers: dict[str, list[str]] = {}
    for workload in config.workloads:
        if workload.target == "container":
            in_containers.setdefault(workload.namespace, []).append(naming.new_app_name(workload.name))
    for namespace, deployments in sorted(in_containers.items()):
        parts.append(
            f'kube_pod_owner{{namespace="{namespace}",owner_kind="ReplicaSet",'
            f'owner_name=~"({_regex(sorted(deployments))})-[a-z0-9]+"}}'
        )
    return parts[0] if len(parts) == 1 else f"({' or '.join(parts)})"


def _installer_rules(config: MigrationConfig) -> list[AlertRule]:
    """The shim installer's health; none where no workload needs the shim."""
    if not config.uses_shim:
        return []
    shim = config.shim
    daemonset = f'namespace="{shim.namespace}",daemonset="{INSTALLER_NAME}"'
    node_label = f'{_kube_state_label(shim.node_label.key)}="{shim.node_label.value}"'
    return [
        AlertRule(
            "WasmShimInstallerPodsNotReady",
            f"kube_daemonset_status_desired_number_scheduled{{{daemonset}}}"
            f" - kube_daemonset_status_number_ready{{{daemonset}}} > 0",
            "10m",
            "warning",
            "Shim installer pods are not ready",
            f"{{{{ $value }}}} pod(s) of DaemonSet {shim.namespace}/{INSTALLER_NAME} are not ready: the shim "
            "may be missing on those nodes. Check the pods' install container logs.",
        ),
        AlertRule(
            "WasmShimInstallerNotScheduled",
            f"kube_daemonset_status_desired_number_scheduled{{{daemonset}}}"
            f" - kube_daemonset_status_current_number_scheduled{{{daemonset}}} > 0",
            "10m",
            "warning",
            "Shim installer pods are not scheduled on every shim node",
            f"{{{{ $value }}}} node(s) should run {INSTALLER_NAME} but have no pod of it "
            "(resources, taints).",
        ),
        AlertRule(
            "WasmShimNodeWithoutInstaller",
            f"count(kube_node_labels{{{node_label}}})"
            f" > sum(kube_daemonset_status_desired_number_scheduled{{{daemonset}}})",
            "15m",
            "warning",
            "Nodes labelled for the shim are not covered by the installer",
            f"More nodes carry {shim.node_label.key}={shim.node_label.value} than DaemonSet "
            f"{INSTALLER_NAME} targets (a taint it does not tolerate?): Wasm pods scheduled there fail.",
        ),
    ]


def alert_rules(config: MigrationConfig) -> list[AlertRule]:
    shim = config.shim
    wasm = _wasm_pods(config)
    rules = [
        *_installer_rules(config),
        AlertRule(
            "WasmPodNotReady",
            f'max by (namespace, pod) (kube_pod_status_ready{{condition="false"}}) == 1'
            f" and on (namespace, pod) {wasm}",
            "10m",
            "warning",
            "A Wasm pod is not ready",
            "Wasm pod {{ $labels.namespace }}/{{ $labels.pod }} has not been ready for 10 minutes.",
        ),
        AlertRule(
            "WasmPodRestarting",
            "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[15m])) > 2"
            f" and on (namespace, pod) {wasm}",
            "",
            "warning",
            "A Wasm pod keeps restarting",
            "{{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value }} times in 15 minutes.",
        ),
        AlertRule(
            "WasmPodCrashLooping",
            'max by (namespace, pod) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"})'
            f" == 1 and on (namespace, pod) {wasm}",
            "5m",
            "critical",
            "A Wasm pod is in CrashLoopBackOff",
            "{{ $labels.namespace }}/{{ $labels.pod }} is crash looping: check its logs and the Spin app.",
        ),
        AlertRule(
            "WasmPodStuckContainerCreating",
            'max by (namespace, pod) (kube_pod_container_status_waiting_reason{reason="ContainerCreating"})'
            f" == 1 and on (namespace, pod) {wasm}",
            "10m",
            "critical",
            "A Wasm pod is stuck in ContainerCreating",
            "{{ $labels.namespace }}/{{ $labels.pod }} has been creating for 10 minutes: usually "
            + (
                f"FailedCreatePodSandBox, containerd has no runtime handler '{shim.handler}' on its node "
                "(shim not installed there)"
                if config.uses_shim
                else "the Spin image cannot be pulled or a volume cannot be mounted"
            )
            + ". `kubectl describe pod` shows the event.",
        ),
    ]
    if config.workloads:
        namespaces = _regex(sorted({w.namespace for w in config.workloads}))
        jobs = _regex(sorted({naming.verify_name(w.name) for w in config.workloads}))
        rules.append(
            AlertRule(
                "WasmMigrationVerificationFailed",
                f'kube_job_status_failed{{namespace=~"{namespaces}",job_name=~"{jobs}"}} > 0',
                "",
                "warning",
                "The legacy/new verification failed",
                "Job {{ $labels.namespace }}/{{ $labels.job_name }} failed: cutover waits for it. Its "
                "logs and the ConfigMap <workload>-verification hold the summary.",
            )
        )
    http = config.alerts.http_metrics
    if http and config.workloads:
        where = f'namespace=~"{_regex(sorted({w.namespace for w in config.workloads}))}"'
        by = ", ".join(http.by)
        errors = f'{where},{http.status_label}=~"5.."'
        rules += [
            AlertRule(
                "WasmWorkloadErrorRateHigh",
                f"sum by ({by}) (rate({http.requests_total}{{{errors}}}[5m]))"
                f" / sum by ({by}) (rate({http.requests_total}{{{where}}}[5m])) > {http.max_error_rate:g}",
                "5m",
                "critical",
                "Wasm workload error rate is high",
                f"More than {http.max_error_rate:.1%} of requests fail with 5xx "
                "({{ $value | humanizePercentage }}).",
            ),
            AlertRule(
                "WasmWorkloadLatencyHigh",
                f"histogram_quantile(0.95, sum by ({by}, le) (rate({http.duration_bucket}{{{where}}}[5m])))"
                f" > {http.max_p95_seconds:g}",
                "10m",
                "warning",
                "Wasm workload p95 latency is high",
                f"p95 latency is {{{{ $value | humanizeDuration }}}}, above {http.max_p95_seconds:g}s.",
            ),
        ]
    return rules


def rule_group_name(config: MigrationConfig) -> str:
    return f"{config.cluster.name}-wasm-migration"


def prometheus_rule_groups(config: MigrationConfig) -> dict[str, Any]:
    """The rules as a Prometheus rule file (the spec of a PrometheusRule, and what promtool reads)."""
    rules = []
    for rule in alert_rules(config):
        entry: dict[str, Any] = {"alert": rule.name, "expr": rule.expr}
        if rule.for_:
            entry["for"] = rule.for_
        entry["labels"] = {"severity": rule.severity}
        entry["annotations"] = {"summary": rule.summary, "description": rule.description}
        rules.append(entry)
    return {"groups": [{"name": rule_group_name(config), "rules": rules}]}


def _iso_duration(duration: str) -> str:
    """Prometheus `10m` as Azure's ISO 8601 `PT10M`."""
    amount, unit = int(duration[:-1]), duration[-1]
    return f"PT{amount}{unit.upper()}"


class RuleGroupActionInputs(TypedDict):
    actionGroupId: str


class ResolveConfigurationInputs(TypedDict):
    autoResolved: bool
    timeToResolve: str


# azure-native alertsmanagement PrometheusRule's inputs, in the SDK's order (`for` is a keyword, hence
# the functional form). Plain data, not the SDK's args: see components/desired/pools.py.
PrometheusRuleInputs = TypedDict(
    "PrometheusRuleInputs",
    {
        "expression": str,
        "actions": list[RuleGroupActionInputs],
        "alert": str,
        "annotations": dict[str, str],
        "enabled": bool,
        "for": str | None,
        "labels": dict[str, str],
        "resolveConfiguration": ResolveConfigurationInputs,
        "severity": int,
    },
)


class PrometheusRuleGroupInputs(TypedDict):
    """azure-native alertsmanagement PrometheusRuleGroup's inputs, in the SDK's order."""

    resourceGroupName: str
    rules: list[dict[str, Any]]
    scopes: list[str]
    clusterName: str
    description: str
    enabled: bool
    interval: str
    location: str
    ruleGroupName: str


def _azure_rule(rule: AlertRule, action_group_id: str) -> dict[str, Any]:
    inputs: PrometheusRuleInputs = {
        "expression": rule.expr,
        "actions": [{"actionGroupId": action_group_id}],
        "alert": rule.name,
        "annotations": {"summary": rule.summary, "description": rule.description},
        "enabled": True,
        "for": _iso_duration(rule.for_) if rule.for_ else None,
        "labels": {"severity": rule.severity},
        "resolveConfiguration": {"autoResolved": True, "timeToResolve": "PT10M"},
        "severity": _AZURE_SEVERITY[rule.severity],
    }
    return wire_object(inputs)


def _azure_rule_group(config: MigrationConfig) -> dict[str, Any]:
    """The rule group's inputs in the engine's wire form."""
    monitor = config.alerts.azure_monitor
    assert monitor is not None
    group: PrometheusRuleGroupInputs = {
        "resourceGroupName": monitor.resource_group or config.cluster.resource_group,
        "rules": [_azure_rule(rule, monitor.action_group_id) for rule in alert_rules(config)],
        # The workspace holds the metrics; the cluster scope and clusterName bind the group to this
        # cluster, as Azure's own AKS alert templates do (prometheusRuleGroups 2023-03-01).
        "scopes": [
            monitor.workspace_id,
            managed_cluster_id(
                config.cluster.subscription_id, config.cluster.resource_group, config.cluster.name
            ),
        ],
        "clusterName": config.cluster.name,
        "description": "Failure modes of the WASI to containerd-shim-spin migration (aks-wasm-migration).",
        "enabled": True,
        "interval": "PT1M",
        "location": monitor.location,
        "ruleGroupName": rule_group_name(config),
    }
    return wire_object(group)


class AlertsArgs(TypedDict):
    config: MigrationConfig


def alert_specs(name: str, args: AlertsArgs) -> list[ResourceSpec]:
    """From `prepare` (when the installer and the first Wasm pods appear) on, unless `mode: off`."""
    config = args["config"]
    mode = config.alerts.mode
    if mode == "off" or not config.phase.at_least(Phase.PREPARE):
        return []
    if mode == "azureMonitor":
        return [ResourceSpec(RULE_GROUP_TYPE, RULE_GROUP, name, _azure_rule_group(config))]
    operator = config.alerts.prometheus_operator
    manifest = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "wasm-migration",
            "namespace": operator.namespace,
            "labels": {**managed_labels("wasm-migration", "alerts"), **operator.labels},
        },
        "spec": prometheus_rule_groups(config),
    }
    return [kubernetes_spec(PROMETHEUS_RULE, name, manifest)]
