"""Random mutations of the reference `parallel` stack, as a new user makes them (issue 13): a key
deleted, a value replaced by "", " ", NUL, unicode, a bool, a huge number, a path or "*", an unknown
key, a list item duplicated. For each one:

1. `migrate check` and the Pulumi program end normally or with the config error, never otherwise;
2. a mutation that makes a value invalid for its target system is refused, on a line naming its key;
3. when the program refuses a config it has registered nothing.

Which mutations are invalid is decided by an oracle below, written from the target systems' rules
(Azure, AKS, Kubernetes, OCI, Gateway API) with plain string tests, not by calling the code under test.
It says "invalid" only where a rule is certain and None where it cannot tell (e.g. a deleted optional
key whose default the program supplies)."""

from __future__ import annotations

import contextlib
import copy
import io
import string
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pulumi
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.core.config import PROJECT, Phase
from migrate.__main__ import main
from migrate.state import EXIT_INPUT, EXIT_OK, EXIT_PROBLEMS
from tests.conftest import load_raw, phase_path

REFERENCE = load_raw(phase_path(Phase.PARALLEL, 50))
HUGE = 10**30
VALUES = ("", " ", "\0", "ünïcödé", True, False, HUGE, "/etc/passwd", "*")
UNKNOWN_KEY = "unknownKey"
Path_ = tuple[str | int, ...]


def _nodes(node: Any, path: Path_ = ()) -> list[tuple[Path_, Any]]:
    found = [(path, node)]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _nodes(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _nodes(child, (*path, index))
    return found


NODES = _nodes(REFERENCE)
PATHS = [path for path, _ in NODES if path]
DICTS = [path for path, node in NODES if isinstance(node, dict)]
LISTS = [path for path, node in NODES if isinstance(node, list) and node]

mutations = st.one_of(
    st.tuples(st.just("delete"), st.sampled_from(PATHS)),
    st.tuples(st.just("replace"), st.sampled_from(PATHS), st.sampled_from(VALUES)),
    st.tuples(st.just("unknown key"), st.sampled_from(DICTS)),
    st.tuples(st.just("duplicate"), st.sampled_from(LISTS)),
)


def mutate(mutation: tuple[Any, ...]) -> tuple[dict[str, Any], Path_]:
    """The mutated config and the key path the mutation touched."""
    kind, path, *value = mutation
    raw = copy.deepcopy(REFERENCE)
    parent = raw
    for key in path[:-1]:
        parent = parent[key]
    if kind == "delete":
        del parent[path[-1]]
    elif kind == "replace":
        parent[path[-1]] = value[0]
    else:
        node = parent[path[-1]] if path else raw
        if kind == "unknown key":
            node[UNKNOWN_KEY] = "x"
            path = (*path, UNKNOWN_KEY)
        else:
            node.append(copy.deepcopy(node[0]))
    return raw, path


# ----------------------------------------------------------------------------------------------- oracle


def generic(path: Path_) -> str:
    """`targetPools.*.nodeLabels.<key>`: list indices as `*`, free map keys as `<key>`."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append("*")
        elif parts and parts[-1] == "nodeLabels":
            parts.append("<key>")
        else:
            parts.append(part)
    return ".".join(parts)


ALNUM = set(string.ascii_letters + string.digits)
LOWER_ALNUM = set(string.ascii_lowercase + string.digits)


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _dns_label(value: Any) -> bool:
    """RFC 1123 label as Kubernetes uses it (apimachinery IsDNS1123Label)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 63
        and set(value) <= LOWER_ALNUM | {"-"}
        and value[0] != "-"
        and value[-1] != "-"
    )


def _dns_subdomain(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 253 and all(map(_dns_label, value.split(".")))


def _label_value(value: Any) -> bool:
    """Kubernetes label value: empty, or up to 63 alphanumerics with '-', '_', '.' inside."""
    if not isinstance(value, str):
        return False
    return value == "" or (
        len(value) <= 63 and set(value) <= ALNUM | set("-_.") and value[0] in ALNUM and value[-1] in ALNUM
    )


def _label_key(value: Any) -> bool:
    if not isinstance(value, str) or value.count("/") > 1:
        return False
    prefix, slash, name = value.rpartition("/")
    return (not slash or _dns_subdomain(prefix)) and name != "" and _label_value(name)


def _resource_group(value: Any) -> bool:
    """Azure: 1-90 of letters, digits (Unicode), '_', '(', ')', '-', '.', not ending in '.'."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 90
        and not value.endswith(".")
        and all(c.isalnum() or c in "_()-." for c in value)
    )


def _aks_cluster(value: Any) -> bool:
    """AKS: 1-63 of ASCII letters, digits, '-', '_', starting and ending with a letter or digit."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 63
        and set(value) <= ALNUM | {"-", "_"}
        and value[0] in ALNUM
        and value[-1] in ALNUM
    )


def _aks_pool(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 12
        and value[0] in string.ascii_lowercase
        and set(value) <= LOWER_ALNUM
    )


def _uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(value) == 36 and bool(uuid.UUID(value))
    except ValueError:
        return False


def _quantity(value: Any) -> bool | None:
    """A string must be a Kubernetes quantity (digits first, then an optional suffix, no spaces); a
    JSON number is also a quantity to Kubernetes (huge ones are capped), so numbers are unknown here."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return None
    return isinstance(value, str) and value[:1].isdigit() and value.isascii() and " " not in value


HEX = "0123456789abcdef"


def _arm_id(value: Any, resource_type: str) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("/subscriptions/")
        and f"/providers/{resource_type}/" in value
    )


def _is_number(value: Any, low: float, high: float, low_open: bool = False) -> bool:
    """A JSON number (not a bool) within [low, high] ((low, high] with low_open)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return False
    return (low < value if low_open else low <= value) and value <= high


def _prometheus_name(value: Any, colon: bool) -> bool:
    first = string.ascii_letters + "_" + (":" if colon else "")
    rest = first + string.digits
    return isinstance(value, str) and value != "" and value[0] in first and all(c in rest for c in value)


def _oci_component_chars(value: Any, allowed: set[str]) -> bool:
    return isinstance(value, str) and value != "" and set(value) <= allowed


ORACLE = {
    "phase": lambda v: v in ("baseline", "prepare", "parallel", "cutover", "decommission"),
    "cluster.subscriptionId": _uuid,
    "cluster.resourceGroup": _resource_group,
    "cluster.name": _aks_cluster,
    "cluster.kubernetesVersion": lambda v: isinstance(v, str) and v.startswith("1.") and v[2:].isdigit(),
    "legacyPools.*.name": _aks_pool,
    "targetPools.*.name": _aks_pool,
    "targetPools.*.vmSize": lambda v: isinstance(v, str) and v.startswith(("Standard_", "Basic_")),
    "targetPools.*.count": lambda v: _is_int(v, 0, 1000),
    "targetPools.*.autoscaling.minCount": lambda v: _is_int(v, 0, 1000),
    "targetPools.*.autoscaling.maxCount": lambda v: _is_int(v, 1, 1000),
    # The Linux OS SKUs of AKS API 2025-09-01, which pulumi-azure-native 3.29 pins (no Ubuntu2404 yet).
    "targetPools.*.osSku": lambda v: v in ("Ubuntu", "Ubuntu2204", "AzureLinux", "AzureLinux3"),
    "targetPools.*.zones.*": lambda v: v in ("1", "2", "3"),
    # major.minor only: a pinned patch fights AKS auto-upgrade.
    "targetPools.*.orchestratorVersion": lambda v: isinstance(v, str) and v[:2] == "1." and v[2:].isdigit(),
    "targetPools.*.maxSurge": lambda v: isinstance(v, str) and v.rstrip("%").isdigit(),
    "targetPools.*.nodeLabels.<key>": _label_value,
    "targetPools.*.dedicatedTaint.key": _label_key,
    "targetPools.*.dedicatedTaint.value": _label_value,
    "targetPools.*.dedicatedTaint.effect": lambda v: v in ("NoSchedule", "PreferNoSchedule", "NoExecute"),
    "shim.runtimeClassName": _dns_subdomain,
    "shim.handler": _dns_label,
    # OCI distribution spec: registry host[:port] of ASCII letters, digits, '.', '-'; repository of
    # lowercase path components (no leading '/'); tag of [A-Za-z0-9_.-], not starting with '.' or '-'.
    "shim.installerImage.registry": lambda v: _oci_component_chars(v, ALNUM | set(".-:")) and v[0] in ALNUM,
    "shim.installerImage.repository": lambda v: (
        _oci_component_chars(v, LOWER_ALNUM | set("._-/")) and v[0] in LOWER_ALNUM
    ),
    "shim.installerImage.tag": lambda v: _oci_component_chars(v, ALNUM | set("_.-")) and v[0] not in ".-",
    "workloads.*.name": _dns_label,
    "workloads.*.namespace": _dns_label,
    # The exported Deployment and Service, kept under manifests/: no mutation value names such a file.
    "workloads.*.manifest": lambda v: (
        isinstance(v, str) and v.startswith("manifests/") and v.endswith(".yaml")
    ),
    "workloads.*.image": lambda v: _oci_component_chars(v, ALNUM | set("._-/:@")) and v[0] in ALNUM,
    "workloads.*.canary": lambda v: isinstance(v, bool),
    "workloads.*.canaryReplicas": lambda v: _is_int(v, 1, 100),
    "workloads.*.replicas": lambda v: _is_int(v, 1, 1000),
    "workloads.*.resources.requests.cpu": _quantity,
    "workloads.*.resources.requests.memory": _quantity,
    "workloads.*.resources.limits.cpu": _quantity,
    "workloads.*.resources.limits.memory": _quantity,
    # An HTTP request target in origin form starts with '/' (RFC 9112, 3.2.1).
    "workloads.*.probe.path": lambda v: isinstance(v, str) and v.startswith("/") and v.isascii(),
    # A container port number, or an IANA service name (lowercase letters, digits, '-').
    "workloads.*.probe.port": lambda v: _is_int(v, 1, 65535) or (_dns_label(v) and len(v) <= 15),
    "workloads.*.containerPort": lambda v: _is_int(v, 1, 65535),
    # The legacy Service's port by number or by name.
    "workloads.*.servicePort": lambda v: _is_int(v, 1, 65535) or _dns_label(v),
    "workloads.*.gateway.name": _dns_subdomain,
    "workloads.*.gateway.namespace": _dns_label,
    "workloads.*.gateway.sectionName": _dns_subdomain,
    # Gateway API Hostname: DNS labels, a wildcard only as a whole leading '*.' label, no IPs.
    "workloads.*.gateway.hostnames.*": lambda v: (
        isinstance(v, str)
        and all(map(_dns_label, v.removeprefix("*.").split(".")))
        and not v.replace(".", "").isdigit()
    ),
    "workloads.*.gateway.pathPrefix": lambda v: isinstance(v, str) and v.startswith("/") and v.isascii(),
    "traffic.weight": lambda v: _is_int(v, 0, 100),
    "traffic.steps.*": lambda v: _is_int(v, 0, 100),
    # The verification Job's image: the same OCI rules as the installer's; a digest is sha256:<64 hex>.
    "verification.image.registry": lambda v: _oci_component_chars(v, ALNUM | set(".-:")) and v[0] in ALNUM,
    "verification.image.repository": lambda v: (
        _oci_component_chars(v, LOWER_ALNUM | set("._-/")) and v[0] in LOWER_ALNUM
    ),
    "verification.image.tag": lambda v: _oci_component_chars(v, ALNUM | set("_.-")) and v[0] not in ".-",
    "verification.image.digest": lambda v: (
        isinstance(v, str)
        and v.startswith("sha256:")
        and len(v) == 71
        and set(v[7:]) <= set("0123456789abcdef")
    ),
    "verification.compareBodies": lambda v: isinstance(v, bool),
    "verification.requestsPerPath": lambda v: _is_int(v, 1, 10_000),
    "verification.requestsPerSecond": lambda v: _is_number(v, 0, 200, low_open=True),
    "verification.thresholds.maxErrorRate": lambda v: _is_number(v, 0, 1),
    "verification.thresholds.maxP95Ratio": lambda v: _is_number(v, 1, 100),
    "verification.thresholds.maxColdStartRatio": lambda v: _is_number(v, 1, 100),
    "verification.thresholds.maxMemoryRatio": lambda v: _is_number(v, 1, 100),
    "alerts.mode": lambda v: v in ("azureMonitor", "prometheusOperator", "off"),
    # ARM resource ids of an Azure Monitor workspace and an action group.
    "alerts.azureMonitor.workspaceId": lambda v: (
        isinstance(v, str)
        and v.startswith("/subscriptions/")
        and "/providers/Microsoft.Monitor/accounts/" in v
    ),
    "alerts.azureMonitor.actionGroupId": lambda v: (
        isinstance(v, str)
        and v.startswith("/subscriptions/")
        and "/providers/Microsoft.Insights/actionGroups/" in v
    ),
    "alerts.azureMonitor.location": lambda v: None if isinstance(v, str) and v.strip() else False,
    # Prometheus metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':').
    "alerts.httpMetrics.requestsTotal": lambda v: _prometheus_name(v, colon=True),
    "alerts.httpMetrics.durationBucket": lambda v: _prometheus_name(v, colon=True) and v.endswith("_bucket"),
    "alerts.httpMetrics.statusLabel": lambda v: _prometheus_name(v, colon=False),
    "alerts.httpMetrics.by.*": lambda v: _prometheus_name(v, colon=False),
    "alerts.httpMetrics.maxErrorRate": lambda v: _is_number(v, 0, 1),
    "alerts.httpMetrics.maxP95Seconds": lambda v: _is_number(v, 0, 600, low_open=True),
}
# Keys a target system cannot do without: the resource's identity, or what AKS requires with autoscaling.
REQUIRED = {
    "phase",
    "cluster",
    "cluster.subscriptionId",
    "cluster.resourceGroup",
    "cluster.name",
    "legacyPools",
    "legacyPools.*.name",
    "targetPools",
    "targetPools.*.name",
    "targetPools.*.autoscaling.minCount",
    "targetPools.*.autoscaling.maxCount",
    "targetPools.*.dedicatedTaint.key",
    "workloads.*.name",
    "workloads.*.manifest",
    "workloads.*.gateway.name",
    "workloads.*.gateway.namespace",
}
# Duplicates the target systems refuse: an availability zone twice (Azure), two agent pools of one name
# in a cluster (AKS), two Deployments of one namespace/name (Kubernetes).
# Traffic steps must strictly increase, so a repeated step is refused too.
NO_DUPLICATES = {"targetPools.*.zones", "targetPools", "legacyPools", "workloads", "traffic.steps"}


def invalid(mutation: tuple[Any, ...]) -> bool | None:
    """True when the target systems' rules refuse the mutated config; None when the oracle cannot tell."""
    kind, path, *value = mutation
    key = generic(path)
    node = dict(NODES)[path]
    if kind == "delete":
        if key == "targetPools.*":
            return True  # the only target pool: nothing left to move the workloads to
        return True if key in REQUIRED else None
    if kind == "unknown key":
        return None if key.endswith("nodeLabels") else True  # a new label `unknownKey: x` is valid
    if kind == "duplicate":
        return True if key in NO_DUPLICATES else None
    if isinstance(node, dict | list):
        return True  # an object or a list replaced by a scalar
    verdict = ORACLE[key](value[0])
    return None if verdict is None else not verdict


def _key_of(line: str, stack_file: str) -> str:
    return line.removeprefix(f"{stack_file}: ").split(": ", 1)[0]


def _related(line_key: str, mutated: str) -> bool:
    """The problem names the mutated key, one of its parents or one of its children."""
    shorter, longer = sorted((line_key, mutated), key=len)
    return longer == shorter or longer.startswith((f"{shorter}.", f"{shorter}["))


def _key_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# ------------------------------------------------------------------------------------------- property


def run_check(raw: dict[str, Any]) -> tuple[int, list[str]]:
    with tempfile.TemporaryDirectory() as directory:
        stack_file = Path(directory) / "Pulumi.mutated.yaml"
        stack_file.write_text(
            yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in raw.items()}}, allow_unicode=True)
        )
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", str(stack_file), "--kubernetes-version", "1.33"])
        lines = out.getvalue().splitlines() + err.getvalue().splitlines()
        return code, [_key_of(line, str(stack_file)) for line in lines if line.startswith(str(stack_file))]


def test_the_oracle_knows_every_scalar_of_the_reference():
    """A key the oracle has no rule for would make the property fail with a KeyError; fail here first,
    naming it, and make sure the oracle is not vacuous on the reference values themselves."""
    for path, node in NODES:
        if path and not isinstance(node, dict | list):
            assert generic(path) in ORACLE, generic(path)
            assert ORACLE[generic(path)](node) is not False, (path, node)


@settings(
    max_examples=40,
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations)
# The values issue 13 found accepted before this check existed:
@example(("replace", ("cluster", "resourceGroup"), "\0"))
@example(("replace", ("cluster", "resourceGroup"), " "))
@example(("replace", ("cluster", "name"), "\0"))
@example(("replace", ("shim", "installerImage", "repository"), "\0"))
@example(("replace", ("shim", "installerImage", "repository"), "ünïcödé"))
@example(("replace", ("workloads", 1, "gateway", "hostnames", 0), "ünïcödé"))
@example(("replace", ("traffic", "weight"), True))
@example(("duplicate", ("targetPools", 0, "zones")))
@example(("replace", ("workloads", 1, "image"), "*"))
@example(("unknown key", ()))
def test_mutated_config_is_refused_cleanly_and_registers_nothing(pulumi_run, mutation):
    raw, touched = mutate(mutation)
    expected_invalid = invalid(mutation)

    # 1. check ends with a verdict (an exception here fails the test), lines in the stack file's name.
    code, keys = run_check(raw)
    if code == EXIT_INPUT:  # refused before validation: an environment file must name its phase
        assert mutation == ("delete", ("phase",)), keys
        code, keys = EXIT_PROBLEMS, ["phase"]
    assert code in (EXIT_OK, EXIT_PROBLEMS), keys
    assert (code == EXIT_PROBLEMS) == bool(keys), keys

    # 2. invalid for the target system: refused, on a line that names the key.
    if expected_invalid:
        assert code == EXIT_PROBLEMS, f"{mutation} was accepted"
        assert any(_related(key, _key_path(touched)) for key in keys), (mutation, keys)

    # 1 and 3. the program raises nothing but the config error, and then has registered nothing.
    # A top-level unknown key never reaches the program: the Pulumi CLI refuses project keys that
    # Pulumi.yaml does not declare (pulumi/pulumi#11127), and the program reads only the declared ones.
    if touched == (UNKNOWN_KEY,):
        return
    try:
        run = pulumi_run(raw)
    except pulumi.RunError as error:
        assert str(error).startswith("invalid stack configuration, nothing was changed:\n  - ")
        assert "Traceback" not in str(error)
        assert pulumi_run.last.custom() == {}
        assert pulumi_run.last.mocks.resources == []
        assert code == EXIT_PROBLEMS, "the program refused what check accepted"
        return
    assert not expected_invalid, f"the program accepted {mutation}"
    assert run.custom(), "a valid config registers the phase's resources"
    config_keys = [key for key in keys if key not in ("schema", "scheduling")]
    assert config_keys == [], "check refused a config the program accepted"
