"""What pulumi-kubernetes waits for after applying an object, and how the program tells it: the
annotations of provider/pkg/metadata/overrides.go, in one place. See docs/design/awaits.md."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

PATCH_FORCE = {"pulumi.com/patchForce": "true"}
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
WAIT_FOR = "pulumi.com/waitFor"


def _ready_above(count: int) -> str:
    """`status.readyReplicas` > count, as an RFC 9535 filter over the object's members (only `status`
    has the member); a Deployment omits readyReplicas when it is 0, which selects nothing."""
    return f"@.readyReplicas > {count}"


def ready_at_least(count: int) -> dict[str, str]:
    """Wait until at least `count` pods of the Deployment are Ready; nothing to wait for at 0."""
    if count <= 0:
        return dict(SKIP_AWAIT)
    return {WAIT_FOR: json.dumps([f"jsonpath={{[?{_ready_above(count - 1)}]}}"])}


def rolled_out_with_ready(count: int) -> dict[str, str]:
    """For a Deployment whose replicas an autoscaler owns: its rollout is complete (every pod updated
    and available) and at least `count` pods are Ready. The built-in awaiter compares against the
    ReplicaSet's replicas, which the autoscaler may not have raised yet when the await starts.

    Anchored on `@.observedGeneration`, which only `status` has: a comparison of two absent members is
    true in theory/jsonpath (Nothing == Nothing), so unanchored it would hold for `apiVersion`; and
    grouped in parentheses, as its v0.9.0 parser refuses three `&&` operands separated by blanks."""
    rolled_out = (
        "(@.observedGeneration && (@.updatedReplicas == @.replicas && @.availableReplicas == @.replicas))"
    )
    condition = f"{_ready_above(count - 1)} && {rolled_out}" if count > 0 else rolled_out
    return {WAIT_FOR: json.dumps([f"jsonpath={{[?{condition}]}}"])}


_READY_ABOVE = re.compile(r"@\.readyReplicas > (\d+)")


def awaited_ready(inputs: Mapping[str, Any]) -> int | None:
    """The Ready pods the provider's await proves once a Deployment (or a DeploymentPatch, awaited as
    the live Deployment) has been applied: the waitFor threshold this module writes; with neither
    annotation, the built-in awaiter's `spec.replicas`; nothing when it skips the await."""
    annotations = (inputs.get("metadata") or {}).get("annotations") or {}
    if annotations.get("pulumi.com/skipAwait") == "true":
        return None
    if WAIT_FOR in annotations:
        found = _READY_ABOVE.search(annotations[WAIT_FOR])
        return int(found.group(1)) + 1 if found else None
    replicas = (inputs.get("spec") or {}).get("replicas")
    return int(replicas) if isinstance(replicas, int) else None


# HTTPRoutes are custom resources, not awaited unless told what to wait for: a jsonpath compares only the
# first match, which is this route's one parent. The await checks staleness only through a top-level
# status.observedGeneration, which HTTPRoutes do not have, so it can pass on the previous generation's
# conditions: the weights may not be in force yet when a dependent starts; the Deployment awaits keep
# capacity up.
ROUTE_WAIT_FOR = (
    '["jsonpath={.status.parents[*].conditions[?(@.type==\\"Accepted\\")].status}=True", '
    '"jsonpath={.status.parents[*].conditions[?(@.type==\\"ResolvedRefs\\")].status}=True"]'
)
