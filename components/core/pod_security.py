"""Pod Security Standards, as the PodSecurity admission controller enforces them per namespace: the
`pod-security.kubernetes.io/enforce` label's level, and which checks of that level a pod spec fails.

Written from the standard itself (kubernetes.io/docs/concepts/security/pod-security-standards, policy
version `latest`) and the controller's checks (k8s.io/pod-security-admission/policy: check_*.go). Only
Linux pods are modelled: AKS WASI and target pools are Linux. A namespace without the label runs at the
cluster default, which AKS leaves at `privileged` (no AdmissionConfiguration of its own)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
WARN_LABEL = "pod-security.kubernetes.io/warn"
AUDIT_LABEL = "pod-security.kubernetes.io/audit"
LEVELS = ("privileged", "baseline", "restricted")

# check_capabilities_baseline.go: what baseline lets a container add.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
# check_sysctls.go (latest): the namespaced sysctls baseline allows.
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
# check_restrictedVolumes.go: the volume sources restricted allows.
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def level_of(labels: Mapping[str, str], label: str = ENFORCE_LABEL) -> str:
    """A namespace's level for one mode (enforce, warn, audit); an unknown value is refused by the API
    server's validation, and an absent one means the AKS default, privileged."""
    value = labels.get(label, "privileged")
    return value if value in LEVELS else "privileged"


def violations(pod_spec: Mapping[str, Any], level: str) -> list[str]:
    """The checks of `level` that a pod with this spec fails, each as the controller words its reason."""
    if level == "privileged":
        return []
    found = list(_baseline(pod_spec))
    if level == "restricted":
        found += _restricted(pod_spec)
    return found


def _containers(pod_spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod_spec.get(key) or ()


def _context(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("securityContext") or {}


def _baseline(spec: Mapping[str, Any]) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            yield f"host namespaces ({field}=true)"
    pod_context = _context(spec)
    for volume in spec.get("volumes") or ():
        if "hostPath" in volume:
            yield f"hostPath volumes ({volume.get('name', '')})"
    yield from _baseline_containers(spec)
    yield from _profiles(pod_context, "pod")
    sysctls = [s.get("name", "") for s in pod_context.get("sysctls") or ()]
    unsafe = [name for name in sysctls if name not in SAFE_SYSCTLS]
    if unsafe:
        yield f"forbidden sysctls ({', '.join(unsafe)})"


def _baseline_containers(spec: Mapping[str, Any]) -> Iterator[str]:
    for container in _containers(spec):
        name = container.get("name", "")
        context = _context(container)
        if context.get("privileged"):
            yield f"privileged (container {name})"
        added = set((context.get("capabilities") or {}).get("add") or ()) - BASELINE_CAPABILITIES
        if added:
            yield f"non-default capabilities (container {name}: {', '.join(sorted(added))})"
        if any(port.get("hostPort") for port in container.get("ports") or ()):
            yield f"hostPort (container {name})"
        if context.get("procMount") not in (None, "Default"):
            yield f"procMount (container {name})"
        yield from _profiles(context, f"container {name}")


def _profiles(context: Mapping[str, Any], where: str) -> Iterator[str]:
    """seccomp, AppArmor and SELinux settings baseline forbids, on the pod or a container."""
    if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
        yield f"seccompProfile ({where} must not set type Unconfined)"
    if (context.get("appArmorProfile") or {}).get("type") == "Unconfined":
        yield f"appArmorProfile ({where} must not set type Unconfined)"
    selinux = context.get("seLinuxOptions") or {}
    if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
        yield f"seLinuxOptions ({where})"


def _restricted(spec: Mapping[str, Any]) -> list[str]:
    found = []
    volumes = [
        v.get("name", "") for v in spec.get("volumes") or () if not set(v) - {"name"} <= RESTRICTED_VOLUMES
    ]
    if volumes:
        found.append(f"restricted volume types ({', '.join(volumes)})")
    pod = _context(spec)
    for container in _containers(spec):
        name = container.get("name", "")
        context = _context(container)
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"allowPrivilegeEscalation != false (container {name})")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or ()):
            found.append(f"unrestricted capabilities (container {name} must drop ALL)")
        if set(capabilities.get("add") or ()) - {"NET_BIND_SERVICE"}:
            found.append(f"unrestricted capabilities (container {name} may add only NET_BIND_SERVICE)")
        if not context.get("runAsNonRoot", pod.get("runAsNonRoot")):
            found.append(f"runAsNonRoot != true (container {name})")
        if context.get("runAsUser", pod.get("runAsUser")) == 0:
            found.append(f"runAsUser=0 (container {name})")
        seccomp = (context.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"seccompProfile (container {name} must set RuntimeDefault or Localhost)")
    return found
