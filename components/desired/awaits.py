"""What pulumi-kubernetes waits for after applying an object, and how the program tells it: the
annotations of provider/pkg/metadata/overrides.go, in one place. Design notes and sources:
docs/design/engine.md.

- The awaiter is chosen by the live object's kind, also for `*Patch` resources (await.go Creation and
  Update look up `awaiters` by the applied object's apiVersion/kind), so a DeploymentPatch on a legacy
  Deployment waits for that whole Deployment to be healthy: on a WASI pool that reimages broke, it would
  time out after 10 minutes. `pulumi.com/skipAwait: "true"` makes ReadyCondition return at once.
- `pulumi.com/waitFor` replaces the built-in awaiter (the `custom` result of ReadyCondition): a JSON list
  of conditions that must all hold. A `jsonpath=` one is parsed by provider/pkg/jsonpath Parse (split at
  a single `=`, so `>=` cannot be written) and evaluated with RFC 9535 JSONPath; the condition first
  waits until `status.observedGeneration` has caught up with `metadata.generation`.
- Custom resources and HorizontalPodAutoscalers have no built-in awaiter (awaiters.go): changing an
  HPA's bounds returns before any pod exists, so whatever relies on those pods waits on the Deployment.
- Server-side apply conflicts with the managers that own a legacy field today (kubectl, an HPA through
  the scale subresource) are resolved in the patch's favour by `pulumi.com/patchForce`; without it even
  `preview` fails on a field kubectl-client-side-apply owns (await.go patchForce)."""

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
