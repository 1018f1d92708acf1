"""Label selectors as the API server evaluates them, the selectors an export holds, and isolation:
leaving off as few labels as possible so that none of them selects the new pods."""

import pytest

from components.core.kubernetes import (
    ExportSelector,
    export_selectors,
    isolate,
    matches,
    operator_problems,
    service_selects,
)

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        (None, False),  # null selects nothing
        ({}, True),  # empty selects everything (a NetworkPolicy's podSelector: {})
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "web", "tier": "back"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),  # absent key
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        (  # matchLabels and matchExpressions are ANDed
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}],
            },
            False,
        ),
    ],
)
def test_label_selector_semantics(selector, selected):
    assert matches(selector, LABELS) is selected


def test_an_unknown_operator_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="Gt"):
        matches({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}, LABELS)


@pytest.mark.parametrize(
    ("selector", "selected"),
    [(None, False), ({}, False), ({"app": "web"}, True), ({"app": "web", "tier": "back"}, False)],
)
def test_a_service_without_selector_selects_no_pod(selector, selected):
    assert service_selects(selector, LABELS) is selected


def _selector(kind: str, name: str, selector: dict) -> ExportSelector:
    return ExportSelector(kind, name, "pods", selector)


def test_isolation_leaves_off_one_label_a_selector_needs_preferring_one_several_need():
    labels = {"app.kubernetes.io/name": "web", "team": "checkout", "tier": "front"}
    service = _selector("Service", "web", {"matchLabels": {"app.kubernetes.io/name": "web"}})
    pdb = _selector(
        "PodDisruptionBudget", "web", {"matchLabels": {"app.kubernetes.io/name": "web", "team": "checkout"}}
    )
    kept, dropped = isolate(labels, [service, pdb])
    assert kept == {"team": "checkout", "tier": "front"}  # dropping the name escapes both
    assert dropped == {"app.kubernetes.io/name=web": ["PodDisruptionBudget web", "Service web"]}
    policy = _selector("NetworkPolicy", "checkout", {"matchLabels": {"team": "checkout"}})
    kept, dropped = isolate(labels, [service, pdb, policy])
    assert kept == {"tier": "front"}
    assert not any(matches(s.selector, kept) for s in (service, pdb, policy))


def test_isolation_cannot_escape_a_selector_that_needs_no_label():
    untiered = _selector(
        "NetworkPolicy", "untiered", {"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}
    )
    kept, dropped = isolate(LABELS, [untiered, _selector("NetworkPolicy", "all", {})])
    assert (kept, dropped) == (LABELS, {})  # the caller's proof (migrate check) names it


def test_in_with_one_value_and_exists_need_a_label_too():
    exists = _selector("PodMonitor", "m", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]})
    one_of = _selector(
        "PodDisruptionBudget",
        "p",
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
    )
    kept, _ = isolate(LABELS, [exists, one_of])
    assert kept == {}


def test_the_export_selectors_by_kind():
    objects = [
        {"kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}},
        {"kind": "Service", "metadata": {"name": "manual"}, "spec": {}},  # endpoints by hand: never new pods
        {
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}},
        },
        {"kind": "NetworkPolicy", "metadata": {"name": "np"}, "spec": {"podSelector": {}}},
        {
            "kind": "ServiceMonitor",
            "metadata": {"name": "sm"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}},
        },
        {"kind": "ConfigMap", "metadata": {"name": "c"}},
    ]
    found = [(s.label, s.selects, s.is_empty) for s in export_selectors(objects)]
    assert found == [
        ("Service web", "pods", False),
        ("Deployment web", "pods", False),
        ("NetworkPolicy np", "pods", True),
        ("ServiceMonitor sm", "services", False),
    ]


def test_an_operator_the_api_server_refuses_is_named():
    objects = [
        {
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "p"},
            "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Gt"}]}},
        }
    ]
    assert operator_problems(objects) == [
        "PodDisruptionBudget p: label selector operator 'Gt' (allowed: In, NotIn, Exists, DoesNotExist)"
    ]
