"""Every invalid input is rejected before anything is registered, with one line per problem that names
the key path, the bad value and what is allowed."""

from __future__ import annotations

import copy

import pytest

from components.core.config import ConfigError, Phase, parse_config
from tests.conftest import load_raw, phase_path

BASE = load_raw(phase_path(Phase.BASELINE))


def _with(change) -> dict:
    raw = copy.deepcopy(BASE)
    change(raw)
    return raw


def _problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


def _set(path: str, value):
    def change(raw):
        node = raw
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        last = keys[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "key", "value", "allowed"),
    [
        (_set("phase", "migrate"), "phase", "'migrate'", "'baseline', 'prepare', 'parallel', 'cutover' or"),
        (
            _set("targetPools.0.workloadRuntime", "WasmWasi"),
            "targetPools[0].workloadRuntime",
            "'WasmWasi'",
            "must use OCIContainer",
        ),
        (
            _set("targetPools.0.nodeLabels", {"kubernetes.azure.com/wasm": "true"}),
            "targetPools[0].nodeLabels.kubernetes.azure.com/wasm",
            "'kubernetes.azure.com/wasm'",
            "reserves",
        ),
        (
            _set("targetPools.0.dedicatedTaint", {"key": "kubernetes.io/wasm", "effect": "NoSchedule"}),
            "targetPools[0].dedicatedTaint.key",
            "'kubernetes.io/wasm'",
            "reserves",
        ),
        (
            _set("legacyPools.0.nodeTaints", [{"key": "kubernetes.azure.com/x", "effect": "NoExecute"}]),
            "legacyPools[0].nodeTaints[0].key",
            "'kubernetes.azure.com/x'",
            "reserves",
        ),
        (_set("targetPools.0.name", "SpinPool"), "targetPools[0].name", "'SpinPool'", "lowercase letters"),
        (
            _set("targetPools.0.name", "spinpoolnumber1"),
            "targetPools[0].name",
            "'spinpoolnumber1'",
            "1-12 lowercase",
        ),
        (_set("targetPools.0.name", "1spin"), "targetPools[0].name", "'1spin'", "starting with a letter"),
        (
            _set("targetPools.0.autoscaling", {"minCount": 5, "maxCount": 3}),
            "targetPools[0].autoscaling",
            "minCount",
            "minCount <= maxCount",
        ),
        (_set("targetPools.0.count", 9), "targetPools[0]", "", "count 9 is outside autoscaling [2, 6]"),
        (_set("traffic.weight", 101), "traffic.weight", "101", "less than or equal to 100"),
        (_set("traffic.weight", -5), "traffic.weight", "-5", "greater than or equal to 0"),
        (_set("traffic.steps", [10, 50, 50]), "traffic.steps", "[10, 50, 50]", "strictly increasing"),
        (_set("traffic.steps", [10, 120]), "traffic.steps[1]", "120", "less than or equal to 100"),
        (
            _set("shim.runtimeClassName", "wasmtime-spin-v2"),
            "shim.runtimeClassName",
            "'wasmtime-spin-v2'",
            "collides with the AKS-managed WASI RuntimeClasses",
        ),
        (
            _set("shim.runtimeClassName", "wasmtime-spin-v0-9-0"),
            "shim.runtimeClassName",
            "'wasmtime-spin-v0-9-0'",
            "collides",
        ),
        (
            _set("shim.installerImage", {"registry": "k8s.gcr.io"}),
            "shim.installerImage.registry",
            "'k8s.gcr.io'",
            "frozen",
        ),
        (
            _set("shim.installerImage", {"digest": "sha256:abc"}),
            "shim.installerImage.digest",
            "'sha256:abc'",
            "64 lowercase hex",
        ),
        (_set("cluster.subscriptionId", "prod"), "cluster.subscriptionId", "'prod'", "UUID"),
        (
            _set("targetPools.0.vmsize", "Standard_D4s_v5"),
            "targetPools[0].vmsize",
            "'Standard_D4s_v5'",
            "unknown key",
        ),
        (
            _set(
                "workloads.0.resources",
                {"requests": {"cpu": "lots", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            ),
            "workloads[0].resources.requests.cpu",
            "'lots'",
            "Kubernetes quantity",
        ),
        # issue 13: values the target systems refuse, found by mutating the reference stack
        (_set("cluster.resourceGroup", "\0"), "cluster.resourceGroup", "'\\x00'", "Azure resource group"),
        (_set("cluster.resourceGroup", " "), "cluster.resourceGroup", "' '", "not ending in '.'"),
        (_set("cluster.resourceGroup", "rg."), "cluster.resourceGroup", "'rg.'", "not ending in '.'"),
        (_set("cluster.name", "\0"), "cluster.name", "'\\x00'", "AKS cluster name"),
        (
            _set("cluster.name", "-aks"),
            "cluster.name",
            "'-aks'",
            "starting and ending with a letter or digit",
        ),
        (
            _set("shim.installerImage", {"repository": "\0"}),
            "shim.installerImage.repository",
            "'\\x00'",
            "OCI repository",
        ),
        (
            _set("shim.installerImage", {"repository": "ünïcödé"}),
            "shim.installerImage.repository",
            "'ünïcödé'",
            "lowercase letters and digits",
        ),
        (
            _set("shim.installerImage", {"registry": "ghcr.io/spin"}),
            "shim.installerImage.registry",
            "'ghcr.io/spin'",
            "host[:port]",
        ),
        (_set("shim.installerImage", {"tag": ".v1"}), "shim.installerImage.tag", "'.v1'", "OCI tag"),
        (
            _set("workloads.1.gateway.hostnames", ["ünïcödé"]),
            "workloads[1].gateway.hostnames[0]",
            "'ünïcödé'",
            "Gateway API hostname",
        ),
        (
            _set("workloads.1.gateway.hostnames", ["shop.*.com"]),
            "workloads[1].gateway.hostnames[0]",
            "'shop.*.com'",
            "leading '*.' wildcard",
        ),
        (
            _set("workloads.1.gateway.pathPrefix", "/orders//v1"),
            "workloads[1].gateway.pathPrefix",
            "'/orders//v1'",
            "without '//'",
        ),
        (
            _set("workloads.1.image", "not an image!!"),
            "workloads[1].image",
            "'not an image!!'",
            "OCI image reference",
        ),
        (_set("traffic.weight", True), "traffic.weight", "True", "valid integer"),
        (_set("traffic.weight", "50"), "traffic.weight", "'50'", "valid integer"),
        (_set("workloads.0.canary", "yes"), "workloads[0].canary", "'yes'", "valid boolean"),
        (_set("workloads.0.canary", 1), "workloads[0].canary", "1", "valid boolean"),
        (_set("targetPools.0.count", 3.0), "targetPools[0].count", "3.0", "valid integer"),
        (_set("targetPools.0.zones", ["1", "2", "3", "2"]), "targetPools[0].zones", "'2'", "more than once"),
        (_set("targetPools.0.zones", ["1", "1"]), "targetPools[0].zones", "'1'", "more than once"),
        (_set("targetPools.0.vmSize", "*"), "targetPools[0].vmSize", "'*'", "Azure VM size"),
        (_set("workloads.0.name", "a" * 64), "workloads[0].name", "'aaaa", "at most 63 lowercase letters"),
        (
            _set(
                "workloads.0.resources",
                {"requests": {"cpu": "-1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            ),
            "workloads[0].resources.requests.cpu",
            "'-1'",
            "non-negative Kubernetes quantity",
        ),
        (
            _set(
                "workloads.0.resources",
                {"requests": {"cpu": "0.2", "memory": "1Gi"}, "limits": {"cpu": "100m", "memory": "1000Mi"}},
            ),
            "workloads[0].resources",
            "",
            "requests.cpu 0.2 is above limits.cpu 100m; requests.memory 1Gi is above limits.memory 1000Mi",
        ),
        (
            _set("workloads.0.probe", {"path": "/hello world"}),
            "workloads[0].probe.path",
            "'/hello world'",
            "match",
        ),
        (
            _set("shim.shimPath", "/usr/local/bin/shim v2"),
            "shim.shimPath",
            "'/usr/local/bin/shim v2'",
            "match",
        ),
    ],
)
def test_invalid_value_is_rejected_with_key_value_and_what_is_allowed(change, key, value, allowed):
    problems = _problems(_with(change))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{key}")
    assert value in problems[0]
    assert allowed in problems[0]


def test_missing_required_key_is_named():
    problems = _problems(_with(lambda raw: raw.pop("legacyPools")))
    assert problems == ["legacyPools: required key is missing (got (not set))"]


def test_decommission_needs_the_exact_confirmation():
    raw = _with(_set("phase", "decommission"))
    assert _problems(raw) == [
        "decommission.confirm: phase decommission deletes the WASI pools and the legacy workloads for good; "
        "set decommission.confirm to 'aks-contoso-prod/wasipool' to confirm (got (not set))"
    ]
    raw["decommission"] = {"confirm": "aks-contoso-prod/otherpool"}
    assert "(got 'aks-contoso-prod/otherpool')" in _problems(raw)[0]
    raw["decommission"] = {"confirm": "aks-contoso-prod/wasipool"}
    assert parse_config(raw).phase is Phase.DECOMMISSION


def test_duplicate_workload_names_are_rejected():
    raw = _with(lambda raw: raw["workloads"].append(copy.deepcopy(raw["workloads"][0])))
    assert _problems(raw) == ["workloads[3].name: duplicate workload web/hello-spin (got 'hello-spin')"]


def test_same_name_in_another_namespace_is_a_different_workload():
    def change(raw):
        twin = copy.deepcopy(raw["workloads"][0])
        twin["namespace"] = "staging"
        raw["workloads"].append(twin)

    assert len(parse_config(_with(change)).workloads) == 4


def test_every_problem_is_reported_at_once():
    def change(raw):
        raw["phase"] = "later"
        raw["traffic"]["weight"] = 300
        raw["targetPools"][0]["name"] = "Bad_Name"

    problems = _problems(_with(change))
    assert [p.split(":")[0] for p in problems] == ["phase", "targetPools[0].name", "traffic.weight"]


def test_pool_names_must_be_unique_and_the_shim_label_is_the_programs():
    def change(raw):
        raw["targetPools"][0]["name"] = "wasipool"
        raw["targetPools"][0]["nodeLabels"] = {"wasm-migration.io/shim": "x"}

    problems = _problems(_with(change))
    assert problems[0].startswith("legacyPools[0].name: pool names must be unique")
    assert problems[1].startswith("targetPools[0].name: pool names must be unique")
    assert problems[2].startswith("targetPools[0].nodeLabels: the shim selection label is added")


def test_every_wasi_pool_of_the_cluster_is_one_list_and_the_old_key_says_so():
    def change(raw):
        raw["legacyPool"] = raw.pop("legacyPools")[0]

    assert _problems(_with(change)) == [
        "legacyPools: required key is missing (got (not set))",
        "legacyPool: renamed `legacyPools`, a list of every WASI pool of the cluster: one stack migrates "
        "them all, as the shim, its pools and the alerts belong to the cluster; write legacyPools: [{name: "
        "...}] (got {'name': 'wasipool'})",
    ]
    two = _with(lambda raw: raw["legacyPools"].append({"name": "wasiarm"}))
    two["phase"] = "decommission"
    assert "set decommission.confirm to 'aks-contoso-prod/wasipool,wasiarm'" in _problems(two)[0]


def test_the_reference_config_is_valid():
    config = parse_config(BASE)
    assert config.phase is Phase.BASELINE
    assert config.shim.runtime_class_name == "wasm-spin"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _set("verification.thresholds.maxP95Ratio", 0.5),
            "verification.thresholds.maxP95Ratio: Input should be greater than or equal to 1 (got 0.5)",
        ),
        (
            _set("verification.thresholds.maxErrorRate", 1.5),
            "verification.thresholds.maxErrorRate: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            _set("verification.thresholds.maxErrorRate", -0.1),
            "verification.thresholds.maxErrorRate: Input should be greater than or equal to 0 (got -0.1)",
        ),
        (
            _set("verification.thresholds.maxMemoryRatio", "lots"),
            "verification.thresholds.maxMemoryRatio: Input should be a valid number (got 'lots')",
        ),
        (
            _set("verification.thresholds.maxP95Ratoi", 2),
            "verification.thresholds.maxP95Ratoi: unknown key; check its spelling against Pulumi.yaml; "
            "did you mean `maxP95Ratio`? (got 2)",
        ),
        (
            _set("verification.requestsPerSecond", 0),
            "verification.requestsPerSecond: Input should be greater than 0 (got 0.0)",
        ),
        (
            _set("verification.image.digest", "latest"),
            "verification.image.digest: must be an OCI digest: sha256: followed by 64 lowercase hex digits "
            "(or sha384:, sha512:) (got 'latest')",
        ),
        (
            _set("verification.paths", ["healthz"]),
            "verification.paths[0]: String should match pattern '^/' (got 'healthz')",
        ),
        (
            _set("alerts.mode", "email"),
            "alerts.mode: Input should be 'azureMonitor', 'prometheusOperator' or 'off' (got 'email')",
        ),
        (
            _set("alerts", {"mode": "azureMonitor"}),
            "alerts: mode azureMonitor needs azureMonitor {workspaceId, actionGroupId, location}",
        ),
        (
            _set("alerts.azureMonitor.workspaceId", "amw-contoso-prod"),
            "alerts.azureMonitor.workspaceId: String should match pattern",
        ),
        (
            _set("alerts.httpMetrics.durationBucket", "http_request_duration_seconds"),
            "alerts.httpMetrics.durationBucket: String should match pattern",
        ),
    ],
)
def test_bad_verification_and_alert_settings_are_rejected(change, expected):
    problems = _problems(_with(change))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected)


def test_alerts_are_off_only_when_the_config_says_so():
    raw = _with(lambda raw: raw.pop("alerts"))
    assert _problems(raw) == ["alerts: required key is missing (got (not set))"]
    off = parse_config(_with(_set("alerts", {"mode": "off"})))
    assert off.alerts.mode == "off"


def test_verification_defaults_pin_the_image_by_digest_and_probe_the_probe_path():
    config = parse_config(_with(lambda raw: raw.pop("verification")))
    assert config.verification.enabled is True
    assert config.verification.paths == ()
    assert config.verification.image.reference.startswith("docker.io/library/python:3.12-alpine@sha256:")
    assert config.verification.thresholds.max_p95_ratio == 1.5
    assert config.verification.thresholds.max_error_rate == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _set("shim.nodeLabel.kye", "x"),
            "shim.nodeLabel.kye: unknown key; check its spelling against "
            "Pulumi.yaml; did you mean `key`? (got 'x')",
        ),
        (_set("targetPools.0.nodeTaints", [{"key": "a", "efect": "NoSchedule"}]), "did you mean `effect`?"),
        (
            _set("legacyPools.0.nodeLabel", {"a": "b"}),
            "legacyPools[0].nodeLabel: unknown key; check its spelling against Pulumi.yaml; did you mean "
            "`nodeLabels`?",
        ),
        (_set("traffic.zzz", 1), "traffic.zzz: unknown key; check its spelling against Pulumi.yaml (got 1)"),
    ],
    ids=["nested", "in-a-list", "pool", "no-close-match"],
)
def test_unknown_keys_suggest_the_closest_key_at_their_level(change, expected):
    assert any(expected in line for line in _problems(_with(change)))


def test_echoed_values_and_keys_are_bounded_and_escaped():
    problems = _problems(_with(_set("traffic", {"weight": "\x00" + "9" * 10_000, "k\n" * 5_000: 1})))
    assert all(len(line) < 400 and "\x00" not in line and "\n" not in line for line in problems)
    assert problems[0].startswith("traffic.weight: Input should be a valid integer")


def test_a_flood_of_problems_is_cut_after_the_first_hundred():
    problems = _problems(_with(_set("targetPools", [{"name": "BAD", "count": -1}] * 200)))
    assert len(problems) == 101
    assert problems[-1].startswith("and ") and problems[-1].endswith(
        " more problems; fix the ones above first"
    )


@pytest.mark.parametrize(
    "namespace", ["kube-system", "kube-anything", "default", "calico-system", "aks-command"]
)
@pytest.mark.parametrize("adopt", [False, True])
def test_the_shim_namespace_is_never_one_kubernetes_or_aks_owns(namespace, adopt):
    """Labelled pod-security privileged for the installer: adopting it would not change that."""
    raw = _with(_set("shim", {"namespace": namespace, "adoptExisting": {"namespace": adopt}}))
    (line,) = _problems(raw)
    assert line.startswith("shim.namespace: is a namespace Kubernetes (default, kube-*) or AKS (")
    assert "labels it pod-security privileged for the installer" in line
    assert line.endswith(f"(got '{namespace}')")


def test_the_shim_namespace_is_never_one_the_config_uses_for_anything_else():
    """`web` is a workload's namespace, `gateway-system` a gateway's, `monitoring` the PrometheusRule's."""

    def shared(namespace: str, adopt: bool = False):
        raw = _with(_set("shim", {"namespace": namespace, "adoptExisting": {"namespace": adopt}}))
        raw["alerts"] = {"mode": "prometheusOperator", "prometheusOperator": {"namespace": "monitoring"}}
        return _problems(raw)

    assert shared("web") == [
        "shim.namespace: is also the namespace of workloads[0]; the shim needs a namespace of its own: "
        "prepare creates it and labels it pod-security privileged for the installer (adoptExisting.namespace "
        "would import it, and label it all the same), e.g. wasm-shim-system (got 'web')"
    ]
    assert shared("shop", adopt=True)[0].startswith(
        "shim.namespace: is also the namespace of workloads[1], workloads[2];"
    )
    assert shared("gateway-system")[0].startswith(
        "shim.namespace: is also the namespace of workloads[1].gateway;"
    )
    assert shared("monitoring")[0].startswith(
        "shim.namespace: is also the namespace of alerts.prometheusOperator;"
    )
    # With Azure Monitor alerts (the reference's) no PrometheusRule lives in `monitoring`.
    assert parse_config(_with(_set("shim.namespace", "monitoring"))).shim.namespace == "monitoring"
