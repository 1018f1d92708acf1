"""Pod Security Standards as the PodSecurity admission controller applies them: keyword tables of pod
specs and the checks each level fails, written from the standard (kubernetes.io "Pod Security
Standards", policy version latest), not from the module."""

from __future__ import annotations

import pytest

from components.core.pod_security import level_of, violations

SPIN = {"name": "app", "image": "ghcr.io/example/app@sha256:" + "a" * 64, "command": ["/"]}
RESTRICTED_CONTAINER = {
    **SPIN,
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
# The shim installer's pod as the program renders it: privileged, hostPID, the node's root as hostPath.
INSTALLER = {
    "hostPID": True,
    "initContainers": [{"name": "install", "image": "i", "securityContext": {"privileged": True}}],
    "containers": [{"name": "pause", "image": "p"}],
    "volumes": [{"name": "node-root", "hostPath": {"path": "/"}}],
}


@pytest.mark.parametrize(
    ("spec", "level", "fails"),
    [
        pytest.param({"containers": [SPIN]}, "privileged", [], id="privileged-allows-all"),
        pytest.param({"containers": [SPIN]}, "baseline", [], id="plain-pod-baseline"),
        pytest.param(
            INSTALLER,
            "baseline",
            [
                "host namespaces (hostPID=true)",
                "hostPath volumes (node-root)",
                "privileged (container install)",
            ],
            id="installer-baseline",
        ),
        pytest.param(
            {"containers": [{**SPIN, "securityContext": {"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}}]},
            "baseline",
            ["non-default capabilities (container app: NET_ADMIN)"],
            id="capability-outside-baseline",
        ),
        pytest.param(
            {"containers": [{**SPIN, "ports": [{"containerPort": 80, "hostPort": 8080}]}]},
            "baseline",
            ["hostPort (container app)"],
            id="host-port",
        ),
        pytest.param(
            {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [SPIN]},
            "baseline",
            ["seccompProfile (pod must not set type Unconfined)"],
            id="unconfined-seccomp",
        ),
        pytest.param(
            {
                "securityContext": {"sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
                "containers": [SPIN],
            },
            "baseline",
            ["forbidden sysctls (net.core.somaxconn)"],
            id="unsafe-sysctl",
        ),
        pytest.param(
            {
                "securityContext": {
                    "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]
                },
                "containers": [SPIN],
            },
            "baseline",
            [],
            id="safe-sysctl",
        ),
        pytest.param({"containers": [RESTRICTED_CONTAINER]}, "restricted", [], id="restricted-pod"),
        pytest.param(
            {"containers": [SPIN]},
            "restricted",
            [
                "allowPrivilegeEscalation != false (container app)",
                "unrestricted capabilities (container app must drop ALL)",
                "runAsNonRoot != true (container app)",
                "seccompProfile (container app must set RuntimeDefault or Localhost)",
            ],
            id="plain-pod-restricted",
        ),
        pytest.param(
            {
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        **SPIN,
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
                "volumes": [{"name": "cache", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}}],
            },
            "restricted",
            [],
            id="pod-level-settings-and-allowed-volumes",
        ),
        pytest.param(
            {
                "containers": [RESTRICTED_CONTAINER],
                "volumes": [{"name": "data", "nfs": {"server": "s", "path": "/"}}],
            },
            "restricted",
            ["restricted volume types (data)"],
            id="nfs-volume",
        ),
        pytest.param(
            {
                "containers": [
                    {
                        **RESTRICTED_CONTAINER,
                        "securityContext": {**RESTRICTED_CONTAINER["securityContext"], "runAsUser": 0},
                    }
                ]
            },
            "restricted",
            ["runAsUser=0 (container app)"],
            id="root-uid",
        ),
    ],
)
def test_which_checks_a_pod_fails_at_a_level(spec, level, fails):
    assert sorted(violations(spec, level)) == sorted(fails)


@pytest.mark.parametrize(
    ("labels", "level"),
    [
        ({}, "privileged"),  # AKS sets no cluster default: unlabelled namespaces are privileged
        ({"pod-security.kubernetes.io/enforce": "restricted"}, "restricted"),
        (
            {
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
            },
            "baseline",
        ),
    ],
)
def test_a_namespace_level_comes_from_its_enforce_label(labels, level):
    assert level_of(labels) == level
