"""From cutover on, a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) and its binding refuse
NEW pods that ask for the retired WASI runtime: an AKS WASI RuntimeClass, or a WASI pool by its labels.
The legacy pods the way back needs, the other pods still on the WASI pools and DaemonSet pods are
exempt. See docs/admission-policy.md.

The CEL is standard CEL only (no Kubernetes extension library), so tests evaluate the very same strings
with cel-python. Every field a pod may leave out is read behind `has()`, a map key behind `in`, so no
pod shape makes an expression fail."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NotRequired, TypedDict

from components.core.config import PROJECT, MigrationConfig, Phase
from components.core.kubernetes import (
    AGENTPOOL_LABELS,
    AKS_WASI_CLASS_PATTERN,
    AKS_WASI_RUNTIME_CLASSES,
    WASI_NODE_LABEL_PREFIX,
)
from components.desired.spec import ResourceSpec, kubernetes_spec, managed_labels
from components.export.migration import Migration

API_VERSION = "admissionregistration.k8s.io/v1"
POLICY_NAME = f"{PROJECT}-legacy-wasi"
DOCS = "docs/admission-policy.md"
# AKS's own pods: kube-system is left out by the namespaceSelector (the API server sets this label on
# every namespace, Kubernetes 1.21+), so nothing here can stand between AKS and its add-ons.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
SYSTEM_NAMESPACES = ("kube-system",)
# The characters of a Kubernetes object name (DNS subdomain); a name is put into a regular expression
# only after this check, with `.` as `[.]`, so no name can change the expression.
_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


class ExemptWorkloadArgs(TypedDict):
    """The pods of one legacy Deployment: its namespace and its selector (every pod its ReplicaSets
    create matches it: the API server refuses a template its selector does not select)."""

    namespace: str
    name: str
    selector: dict[str, Any]  # LabelSelector: matchLabels, matchExpressions


class ExemptOwnerArgs(TypedDict):
    """The pods of a workload still on a WASI pool that is not migrated (`decommission.acknowledgeOtherPods`,
    `cluster.export`): `<namespace>/<name>` of the top of its controller chain, and that controller's
    kind when the export says it (else every kind the name may be)."""

    namespace: str
    name: str
    kind: NotRequired[str]


class AdmissionPolicyArgs(TypedDict):
    legacy_runtime_classes: list[str]  # besides the AKS names and their pattern
    legacy_pools: list[str]
    exempt_workloads: list[ExemptWorkloadArgs]
    exempt_owners: list[ExemptOwnerArgs]
    instead: str  # what the refusal says to do instead


def admission_resource_names(component: str) -> dict[str, str]:
    return {"policy": f"{component}-policy", "binding": f"{component}-binding"}


# ---------------------------------------------------------------------------------------------------
# CEL, from values: every value is a string literal made by `_string`.


def _string(value: str) -> str:
    """A CEL string literal (single-quoted; backslash and quote escaped, no raw control characters)."""
    if any(ord(char) < 0x20 for char in value):
        raise ValueError(f"no control characters in a CEL literal: {value!r}")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(value) for value in values) + "]"


def _name_regex(name: str, suffix: str) -> str | None:
    """`name` then `suffix`, anchored; None for what is not an object name (nothing of it then)."""
    if not _NAME.fullmatch(name):
        return None
    return "^" + name.replace(".", "[.]") + suffix + "$"


LABELS = "object.metadata.labels"
OWNERS = "object.metadata.ownerReferences"
NODE_SELECTOR = "object.spec.nodeSelector"
NODE_AFFINITY = "object.spec.affinity.nodeAffinity"
REQUIRED = f"{NODE_AFFINITY}.requiredDuringSchedulingIgnoredDuringExecution"


def _has_label(key: str) -> str:
    return f"(has({LABELS}) && {_string(key)} in {LABELS})"


def _requirement(key: str, operator: str, values: list[str]) -> str:
    """One label selector requirement (apimachinery labels.Requirement.Matches): a missing label fails
    In and Exists and passes NotIn and DoesNotExist; the value is read only once the key is known."""
    value = f"{LABELS}[{_string(key)}]"
    if operator == "In":
        return f"({_has_label(key)} && {value} in {_list(values)})"
    if operator == "NotIn":
        return f"(!{_has_label(key)} || !({value} in {_list(values)}))"
    if operator == "Exists":
        return _has_label(key)
    if operator == "DoesNotExist":
        return f"!{_has_label(key)}"
    raise ValueError(f"unknown label selector operator {operator!r}")  # the loader refuses these first


def selector_expression(selector: Mapping[str, Any]) -> str:
    """A LabelSelector as CEL over the pod's labels: every matchLabels pair and every requirement. An
    empty selector selects everything (never the case for a Deployment: the API server refuses one)."""
    parts = [_requirement(k, "In", [v]) for k, v in sorted((selector.get("matchLabels") or {}).items())]
    parts += [
        _requirement(str(e["key"]), str(e["operator"]), [str(v) for v in e.get("values") or []])
        for e in selector.get("matchExpressions") or []
    ]
    return " && ".join(parts) if parts else "true"


def _owned_by(kind: str, name_test: str) -> str:
    return (
        f"(has({OWNERS}) && {OWNERS}.exists(r, has(r.kind) && has(r.name) && r.kind == {_string(kind)}"
        f" && {name_test}))"
    )


# Pod names: a Deployment's ReplicaSets are `<deployment>-<pod-template-hash>` (rand.SafeEncodeString's
# alphabet), a CronJob's Jobs `<cronjob>-<scheduled time in minutes>` (kubernetes pkg/controller/cronjob
# getJobName); a StatefulSet, Job or ReplicaSet owns its pods under its own name.
_HASH = "-[bcdfghjklmnpqrstvwxz2456789]+"


def owner_expression(owner: ExemptOwnerArgs) -> str:
    """The pods of one controller (or one bare Pod) in its namespace, recognised by their owner
    reference (or name), as the controllers name what they create."""
    name = owner["name"]
    by_kind = {
        "Pod": f"(has(object.metadata.name) && object.metadata.name == {_string(name)})",
        **{
            kind: _owned_by(kind, f"r.name == {_string(name)}")
            for kind in ("StatefulSet", "Job", "ReplicaSet", "ReplicationController")
        },
    }
    for kind, owned_by, suffix in (("Deployment", "ReplicaSet", _HASH), ("CronJob", "Job", "-[0-9]+")):
        regex = _name_regex(name, suffix)
        by_kind[kind] = _owned_by(owned_by, f"r.name.matches({_string(regex)})") if regex else "false"
    known = owner.get("kind")
    if known is None:
        tests = list(by_kind.values())
    else:
        tests = [by_kind.get(known, _owned_by(known, f"r.name == {_string(name)}"))]
    return f"(request.namespace == {_string(owner['namespace'])} && ({' || '.join(tests)}))"


def workload_expression(workload: ExemptWorkloadArgs) -> str:
    namespace, selector = _string(workload["namespace"]), selector_expression(workload["selector"])
    return f"(request.namespace == {namespace} && {selector})"


def match_conditions(args: AdmissionPolicyArgs) -> list[dict[str, str]]:
    """Pods the policy never looks at (a false condition leaves the pod out; Kubernetes evaluates these
    before the validations and cannot see `variables` here)."""
    conditions = [
        {
            # DaemonSet pods follow every node, WASI ones included (kube-proxy, CSI, monitoring agents);
            # the DaemonSet controller pins them with matchFields on metadata.name, never by pool label,
            # but the RuntimeClass admission plugin could add a WASI node label. Mirror pods (owner Node)
            # show static pods the kubelet already runs: refusing them hides them and stops nothing.
            "name": "not-daemonset-or-mirror-pod",
            "expression": (
                f"!has({OWNERS}) || !{OWNERS}.exists(r, has(r.kind) && r.kind in ['DaemonSet', 'Node'])"
            ),
        }
    ]
    exempt = [workload_expression(w) for w in args["exempt_workloads"]]
    exempt += [owner_expression(o) for o in args["exempt_owners"]]
    if exempt:
        conditions.append(
            {
                # The legacy pods a way back to parallel recreates (the engine deletes this policy only
                # after the legacy Deployment's update has awaited them Ready), and the other pods on
                # the WASI pools, which run there until decommission deletes the pools.
                "name": "not-exempt",
                "expression": "!(" + " || ".join(exempt) + ")",
            }
        )
    return conditions


def variables() -> list[dict[str, str]]:
    """Each optional part of the pod read once, with a default for a pod that leaves it out."""
    return [
        {
            "name": "runtimeClass",
            "expression": "has(object.spec.runtimeClassName) ? object.spec.runtimeClassName : ''",
        },
        {"name": "nodeSelector", "expression": f"has({NODE_SELECTOR}) ? {NODE_SELECTOR} : {{}}"},
        {
            "name": "requiredNodeTerms",
            "expression": (
                f"has(object.spec.affinity) && has({NODE_AFFINITY}) && has({REQUIRED})"
                f" && has({REQUIRED}.nodeSelectorTerms) ? {REQUIRED}.nodeSelectorTerms : []"
            ),
        },
    ]


def _wasi_requirement(pools: list[str]) -> str:
    """A NodeSelectorRequirement that asks for a WASI node: In on a pool label naming a legacy pool, or
    In / Exists on a WASI runtime label (NotIn and DoesNotExist keep a pod OFF the pools: the container
    target's own pods say NotIn)."""
    return (
        "has(e.key) && has(e.operator) && ("
        f"(e.key in {_list(AGENTPOOL_LABELS)} && e.operator == 'In' && has(e.values)"
        f" && e.values.exists(v, v in {_list(pools)}))"
        f" || (e.key.startsWith({_string(WASI_NODE_LABEL_PREFIX)}) && e.operator in ['In', 'Exists']))"
    )


def validations(args: AdmissionPolicyArgs) -> list[dict[str, str]]:
    """Each is true for an admitted pod. The RuntimeClass admission plugin (a mutating one, so before
    these run) has already merged the class's scheduling.nodeSelector into the pod's, so a class of
    one's own that schedules by pool label is caught by the pool checks too."""
    classes = sorted({*AKS_WASI_RUNTIME_CLASSES, *args["legacy_runtime_classes"]})
    pools = sorted(args["legacy_pools"])
    instead, named = args["instead"], ", ".join(pools)
    return [
        {
            "expression": (
                f"!(variables.runtimeClass in {_list(classes)}"
                f" || variables.runtimeClass.matches({_string(AKS_WASI_CLASS_PATTERN.pattern)}))"
            ),
            "message": f"this RuntimeClass runs on the retired AKS WASI node pools; {instead}",
            "messageExpression": (
                "'RuntimeClass ' + variables.runtimeClass + ' runs on the retired AKS WASI node pools; ' + "
                + _string(instead)
            ),
            "reason": "Forbidden",
        },
        {
            "expression": (
                "!variables.nodeSelector.exists(k, "
                f"(k in {_list(AGENTPOOL_LABELS)} && variables.nodeSelector[k] in {_list(pools)})"
                f" || k.startsWith({_string(WASI_NODE_LABEL_PREFIX)}))"
            ),
            "message": f"the nodeSelector asks for a retired AKS WASI node pool ({named}); {instead}",
            "reason": "Forbidden",
        },
        {
            "expression": (
                "!variables.requiredNodeTerms.exists(t, has(t.matchExpressions)"
                f" && t.matchExpressions.exists(e, {_wasi_requirement(pools)}))"
            ),
            "message": (
                f"the required node affinity asks for a retired AKS WASI node pool ({named}); {instead}"
            ),
            "reason": "Forbidden",
        },
    ]


def policy_manifest(args: AdmissionPolicyArgs) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY_NAME, "labels": managed_labels(POLICY_NAME, "admission-policy")},
        "spec": {
            # Ignore: an expression that fails (it should not: see the module docstring) or a cost limit
            # the API server hits lets the pod in. Under Fail it would refuse every pod create in scope,
            # system pods and the new side's included; a missed refusal only leaves a pod Pending on a
            # pool that is going away.
            "failurePolicy": "Ignore",
            "matchConstraints": {
                # CREATE only: a running pod is never touched, and runtimeClassName, nodeSelector and
                # affinity cannot change on UPDATE anyway.
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["pods"],
                        "scope": "Namespaced",
                    }
                ],
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": list(SYSTEM_NAMESPACES)}
                    ]
                },
            },
            "matchConditions": match_conditions(args),
            "variables": variables(),
            "validations": validations(args),
        },
    }


def binding_manifest() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY_NAME, "labels": managed_labels(POLICY_NAME, "admission-policy")},
        # No matchResources: the policy's own constraints apply. Deny: the pod create fails with the
        # message (a ReplicaSet's FailedCreate event shows it).
        "spec": {"policyName": POLICY_NAME, "validationActions": ["Deny"]},
    }


def admission_policy_specs(name: str, args: AdmissionPolicyArgs) -> list[ResourceSpec]:
    """The policy, then its binding (created after it and deleted before it). Both are the program's
    own objects, created (not imported, not patches); pulumi-kubernetes has no awaiter for either
    (provider/pkg/await/awaiters.go), so each is done once the API server has stored it."""
    names = admission_resource_names(name)
    return [
        kubernetes_spec(names["policy"], name, policy_manifest(args)),
        kubernetes_spec(names["binding"], name, binding_manifest(), depends_on=(names["policy"],)),
    ]


# ---------------------------------------------------------------------------------------------------
# From the validated config and the exports


def registers_policy(config: MigrationConfig) -> bool:
    """Cutover and decommission, unless `admissionPolicy.enabled` is false."""
    return config.admission_policy.enabled and config.phase.at_least(Phase.CUTOVER)


def _instead(config: MigrationConfig) -> str:
    docs = config.admission_policy.docs_url or f"{DOCS} of {PROJECT}"
    if config.uses_shim:
        where = f"run Spin apps on RuntimeClass {config.shim.runtime_class_name} (containerd-shim-spin)"
    else:
        where = "run Spin apps in the Spin container image or in Azure Container Instances"
    return f"the WASI pools are being migrated: {where}; see {docs}"


def admission_policy_args(migration: Migration) -> AdmissionPolicyArgs | None:
    """None before cutover. The legacy Deployments' pods are exempt in cutover only (the way back to
    parallel scales them up again; decommission deletes them); every pod still on a WASI pool that is
    not migrated is exempt until the pools go: those `cluster.export` finds, and those
    `decommission.acknowledgeOtherPods` names."""
    config = migration.config
    if not registers_policy(config):
        return None
    own = config.shim.runtime_class_name
    classes = {w.runtime_class for w in migration.workloads if w.runtime_class and w.runtime_class != own}
    workloads: list[ExemptWorkloadArgs] = []
    if config.phase is Phase.CUTOVER:
        workloads = [
            {
                "namespace": w.config.namespace,
                "name": w.config.name,
                "selector": dict(w.deployment["spec"]["selector"]),
            }
            for w in migration.workloads
        ]
    owners: dict[tuple[str, str], ExemptOwnerArgs] = {}
    if migration.cluster is not None:
        for pod in migration.cluster.other_pods(config):
            if not (_NAME.fullmatch(pod.namespace) and _NAME.fullmatch(_name(pod.key))):
                continue  # the API server names nothing so; a file that does exempts nothing
            owners[(pod.namespace, pod.key)] = {
                "namespace": pod.namespace,
                "name": _name(pod.key),
                "kind": pod.owner_kind,
            }
    for key in config.decommission.acknowledge_other_pods:
        namespace, _, name = key.partition("/")
        # No pod is named otherwise, so an entry that is not `<namespace>/<name>` can exempt nothing.
        if _NAME.fullmatch(namespace) and _NAME.fullmatch(name) and (namespace, key) not in owners:
            owners[(namespace, key)] = {"namespace": namespace, "name": name}
    return {
        "legacy_runtime_classes": sorted(classes),
        "legacy_pools": [pool.name for pool in config.legacy_pools],
        "exempt_workloads": workloads,
        "exempt_owners": [owners[key] for key in sorted(owners)],
        "instead": _instead(config),
    }


def _name(key: str) -> str:
    return key.partition("/")[2]
