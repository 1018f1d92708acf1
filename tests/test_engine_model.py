"""The engine model's awaits (tests/engine.py awaited_condition, jsonpath_parse/jsonpath_matches,
deployment_ready) on realistic live Deployments: what pulumi-kubernetes waits for after an apply, how a
`pulumi.com/waitFor` JSONPath is parsed and matched (theory/jsonpath v0.9.0, RFC 9535 with its quirks),
and when the built-in Deployment awaiter lets go. Sources: notes/engine-research.md."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.desired.awaits import ROUTE_WAIT_FOR, ready_at_least, rolled_out_with_ready
from tests.engine import (
    Awaited,
    JSONPathError,
    NondeterministicMatch,
    awaited_condition,
    deployment_ready,
    jsonpath_matches,
    jsonpath_parse,
    jsonpath_select,
    wait_for_values,
)


def _condition(kind: str, status: str, reason: str) -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": f"{kind} {reason}"}


AVAILABLE = _condition("Available", "True", "MinimumReplicasAvailable")
UNAVAILABLE = _condition("Available", "False", "MinimumReplicasUnavailable")
ROLLED_OUT = _condition("Progressing", "True", "NewReplicaSetAvailable")
ROLLING = _condition("Progressing", "True", "ReplicaSetUpdated")


def deployment(
    revision: str, generation: int, observed: int, replicas: int, status: dict[str, Any]
) -> dict[str, Any]:
    """A live apps/v1 Deployment as `kubectl get -o json` shows it (status omits zero counts)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "hello",
            "namespace": "web",
            "generation": generation,
            "annotations": {"deployment.kubernetes.io/revision": revision},
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "hello"}}},
        "status": {"observedGeneration": observed, **status},
    }


LIVE = {
    "at rest": deployment(
        "4",
        7,
        7,
        3,
        {
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "conditions": [AVAILABLE, ROLLED_OUT],
        },
    ),
    # maxSurge 1: the new ReplicaSet has 2 of 3 pods, one Ready; the old one still has 2.
    "mid-rollout": deployment(
        "5",
        8,
        8,
        3,
        {
            "replicas": 4,
            "updatedReplicas": 2,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "unavailableReplicas": 1,
            "conditions": [AVAILABLE, ROLLING],
        },
    ),
    # One of three pods lost readiness after the rollout finished: Progressing keeps its reason.
    "degraded": deployment(
        "4",
        7,
        7,
        3,
        {
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "unavailableReplicas": 1,
            "conditions": [UNAVAILABLE, ROLLED_OUT],
        },
    ),
    # An HPA raised spec.replicas from 3 to 5 through the scale subresource; two pods are starting.
    "scaled up by an HPA": deployment(
        "4",
        9,
        9,
        5,
        {
            "replicas": 5,
            "updatedReplicas": 5,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "unavailableReplicas": 2,
            "conditions": [UNAVAILABLE, ROLLED_OUT],
        },
    ),
    "settled at the HPA's 5": deployment(
        "4",
        9,
        9,
        5,
        {
            "replicas": 5,
            "updatedReplicas": 5,
            "readyReplicas": 5,
            "availableReplicas": 5,
            "conditions": [AVAILABLE, ROLLED_OUT],
        },
    ),
    # No pod Ready yet: status has no readyReplicas and no availableReplicas at all.
    "no pod ready": deployment(
        "1",
        1,
        1,
        2,
        {
            "replicas": 2,
            "updatedReplicas": 2,
            "unavailableReplicas": 2,
            "conditions": [UNAVAILABLE, ROLLING],
        },
    ),
    "scaled to zero": deployment("4", 10, 10, 0, {"conditions": [AVAILABLE, ROLLED_OUT]}),
    # The apply raised spec.replicas (generation 9); the controller has not seen it: old status.
    "stale status": deployment(
        "4",
        9,
        8,
        5,
        {
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "conditions": [AVAILABLE, ROLLED_OUT],
        },
    ),
    # A brand-new Deployment: revision 1 needs no Progressing reason, only Available and Ready pods.
    "first revision ready": deployment(
        "1",
        1,
        1,
        2,
        {
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "conditions": [AVAILABLE, ROLLING],
        },
    ),
}


def replica_set(revision: str, replicas: int, ready: int | None) -> dict[str, Any]:
    status = {"replicas": replicas} if ready is None else {"replicas": replicas, "readyReplicas": ready}
    return {
        "metadata": {"annotations": {"deployment.kubernetes.io/revision": revision}},
        "spec": {"replicas": replicas},
        "status": status,
    }


@pytest.mark.parametrize(
    ("name", "reading", "rs", "ready"),
    [
        ("at rest", False, None, True),
        ("mid-rollout", False, replica_set("5", 2, 1), False),
        # Even with its new ReplicaSet complete, the rollout is not NewReplicaSetAvailable yet.
        ("mid-rollout", False, replica_set("5", 3, 3), False),
        ("degraded", False, None, False),
        ("degraded", True, None, False),
        ("scaled up by an HPA", False, None, False),
        ("settled at the HPA's 5", False, None, True),
        ("no pod ready", False, None, False),
        ("scaled to zero", False, None, True),
        # The await waits for observedGeneration; a refresh reads the stale status as it is.
        ("stale status", False, None, False),
        ("stale status", True, replica_set("4", 3, 3), True),
        ("first revision ready", False, None, True),
        # The ReplicaSet of another revision is not the one the Deployment points at.
        ("at rest", False, replica_set("3", 3, 3), False),
    ],
)
def test_the_deployment_awaiter_lets_go_only_of_a_rolled_out_available_deployment(name, reading, rs, ready):
    assert deployment_ready(LIVE[name], rs, reading=reading) is ready


WAIT_FOR_MATCHES = [
    # Filter over the Deployment's members: only `status` has readyReplicas.
    ("jsonpath={[?@.readyReplicas > 2]}", "at rest", True),
    ("jsonpath={[?@.readyReplicas > 2]}", "degraded", False),
    ("jsonpath={[?@.readyReplicas > 2]}", "scaled up by an HPA", True),
    ("jsonpath={[?@.readyReplicas > 0]}", "no pod ready", False),
    ("jsonpath={[?@.readyReplicas > 2]}", "stale status", False),
    ("jsonpath={[?@.readyReplicas > 2]}", "scaled to zero", False),
    ("jsonpath={.status.readyReplicas}=3", "at rest", True),
    ("jsonpath={.status.readyReplicas}=3", "degraded", False),
    ("jsonpath={.status.readyReplicas}", "no pod ready", False),
    ('jsonpath={.status.conditions[?(@.type=="Available")].status}=True', "at rest", True),
    ('jsonpath={.status.conditions[?(@.type=="Available")].status}=True', "degraded", False),
    (
        'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}=NewReplicaSetAvailable',
        "degraded",
        True,
    ),
    (
        "jsonpath={.status.conditions[?@.type=='Available' || @.type=='Progressing'].type}=Available",
        "at rest",
        True,
    ),
    # Comparing two members: anchored on observedGeneration, which only status has.
    (
        "jsonpath={[?@.observedGeneration && (@.updatedReplicas == @.replicas"
        " && @.availableReplicas == @.replicas)]}",
        "mid-rollout",
        False,
    ),
    (
        "jsonpath={[?@.observedGeneration && (@.updatedReplicas == @.replicas"
        " && @.availableReplicas == @.replicas)]}",
        "at rest",
        True,
    ),
    (
        "jsonpath={[?@.observedGeneration && (@.updatedReplicas == @.replicas"
        " && @.availableReplicas == @.replicas)]}",
        "degraded",
        False,
    ),
    (
        "jsonpath={[?@.observedGeneration && (@.updatedReplicas == @.replicas"
        " && @.availableReplicas == @.replicas)]}",
        "scaled to zero",
        True,
    ),
    (
        "jsonpath={[?@.readyReplicas>2&&@.updatedReplicas==@.replicas&&@.availableReplicas==@.replicas]}",
        "at rest",
        True,
    ),
    (
        "jsonpath={[?@.readyReplicas>2&&@.updatedReplicas==@.replicas&&@.availableReplicas==@.replicas]}",
        "scaled up by an HPA",
        False,
    ),
    # Pitfalls, as the provider really evaluates them:
    # Nothing == Nothing is true, so unanchored member comparisons hold for `apiVersion` and `metadata`.
    ("jsonpath={[?@.updatedReplicas == @.replicas]}", "mid-rollout", True),
    # `!@.x` holds for every member without x (apiVersion, kind, metadata, spec).
    ("jsonpath={[?!@.unavailableReplicas]}", "degraded", True),
    # `>=` inside the braces (4.34) compares; outside them Parse keeps `{.spec.replicas}>` and tests
    # equality with "3".
    ("jsonpath={[?@.readyReplicas >= 3]}", "at rest", True),
    ("jsonpath={[?@.readyReplicas >= 3]}", "degraded", False),
    ("jsonpath={.spec.replicas}>=3", "at rest", True),
    ("jsonpath={.spec.replicas}>=3", "settled at the HPA's 5", False),
]


@pytest.mark.parametrize(("expression", "name", "matched"), WAIT_FOR_MATCHES)
def test_a_wait_for_jsonpath_matches_as_the_provider_matches_it(expression, name, matched):
    assert jsonpath_matches(jsonpath_parse(expression), LIVE[name]).matched is matched


def test_nothing_selected_and_staleness_say_why():
    parsed = jsonpath_parse("jsonpath={[?@.readyReplicas > 0]}")
    assert (
        jsonpath_matches(parsed, LIVE["no pod ready"]).message == "{[?@.readyReplicas > 0]} selected nothing"
    )
    stale = jsonpath_matches(parsed, LIVE["stale status"])
    assert (stale.matched, stale.message.startswith("stale")) == (False, True)
    # Without status.observedGeneration (an HTTPRoute) nothing is ever stale.
    route = {"metadata": {"generation": 4}, "status": {"parents": [{"conditions": []}]}}
    assert jsonpath_matches(jsonpath_parse("jsonpath={.status.parents}"), route).matched


def test_only_the_first_result_counts_and_a_complex_one_cannot_equal_a_value():
    route = {
        "status": {
            "parents": [
                {"conditions": [{"type": "Accepted", "status": "False"}]},
                {"conditions": [{"type": "Accepted", "status": "True"}]},
            ]
        }
    }
    first_parent = json.loads(ROUTE_WAIT_FOR)[0]
    assert jsonpath_matches(jsonpath_parse(first_parent), route) == jsonpath_matches(
        jsonpath_parse(first_parent), route
    )
    assert not jsonpath_matches(jsonpath_parse(first_parent), route).matched
    assert jsonpath_matches(jsonpath_parse(first_parent), route).found == "False"
    with pytest.raises(JSONPathError, match="non-primitive"):
        jsonpath_matches(jsonpath_parse("jsonpath={.status}=True"), LIVE["at rest"])
    assert jsonpath_matches(jsonpath_parse("jsonpath={.status}"), LIVE["at rest"]).matched


def test_a_first_result_picked_from_a_map_is_random_when_the_results_disagree():
    # spec.replicas 3 and status.replicas 4 both pass `[?@.replicas]`; Go iterates the map at random.
    with pytest.raises(NondeterministicMatch):
        jsonpath_matches(jsonpath_parse("jsonpath={[?@.replicas].replicas}=3"), LIVE["mid-rollout"])
    # They agree at rest, and without a value any result matches.
    assert jsonpath_matches(jsonpath_parse("jsonpath={[?@.replicas].replicas}=3"), LIVE["at rest"]).matched
    assert jsonpath_matches(jsonpath_parse("jsonpath={[?@.replicas].replicas}"), LIVE["mid-rollout"]).matched


PARSE_ERRORS = [
    ("", "expected a non-empty JSONPath expression"),
    ("{.status.phase}", "must begin with a 'jsonpath=' prefix"),
    ("jsonpath={.metadata.name}=", "{.metadata.name}= requires a value"),
    ("jsonpath={.metadata.name}='test=wrong'", "format should be {.path}=value or {.path}"),
    ("jsonpath='{.status.phase}'=Running", "should omit shell quotes"),
    ("jsonpath=.status.phase", "should be wrapped in brackets"),
    ("jsonpath={.status.readyReplicas}={.spec.replicas}", "compares against another JSONPath"),
    ("jsonpath={ .webhooks[].clientConfig.caBundle }", "unexpected ']' at position 12"),
    ("jsonpath={status.phase}", "unexpected identifier at position 1"),
    # theory/jsonpath v0.9.0 (#24, fixed in v0.10.2): a blank before a second `&&` ends the filter.
    (
        "jsonpath={[?@.readyReplicas > 2 && @.updatedReplicas == @.replicas"
        " && @.availableReplicas == @.replicas]}",
        "unexpected '&'",
    ),
    ("jsonpath={[?@.readyReplicas > 2 & @.replicas]}", "expected '&' but found"),
    ("jsonpath={[?@.readyReplicas > 01]}", "invalid number literal"),
    ("jsonpath={.status.conditions[?(@.type=='Available'].status}", "expected ')'"),
]


@pytest.mark.parametrize(("expression", "error"), PARSE_ERRORS)
def test_parse_rejects_what_the_provider_rejects(expression, error):
    with pytest.raises(JSONPathError) as raised:
        jsonpath_parse(expression)
    assert error in str(raised.value)


@pytest.mark.parametrize(
    ("expression", "error_before_4_34"),
    [
        # 4.32/4.33 split at every `=` but `==`: the operator loses its half and the closing brace.
        ("jsonpath={[?@.readyReplicas >= 3]}", "{[?@.readyReplicas > should be wrapped in brackets { ... }"),
        ("jsonpath={[?@.readyReplicas != 0]}", "should be wrapped in brackets"),
        ('jsonpath={.status.conditions[?(@.type!="Failed")].status}=True', "format should be"),
        # ... and took the text up to the first `}`, even inside a string.
        ("jsonpath={.metadata.labels['a}b']}", "unterminated string literal"),
        ("jsonpath={.metadata.labels['a}b=c']}", "unterminated string literal"),
    ],
)
def test_4_34_parses_comparison_operators_and_braces_that_4_33_tore_apart(expression, error_before_4_34):
    jsonpath_parse(expression)
    with pytest.raises(JSONPathError) as raised:
        jsonpath_parse(expression, split_at_every_equals=True)
    assert error_before_4_34 in str(raised.value)


def test_4_33_compared_a_value_written_as_a_path_as_a_literal_string():
    parsed = jsonpath_parse("jsonpath={.status.readyReplicas}={.spec.replicas}", split_at_every_equals=True)
    assert parsed.value == "{.spec.replicas}"
    assert not jsonpath_matches(parsed, LIVE["at rest"]).matched


def test_parse_splits_at_a_single_equals_and_keeps_double_ones():
    parsed = jsonpath_parse('jsonpath={.status.conditions[?(@.type=="Ready")].status}=True')
    assert (parsed.path, parsed.value) == ('{.status.conditions[?(@.type=="Ready")].status}', "True")
    assert jsonpath_parse("jsonpath={$.foo}=bar").path == "{$.foo}"
    assert jsonpath_parse("jsonpath={.metadata.labels.x}=a==b", split_at_every_equals=True).value == "a==b"
    with pytest.raises(JSONPathError, match="format should be"):
        jsonpath_parse("jsonpath={.metadata.labels.x}=a==b")
    # Two `&&` operands with blanks, or parentheses around the rest, parse in v0.9.0.
    jsonpath_parse("jsonpath={[?@.updatedReplicas == @.replicas && @.availableReplicas == @.replicas]}")
    jsonpath_parse("jsonpath={[?@.a > 2 && (@.b == @.c && @.d == @.e)]}")


RFC_9535 = [
    # comparisons between members, numbers as float64, strings by code point
    ("$[?@.a == @.b]", {"x": {"a": 1, "b": 1.0}}, 1),
    ("$[?@.a < @.b]", {"x": {"a": "abc", "b": "abd"}}, 1),
    ("$[?@.a < 2]", {"x": {"a": "1"}}, 0),
    # Nothing: equal only to Nothing, never ordered
    ("$[?@.a == @.b]", {"x": {}}, 1),
    ("$[?@.a > 4]", {"x": {"b": 5}}, 0),
    ("$[?@.a != 1]", {"x": {}}, 1),
    # existence is presence, not truthiness; `!` negates it
    ("$[?@.a]", {"x": {"a": 0}, "y": {"a": None}, "z": {}}, 2),
    ("$[?!@.a]", {"x": {"a": False}, "y": {}}, 1),
    ("$[?@.a > 1 && @.b]", {"x": {"a": 2, "b": 0}, "y": {"a": 2}}, 1),
    ("$[?@.a > 1 || @.b]", {"x": {"a": 2}, "y": {"b": 1}, "z": {"a": 0}}, 2),
    ("$[?!(@.a > 1)]", {"x": {"a": 2}, "y": {"a": 0}, "z": {}}, 2),
    # booleans and null compare only for equality in RFC 9535 ...
    ("$[?@.a == true]", {"x": {"a": True}, "y": {"a": 1}}, 1),
    ("$[?@.a == null]", {"x": {"a": None}, "y": {}}, 1),
    # ... but v0.9.0 computes `>` as "same type, not less, not equal": true for true > false and for
    # two different objects, where RFC 9535 says false.
    ("$[?@.a > @.b]", {"x": {"a": True, "b": False}}, 1),
    ("$[?@.a > @.b]", {"x": {"a": {"k": 1}, "b": {"k": 2}}}, 1),
    ("$[?@.a >= @.b]", {"x": {"a": [1], "b": [1]}}, 1),
    # filters over arrays keep order; index selectors count from the end when negative
    ("$.items[?@.ready == true].name", {"items": [{"name": "a", "ready": True}, {"name": "b"}]}, 1),
    ("$.items[-1].name", {"items": [{"name": "a"}, {"name": "b"}]}, 1),
]


@pytest.mark.parametrize(("query", "obj", "count"), RFC_9535)
def test_the_library_selects_as_theory_jsonpath_v0_9_0(query, obj, count):
    assert len(jsonpath_select(query, obj)) == count


def _patch(kind: str, annotations: dict[str, str] | None = None, api: str = "apps/v1") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "hello", "annotations": annotations or {}}}


WAIT = json.dumps(["jsonpath={[?@.readyReplicas > 2]}"])

AWAITS = [
    # DeploymentPatch: the whole Deployment's awaiter, unless told otherwise by its own inputs.
    (_patch("Deployment"), "Deployment", "update", None, Awaited("awaiter", "Deployment", (), 600)),
    (_patch("Deployment"), "apps/v1/Deployment", "create", None, Awaited("awaiter", "Deployment", (), 600)),
    (
        _patch("Deployment", {"pulumi.com/skipAwait": "true"}),
        "Deployment",
        "update",
        None,
        Awaited("skipAwait"),
    ),
    (
        _patch("Deployment", {"pulumi.com/waitFor": WAIT}),
        "Deployment",
        "update",
        None,
        Awaited("waitFor", "", ("jsonpath={[?@.readyReplicas > 2]}",), 600),
    ),
    # waitFor is read from the object the apply returned: another patch's annotation counts ...
    (
        _patch("Deployment"),
        "Deployment",
        "update",
        {"pulumi.com/waitFor": WAIT},
        Awaited("waitFor", "", ("jsonpath={[?@.readyReplicas > 2]}",), 600),
    ),
    # ... skipAwait only from the inputs.
    (
        _patch("Deployment"),
        "Deployment",
        "update",
        {"pulumi.com/skipAwait": "true"},
        Awaited("awaiter", "Deployment", (), 600),
    ),
    (
        _patch("Deployment", {"pulumi.com/skipAwait": "1"}),
        "Deployment",
        "update",
        None,
        Awaited("awaiter", "Deployment", (), 600),
    ),
    (
        _patch("Deployment", {"pulumi.com/timeoutSeconds": "1800"}),
        "Deployment",
        "update",
        None,
        Awaited("awaiter", "Deployment", (), 1800),
    ),
    (_patch("Service", api="v1"), "Service", "update", None, Awaited("awaiter", "Service", (), 600)),
    (
        _patch("HorizontalPodAutoscaler", api="autoscaling/v2"),
        "HorizontalPodAutoscaler",
        "update",
        None,
        Awaited("nothing"),
    ),
    (
        _patch("HorizontalPodAutoscaler", api="autoscaling/v1"),
        "autoscaling/v1/HorizontalPodAutoscaler",
        "update",
        None,
        Awaited("nothing"),
    ),
    (_patch("Namespace", api="v1"), "Namespace", "create", None, Awaited("nothing")),
    (
        _patch("HTTPRoute", api="gateway.networking.k8s.io/v1"),
        "gateway.networking.k8s.io/v1/HTTPRoute",
        "update",
        None,
        Awaited("nothing"),
    ),
    (
        _patch("ScaledObject", api="keda.sh/v1alpha1"),
        "keda.sh/v1alpha1/ScaledObject",
        "update",
        None,
        Awaited("nothing"),
    ),
    # refresh: awaitRead of the live kind, skipped only by the stored inputs; waitFor plays no part
    (_patch("Deployment"), "Deployment", "read", None, Awaited("awaiter", "Deployment")),
    (
        _patch("Deployment", {"pulumi.com/skipAwait": "true"}),
        "Deployment",
        "read",
        None,
        Awaited("skipAwait"),
    ),
    (
        _patch("Deployment", {"pulumi.com/waitFor": WAIT}),
        "Deployment",
        "read",
        None,
        Awaited("awaiter", "Deployment"),
    ),
    (_patch("Service", api="v1"), "Service", "read", None, Awaited("awaiter", "Service")),
    (_patch("Secret", api="v1"), "Secret", "read", None, Awaited("nothing")),
    (_patch("Namespace", api="v1"), "Namespace", "read", None, Awaited("nothing")),
    (_patch("Deployment"), "Deployment", "import", None, Awaited("nothing")),
]


@pytest.mark.parametrize(("inputs", "kind", "operation", "live", "awaited"), AWAITS)
def test_what_the_provider_waits_for(inputs, kind, operation, live, awaited):
    assert awaited_condition(inputs, kind, operation, live) == awaited


def test_await_all_gives_kinds_without_an_awaiter_the_generic_ready_condition():
    route = _patch("HTTPRoute", api="gateway.networking.k8s.io/v1")
    assert (
        awaited_condition(route, "gateway.networking.k8s.io/v1/HTTPRoute", "update", None, True).by == "ready"
    )
    assert awaited_condition(_patch("Deployment"), "Deployment", "update", None, True).by == "awaiter"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("[]", "at least one condition"),
        ("{.status}", 'expected a "jsonpath=" or "condition=" prefix'),
        (json.dumps(["jsonpath={[?@.a > 1 && @.b == 2 && @.c == 3]}"]), "unexpected '&'"),
    ],
)
def test_a_bad_wait_for_fails_the_operation(value, error):
    with pytest.raises(ValueError, match=error):
        awaited_condition(_patch("Deployment", {"pulumi.com/waitFor": value}), "Deployment", "update")


def test_a_single_wait_for_expression_needs_no_json_array():
    assert wait_for_values("condition=Ready") == ("condition=Ready",)
    assert wait_for_values("jsonpath={.status.phase}=Running") == ("jsonpath={.status.phase}=Running",)


def test_the_project_s_ready_at_least_parses_and_waits_for_ready_pods():
    for count, name, matched in ((3, "at rest", True), (3, "degraded", False), (2, "no pod ready", False)):
        (expression,) = wait_for_values(ready_at_least(count)["pulumi.com/waitFor"])
        assert jsonpath_matches(jsonpath_parse(expression), LIVE[name]).matched is matched


@pytest.mark.parametrize(
    ("count", "name", "matched"),
    [
        (3, "at rest", True),
        (3, "mid-rollout", False),  # 3 Ready, but the rollout is not done
        (3, "degraded", False),
        (5, "scaled up by an HPA", False),  # the HPA raised the count; two pods are starting
        (5, "settled at the HPA's 5", True),
        (3, "settled at the HPA's 5", True),
        (0, "at rest", True),
        (0, "mid-rollout", False),  # unanchored, this held for `apiVersion` on any Deployment
        (2, "no pod ready", False),
        (0, "stale status", False),  # the controller has not seen the new generation yet
    ],
)
def test_the_project_s_rolled_out_with_ready_parses_and_waits_for_the_rollout(count, name, matched):
    (expression,) = wait_for_values(rolled_out_with_ready(count)["pulumi.com/waitFor"])
    assert jsonpath_matches(jsonpath_parse(expression), LIVE[name]).matched is matched


@pytest.mark.parametrize(
    ("selector", "labels", "selects"),
    [
        ("app=a,!d", {"app": "a"}, True),
        ("app=a,!d", {"app": "a", "d": "1"}, False),
        ("app==a,e", {"app": "a", "e": ""}, True),
        ("app!=a", {"app": "b"}, True),
        ("tier in (web,api),x notin (1,2)", {"tier": "api"}, True),
        ("tier in (web,api),x notin (1,2)", {"tier": "api", "x": "2"}, False),
        ("tier in (web,api)", {}, False),
        ("x notin (1,2)", {}, True),
    ],
)
def test_the_models_string_selector_reads_what_the_api_reads(selector, labels, selects):
    """The transition model's reading of a labelSelector query string (the stop gate's), set-based
    requirements included, whose commas sit inside parentheses."""
    from tests.transition_simulator import selector_string_matches

    assert selector_string_matches(selector, labels) is selects
