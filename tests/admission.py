"""What the API server does with a ValidatingAdmissionPolicy and its binding on a pod CREATE, written from
Kubernetes' documentation and source, not from the code under test (staging/src/k8s.io/apiserver/pkg/
admission/plugin/policy/validating: matching.go, dispatcher.go, validator.go):

- the policy applies when its matchConstraints match: the resource rule (group "", v1, pods, CREATE) and
  the namespaceSelector over the namespace's labels (the API server puts `kubernetes.io/metadata.name`
  on every namespace);
- then every matchCondition must be true; one that is false leaves the request out; one that fails
  follows failurePolicy;
- then `variables` (lazily in Kubernetes; here all of them, eagerly, so that a variable that could fail
  fails here), then every validation: false refuses with its messageExpression (its `message` if the
  expression fails), an error follows failurePolicy;
- the binding's validationActions say what a refusal does (Deny: the request fails).

Evaluated with cel-python, which implements standard CEL only: an expression that needs one of
Kubernetes' extension libraries fails here, as the project writes none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import celpy

from components.core.kubernetes import matches

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class AdmissionEvaluationError(AssertionError):
    """An expression failed on a pod: in a real cluster failurePolicy would decide; the tests never
    accept one."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str = ""
    why: str = ""  # "out of scope", "matchCondition <name>", "validated", "refused"


_ENVIRONMENT = celpy.Environment()


@cache
def _program(expression: str) -> Any:
    return _ENVIRONMENT.program(_ENVIRONMENT.compile(expression))


def evaluate(expression: str, activation: Mapping[str, Any]) -> Any:
    """One CEL expression over JSON values; a failure is raised, never turned into a value."""
    try:
        result = _program(expression).evaluate({k: celpy.json_to_cel(v) for k, v in activation.items()})
    except celpy.CELEvalError as error:
        raise AdmissionEvaluationError(f"{expression!r}: {error}") from error
    if isinstance(result, celpy.CELEvalError):
        raise AdmissionEvaluationError(f"{expression!r}: {result}")
    return result


def _rule_matches(rule: Mapping[str, Any], operation: str) -> bool:
    def has(values: Any, value: str) -> bool:
        return "*" in (values or []) or value in (values or [])

    return (
        has(rule.get("apiGroups"), "")
        and has(rule.get("apiVersions"), "v1")
        and has(rule.get("resources"), "pods")
        and has(rule.get("operations"), operation)
    )


def in_scope(policy: Mapping[str, Any], namespace: str, operation: str = "CREATE") -> bool:
    constraints = policy["spec"].get("matchConstraints") or {}
    if not any(_rule_matches(rule, operation) for rule in constraints.get("resourceRules") or []):
        return False
    selector = constraints.get("namespaceSelector")
    return selector is None or matches(selector, {NAMESPACE_NAME_LABEL: namespace})


def admit(
    policy: Mapping[str, Any], binding: Mapping[str, Any], pod: Mapping[str, Any], operation: str = "CREATE"
) -> Verdict:
    """The verdict on creating `pod` (its namespace from its metadata, else `default`)."""
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    if not in_scope(policy, namespace, operation):
        return Verdict(True, why="out of scope")
    activation: dict[str, Any] = {
        "object": pod,
        "oldObject": None,
        "request": {"namespace": namespace, "operation": operation, "kind": {"kind": "Pod"}},
    }
    spec = policy["spec"]
    for condition in spec.get("matchConditions") or []:
        if not evaluate(condition["expression"], activation):
            return Verdict(True, why=f"matchCondition {condition['name']}")
    values: dict[str, Any] = {}
    for variable in spec.get("variables") or []:
        values[variable["name"]] = _json(
            evaluate(variable["expression"], {**activation, "variables": values})
        )
    activation["variables"] = values
    for validation in spec["validations"]:
        if evaluate(validation["expression"], activation):
            continue
        message = validation.get("message", "")
        if "messageExpression" in validation:
            message = str(evaluate(validation["messageExpression"], activation))
        denied = "Deny" in binding["spec"]["validationActions"]
        return Verdict(not denied, message, "refused")
    return Verdict(True, why="validated")


def _json(value: Any) -> Any:
    """A CEL value back as JSON, so the next expression receives it as Kubernetes would."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, celpy.celtypes.BoolType):
        return bool(value)
    if isinstance(value, celpy.celtypes.IntType | celpy.celtypes.UintType):
        return int(value)
    if isinstance(value, celpy.celtypes.StringType):
        return str(value)
    return value


def policy_of(inputs: list[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The policy and its binding among registered objects' inputs; None when neither is registered."""
    policies = [dict(i) for i in inputs if i.get("kind") == "ValidatingAdmissionPolicy"]
    bindings = [dict(i) for i in inputs if i.get("kind") == "ValidatingAdmissionPolicyBinding"]
    assert len(policies) == len(bindings) <= 1, (policies, bindings)
    return (policies[0], bindings[0]) if policies else None


def as_created(pod: Mapping[str, Any]) -> dict[str, Any]:
    """An exported Pod as its controller (or a person) creates it again: no status, no node yet (the
    scheduler binds it after admission), no server-written metadata; a controller's pod has only its
    generateName at admission."""
    metadata = {
        k: v
        for k, v in (pod.get("metadata") or {}).items()
        if k not in ("uid", "resourceVersion", "creationTimestamp", "managedFields")
    }
    if metadata.get("generateName"):
        metadata.pop("name", None)
    spec = {k: v for k, v in (pod.get("spec") or {}).items() if k != "nodeName"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def from_template(
    template: Mapping[str, Any], namespace: str, owner_kind: str, owner_name: str
) -> dict[str, Any]:
    """The pod a controller creates from a pod template (labels and spec as the template has them)."""
    metadata = dict(template.get("metadata") or {})
    metadata.update(
        namespace=namespace,
        generateName=f"{owner_name}-",
        ownerReferences=[
            {"apiVersion": "apps/v1", "kind": owner_kind, "name": owner_name, "uid": "0", "controller": True}
        ],
    )
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": dict(template.get("spec") or {})}
