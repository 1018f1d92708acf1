"""Alert rules: every expression run by `promtool test rules` against series that show its failure
(the alert fires) and series that show health or someone else's failure (it stays silent)."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.core.config import Phase
from components.desired.alerts import alert_rules, alert_specs, prometheus_rule_groups
from components.export.schemas import KUBERNETES_VERSIONS, schema_problems
from components.loading import load_migration
from tests.conftest import load_raw, phase_path

PROMTOOL = shutil.which("promtool")
KSM = {"job": "kube-state-metrics", "instance": "10.244.1.7:8080"}
DS = {"namespace": "wasm-shim-system", "daemonset": "containerd-shim-spin-installer", **KSM}
WASM_POD = {"namespace": "web", "pod": "hello-spin-spin-7d9c5-x2k4p"}
LEGACY_POD = {"namespace": "web", "pod": "hello-spin-6d4f9-abcde"}

# The walk's phases in order, parallel at its 50 % step.
PHASES = [
    phase_path(Phase.BASELINE),
    phase_path(Phase.PREPARE),
    phase_path(Phase.PARALLEL, 50),
    phase_path(Phase.CUTOVER),
    phase_path(Phase.DECOMMISSION),
]


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def _runtime_class(pod: dict[str, str], runtime_class: str) -> dict[str, str]:
    labels = {**pod, "uid": f"uid-{pod['pod']}", "runtimeclass_name": runtime_class, **KSM}
    return _series("kube_pod_runtimeclass_name_info", labels, "1x30")


PODS = [_runtime_class(WASM_POD, "wasm-spin"), _runtime_class(LEGACY_POD, "wasmtime-spin-v2")]


def _waiting(pod: dict[str, str], reason: str, values: str) -> dict[str, str]:
    labels = {**pod, "container": "hello-spin", "uid": f"uid-{pod['pod']}", "reason": reason, **KSM}
    return _series("kube_pod_container_status_waiting_reason", labels, values)


# alert -> (eval time, series showing the failure, labels the alert carries, series showing health)
CASES = {
    "WasmShimInstallerPodsNotReady": (
        "15m",
        [
            _series("kube_daemonset_status_desired_number_scheduled", DS, "3x30"),
            _series("kube_daemonset_status_number_ready", DS, "2x30"),
        ],
        {**DS, "severity": "warning"},
        [
            _series("kube_daemonset_status_desired_number_scheduled", DS, "3x30"),
            _series("kube_daemonset_status_number_ready", DS, "3x30"),
            # Someone else's DaemonSet lagging is not ours to page for.
            _series(
                "kube_daemonset_status_desired_number_scheduled",
                {**DS, "namespace": "kube-system", "daemonset": "kube-proxy"},
                "5x30",
            ),
            _series(
                "kube_daemonset_status_number_ready",
                {**DS, "namespace": "kube-system", "daemonset": "kube-proxy"},
                "1x30",
            ),
        ],
    ),
    "WasmShimInstallerNotScheduled": (
        "15m",
        [
            _series("kube_daemonset_status_desired_number_scheduled", DS, "3x30"),
            _series("kube_daemonset_status_current_number_scheduled", DS, "2x30"),
        ],
        {**DS, "severity": "warning"},
        [
            _series("kube_daemonset_status_desired_number_scheduled", DS, "3x30"),
            _series("kube_daemonset_status_current_number_scheduled", DS, "3x30"),
        ],
    ),
    "WasmShimNodeWithoutInstaller": (
        "20m",
        [
            *(
                _series(
                    "kube_node_labels",
                    {
                        "node": f"aks-spinpool-1234-vmss00000{i}",
                        "label_wasm_migration_io_shim": "containerd-shim-spin",
                        **KSM,
                    },
                    "1x30",
                )
                for i in range(3)
            ),
            _series("kube_daemonset_status_desired_number_scheduled", DS, "2x30"),
        ],
        {"severity": "warning"},
        [
            *(
                _series(
                    "kube_node_labels",
                    {
                        "node": f"aks-spinpool-1234-vmss00000{i}",
                        "label_wasm_migration_io_shim": "containerd-shim-spin",
                        **KSM,
                    },
                    "1x30",
                )
                for i in range(2)
            ),
            _series("kube_node_labels", {"node": "aks-system-5678-vmss000000", **KSM}, "1x30"),
            _series("kube_daemonset_status_desired_number_scheduled", DS, "2x30"),
        ],
    ),
    "WasmPodNotReady": (
        "15m",
        [
            *PODS,
            _series("kube_pod_status_ready", {**WASM_POD, "condition": "false", **KSM}, "1x30"),
            _series("kube_pod_status_ready", {**WASM_POD, "condition": "true", **KSM}, "0x30"),
        ],
        {**WASM_POD, "severity": "warning"},
        [
            *PODS,
            _series("kube_pod_status_ready", {**WASM_POD, "condition": "false", **KSM}, "0x30"),
            _series("kube_pod_status_ready", {**WASM_POD, "condition": "true", **KSM}, "1x30"),
            # A legacy pod that is not ready is not a Wasm pod on the shim.
            _series("kube_pod_status_ready", {**LEGACY_POD, "condition": "false", **KSM}, "1x30"),
        ],
    ),
    "WasmPodRestarting": (
        "16m",
        [
            *PODS,
            _series(
                "kube_pod_container_status_restarts_total",
                {**WASM_POD, "container": "hello-spin", "uid": "u1", **KSM},
                "0+1x30",
            ),
        ],
        {**WASM_POD, "severity": "warning"},
        [
            *PODS,
            _series(
                "kube_pod_container_status_restarts_total",
                {**WASM_POD, "container": "hello-spin", "uid": "u1", **KSM},
                "4x30",  # restarted long ago, stable since
            ),
            _series(
                "kube_pod_container_status_restarts_total",
                {**LEGACY_POD, "container": "hello-spin", "uid": "u2", **KSM},
                "0+1x30",
            ),
        ],
    ),
    "WasmPodCrashLooping": (
        "10m",
        [*PODS, _waiting(WASM_POD, "CrashLoopBackOff", "1x30")],
        {**WASM_POD, "severity": "critical"},
        [
            *PODS,
            _waiting(WASM_POD, "CrashLoopBackOff", "0x30"),
            _waiting(LEGACY_POD, "CrashLoopBackOff", "1x30"),
        ],
    ),
    "WasmPodStuckContainerCreating": (
        "15m",
        [*PODS, _waiting(WASM_POD, "ContainerCreating", "1x30")],
        {**WASM_POD, "severity": "critical"},
        [
            *PODS,
            # Created within a few minutes, then running: normal.
            _waiting(WASM_POD, "ContainerCreating", "1 1 1 0x27"),
            _waiting(LEGACY_POD, "ContainerCreating", "1x30"),
        ],
    ),
    "WasmMigrationVerificationFailed": (
        "5m",
        [
            _series(
                "kube_job_status_failed", {"namespace": "web", "job_name": "hello-spin-verify", **KSM}, "1x30"
            )
        ],
        {"namespace": "web", "job_name": "hello-spin-verify", **KSM, "severity": "warning"},
        [
            _series(
                "kube_job_status_failed", {"namespace": "web", "job_name": "hello-spin-verify", **KSM}, "0x30"
            ),
            _series(
                "kube_job_status_failed", {"namespace": "web", "job_name": "nightly-report", **KSM}, "1x30"
            ),
        ],
    ),
    "WasmWorkloadErrorRateHigh": (
        "15m",
        [
            _series(
                "http_requests_total",
                {"namespace": "web", "service": "hello-spin", "code": "200"},
                "0+600x30",
            ),
            _series(
                "http_requests_total", {"namespace": "web", "service": "hello-spin", "code": "500"}, "0+60x30"
            ),
        ],
        {"namespace": "web", "service": "hello-spin", "severity": "critical"},
        [
            _series(
                "http_requests_total",
                {"namespace": "web", "service": "hello-spin", "code": "200"},
                "0+600x30",
            ),
            _series(
                "http_requests_total", {"namespace": "web", "service": "hello-spin", "code": "500"}, "0+1x30"
            ),
            _series(
                "http_requests_total", {"namespace": "billing", "service": "ledger", "code": "500"}, "0+60x30"
            ),
        ],
    ),
    "WasmWorkloadLatencyHigh": (
        "20m",
        [
            _series(
                "http_request_duration_seconds_bucket",
                {"namespace": "shop", "service": "orders-api", "le": le},
                v,
            )
            for le, v in (("0.1", "0+10x30"), ("1", "0+20x30"), ("5", "0+100x30"), ("+Inf", "0+100x30"))
        ],
        {"namespace": "shop", "service": "orders-api", "severity": "warning"},
        [
            _series(
                "http_request_duration_seconds_bucket",
                {"namespace": "shop", "service": "orders-api", "le": le},
                v,
            )
            for le, v in (("0.1", "0+90x30"), ("1", "0+100x30"), ("5", "0+100x30"), ("+Inf", "0+100x30"))
        ],
    ),
}


def _args(index: int = 2, change=None) -> dict:
    return {"config": _config(index, change)}


def _config(index: int = 2, change=None):
    raw = copy.deepcopy(load_raw(PHASES[index]))
    if change:
        change(raw)
    return load_migration(raw).config


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert PROMTOOL, "promtool is missing: apt-get install prometheus (CI installs it)"
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _rule_file(tmp_path: Path, config) -> Path:
    groups = prometheus_rule_groups(config)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(groups, sort_keys=False))
    return path


def test_rules_are_valid_prometheus_rules_with_valid_templates(tmp_path):
    result = _promtool("check", "rules", str(_rule_file(tmp_path, _config())), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(CASES)} rules found" in result.stdout


def test_every_rule_fires_on_its_failure_and_not_on_health(tmp_path):
    config = _config()
    assert {rule.name for rule in alert_rules(config)} == set(CASES)  # a new rule needs its case here
    groups = prometheus_rule_groups(config)
    for rule in groups["groups"][0]["rules"]:
        rule.pop("annotations")  # annotation templates are checked above; here the PromQL is
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(groups, sort_keys=False))
    tests = []
    for alert, (at, failing, labels, healthy) in CASES.items():
        tests.append(
            {
                "interval": "1m",
                "input_series": failing,
                "alert_rule_test": [
                    {"eval_time": at, "alertname": alert, "exp_alerts": [{"exp_labels": labels}]}
                ],
            }
        )
        tests.append(
            {
                "interval": "1m",
                "input_series": healthy,
                "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": []}],
            }
        )
    (tmp_path / "tests.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}, sort_keys=False)
    )
    result = _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_catches_a_rule_that_does_not_fire(tmp_path):
    """The harness itself can fail: a failing series with the wrong expectation is reported."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(prometheus_rule_groups(_config()), sort_keys=False))
    at, failing, _, _ = CASES["WasmPodCrashLooping"]
    tests = [
        {
            "interval": "1m",
            "input_series": failing,
            "alert_rule_test": [{"eval_time": at, "alertname": "WasmPodCrashLooping", "exp_alerts": []}],
        }
    ]
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}))
    result = _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "WasmPodCrashLooping" in result.stdout + result.stderr


def test_http_rules_only_where_metrics_exist():
    names = {rule.name for rule in alert_rules(_config(change=lambda raw: raw["alerts"].pop("httpMetrics")))}
    assert names == set(CASES) - {"WasmWorkloadErrorRateHigh", "WasmWorkloadLatencyHigh"}


@pytest.mark.parametrize(("index", "present"), [(0, False), (1, True), (2, True), (3, True), (4, True)])
def test_azure_monitor_rule_group_from_prepare_on(index, present):
    specs = alert_specs("alerts", _args(index))
    if not present:
        assert specs == []
        return
    (spec,) = specs
    assert spec.type == "azure-native:alertsmanagement:PrometheusRuleGroup"
    inputs = spec.inputs
    assert inputs["scopes"] == [
        "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-monitoring/providers/"
        "Microsoft.Monitor/accounts/amw-contoso-prod",
        "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-prod/providers/"
        "Microsoft.ContainerService/managedClusters/aks-contoso-prod",
    ]
    assert inputs["clusterName"] == "aks-contoso-prod"
    assert inputs["resourceGroupName"] == "rg-contoso-prod" and inputs["location"] == "westeurope"
    assert inputs["ruleGroupName"] == "aks-contoso-prod-wasm-migration"
    rules = {rule["alert"]: rule for rule in inputs["rules"]}
    assert set(rules) == set(CASES)
    action = (
        "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-monitoring/providers/"
        "Microsoft.Insights/actionGroups/ag-platform-oncall"
    )
    assert all(rule["actions"] == [{"actionGroupId": action}] for rule in rules.values())
    crash = rules["WasmPodCrashLooping"]
    assert (crash["for"], crash["severity"]) == ("PT5M", 1)
    assert "for" not in rules["WasmPodRestarting"]
    assert crash["expression"] == next(
        r.expr for r in alert_rules(_config(index)) if r.name == crash["alert"]
    )


def test_alerts_off_registers_nothing():
    assert alert_specs("alerts", _args(2, lambda raw: raw.update(alerts={"mode": "off"}))) == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_prometheus_operator_rule_is_a_valid_prometheus_rule(version):
    operator = {
        "mode": "prometheusOperator",
        "prometheusOperator": {"labels": {"release": "kube-prometheus-stack"}},
    }
    config = _config(3, lambda raw: raw.update(alerts=operator))
    (spec,) = alert_specs("alerts", {"config": config})
    manifest = spec.inputs
    assert (manifest["apiVersion"], manifest["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert manifest["metadata"]["namespace"] == "monitoring"
    assert manifest["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert manifest["spec"] == prometheus_rule_groups(config)
    assert schema_problems(manifest, version) == []
    broken = copy.deepcopy(manifest)
    broken["spec"]["groups"][0]["rules"][0]["expresion"] = "up"
    assert schema_problems(broken, version) == [
        f"PrometheusRule monitoring/wasm-migration (Kubernetes {version}): "
        "spec.groups[0].rules[0].expresion: Extra inputs are not permitted"
    ]


def test_the_rule_group_inputs_are_the_sdks_typed_args_in_wire_form():
    from pulumi_azure_native import alertsmanagement

    from components.registration import RegistrationError, sdk_args, wire_inputs

    (spec,) = alert_specs("alerts", _args(2))
    group = sdk_args(alertsmanagement.PrometheusRuleGroupArgs, spec.inputs)
    assert isinstance(group.rules[0], alertsmanagement.PrometheusRuleArgs)
    assert group.rules[0].for_ == spec.inputs["rules"][0]["for"]
    assert wire_inputs(group) == spec.inputs
    assert spec.inputs["rules"][0]["actions"][0]["actionGroupId"].endswith("/actionGroups/ag-platform-oncall")
    misspelled = {**spec.inputs, "rules": [{**spec.inputs["rules"][0], "expresion": "up == 0"}]}
    with pytest.raises(RegistrationError, match="'expresion'"):
        sdk_args(alertsmanagement.PrometheusRuleGroupArgs, misspelled)


def _in_containers(raw: dict) -> None:
    raw["target"] = "container"
    raw["container"] = {"spinImage": {"digest": "sha256:" + "ab" * 32}}


def _owned_by(pod: dict[str, str], replica_set: str) -> dict[str, str]:
    labels = {**pod, "uid": f"uid-{pod['pod']}", "owner_kind": "ReplicaSet", "owner_name": replica_set, **KSM}
    return _series("kube_pod_owner", labels, "1x30")


def test_container_pods_are_watched_through_their_replica_sets_and_no_installer_rule_is_left(tmp_path):
    """Spin containers have no RuntimeClass: their pods are found through the ReplicaSets of the new
    Deployment (kube_pod_owner), and the installer's rules go with the installer."""
    config = _config(change=_in_containers)
    names = {rule.name for rule in alert_rules(config)}
    assert not {name for name in names if name.startswith("WasmShim")}
    groups = prometheus_rule_groups(config)
    for rule in groups["groups"][0]["rules"]:
        rule.pop("annotations")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(groups, sort_keys=False))
    new_pod = {"namespace": "web", "pod": "hello-spin-spin-5b7c8d9f6-x2k4p"}
    other_pod = {"namespace": "web", "pod": "hello-spin-7d9c6b8f5-q9z8r"}  # the legacy Deployment's

    def crash(pod: dict[str, str], owner: str) -> list[dict[str, str]]:
        return [_owned_by(pod, owner), _waiting(pod, "CrashLoopBackOff", "1x30")]

    tests = [
        {
            "interval": "1m",
            "input_series": crash(new_pod, "hello-spin-spin-5b7c8d9f6"),
            "alert_rule_test": [
                {
                    "eval_time": "10m",
                    "alertname": "WasmPodCrashLooping",
                    "exp_alerts": [{"exp_labels": {"severity": "critical", **new_pod}}],
                }
            ],
        },
        {
            "interval": "1m",
            "input_series": crash(other_pod, "hello-spin-7d9c6b8f5"),
            "alert_rule_test": [{"eval_time": "10m", "alertname": "WasmPodCrashLooping", "exp_alerts": []}],
        },
    ]
    (tmp_path / "tests.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}, sort_keys=False)
    )
    result = _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
