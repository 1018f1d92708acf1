"""What the Pulumi engine and providers do on import, simulated from their source, for tests that mocks
cannot answer (mocks never read a live resource back).

- pulumi/pulumi pkg/resource/deploy/step_generator.go continueStepsFromImport: after an import the
  program's inputs go through processIgnoreChanges against the imported inputs, then Diff; a non-empty
  diff becomes an update (CLI >= 3.174, pulumi/pulumi#19339).
- sdk/go/common/resource/properties_path.go reset: a top-level "*" copies every old input and drops
  every program input the old ones lack; a plain path copies (or removes) that one key.
- pulumi-azure-native provider.go Read / ResponseToSdkInputs: every writable property of the GET
  response becomes an input, plus the ARM path parameters; read-only ones are dropped.
- pulumi-kubernetes provider.go readFromCluster: every top-level field of the live object, less
  metadata.{creationTimestamp,generation,managedFields,resourceVersion,uid}, status, and the revision
  and last-applied annotations."""

from __future__ import annotations

import copy
from typing import Any

from pulumi import _types as pulumi_types
from pulumi_azure_native import containerservice

_MISSING = object()


def process_ignore_changes(inputs: dict[str, Any], old: dict[str, Any], ignore: list[str]) -> dict[str, Any]:
    result = copy.deepcopy(inputs)
    for path in ignore:
        if path == "*":
            result = copy.deepcopy(old)
            continue
        keys = path.split(".")
        source: Any = old
        for key in keys:
            source = source.get(key, _MISSING) if isinstance(source, dict) else _MISSING
        target = result
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if source is _MISSING:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = copy.deepcopy(source)
    return result


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """Top-level keys an update would send: added, removed or different."""
    return {key for key in old.keys() | new.keys() if old.get(key, _MISSING) != new.get(key, _MISSING)}


def update_after_import(program: dict[str, Any], imported: dict[str, Any], ignore: list[str]) -> set[str]:
    return changed_keys(imported, process_ignore_changes(program, imported, ignore))


def _agent_pool_input_names() -> dict[str, str]:
    """Lower-cased name -> the SDK's (and ARM's) property name, for every writable AgentPool input."""
    names = {}
    for _, pulumi_name, _ in pulumi_types._py_properties(containerservice.AgentPoolArgs):  # type: ignore[attr-defined]
        names[pulumi_name.lower()] = pulumi_name
    return names


def azure_agent_pool_read(az_show: dict[str, Any], cluster: str) -> dict[str, Any]:
    """The inputs azure-native reads back for an imported agent pool, from `az aks nodepool show -o json`
    (whose keys az camel-cases from its own model: osDiskSizeGb for ARM's osDiskSizeGB)."""
    writable = _agent_pool_input_names()
    inputs: dict[str, Any] = {
        "resourceGroupName": az_show["resourceGroup"],
        "resourceName": cluster,
        "agentPoolName": az_show["name"],
    }
    for key, value in az_show.items():
        name = writable.get(key.lower())
        if name and value is not None and name not in inputs:
            inputs[name] = value
    return inputs


_SERVER_METADATA = ("creationTimestamp", "generation", "managedFields", "resourceVersion", "uid")
_SERVER_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
)


def kubernetes_read(live: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(live)
    obj.pop("status", None)
    metadata = obj.get("metadata") or {}
    for key in _SERVER_METADATA:
        metadata.pop(key, None)
    annotations = metadata.get("annotations") or {}
    for key in _SERVER_ANNOTATIONS:
        annotations.pop(key, None)
    if "annotations" in metadata and not annotations:
        metadata.pop("annotations")
    return obj


def provider_deletes(removed: dict[str, Any], deleted_in_same_update: set[str]) -> set[str]:
    """Which removed resources the engine asks their provider to delete (pulumi/pulumi step.go
    DeleteStep.Apply): none that is retainOnDelete, none whose deletedWith target goes in the same
    update. For a patch resource that provider call is ssa.Relinquish (pulumi-kubernetes await.go)."""
    return {
        name
        for name, spec in removed.items()
        if not spec.retain_on_delete and spec.deleted_with not in deleted_in_same_update
    }


# pulumi-kubernetes provider/pkg/await/await.go patchForce: the managers that mark Pulumi's own old
# client-side applies, which a preview forces over.
_PULUMI_CSA_MANAGERS = ("pulumi-resource-kubernetes", "pulumi-kubernetes", "pulumi-kubernetes.exe")


def patch_force(inputs: dict[str, Any], live: dict[str, Any] | None, preview: bool) -> bool:
    """Whether pulumi-kubernetes applies with force (await.go patchForce, provider enablePatchForce off):
    the `pulumi.com/patchForce: "true"` annotation; in preview, no live object or a field manager of
    Pulumi's old client-side applies; a live object without managedFields."""
    annotations = (inputs.get("metadata") or {}).get("annotations") or {}
    if annotations.get("pulumi.com/patchForce") == "true":
        return True
    managed = ((live or {}).get("metadata") or {}).get("managedFields") or []
    if preview and (
        live is None
        or any(m.get("operation") == "Update" and m.get("manager") in _PULUMI_CSA_MANAGERS for m in managed)
    ):
        return True
    return live is not None and not managed


def apply_conflicts(live: dict[str, Any], fields: dict[str, Any], section: str = "spec") -> dict[str, str]:
    """Field -> the other manager that owns it, for each of `fields` (under `section`) whose value the
    apply changes: server-side apply refuses such an apply unless forced (Kubernetes server-side apply,
    "Conflicts"). Owners are read from the live object's managedFields (fieldsV1 `f:<name>` keys)."""
    conflicts = {}
    current = live.get(section) or {}
    for field, value in fields.items():
        if current.get(field) == value:
            continue
        for entry in (live.get("metadata") or {}).get("managedFields") or []:
            owned = ((entry.get("fieldsV1") or {}).get(f"f:{section}") or {}).get(f"f:{field}")
            if owned is not None:
                conflicts[field] = entry["manager"]
    return conflicts
