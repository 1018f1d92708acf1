"""The only place desired-state specs become Pulumi resources: options are translated one-to-one, so
what the engine sees is exactly what `migrate render` shows."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping

import pulumi
import pulumi_kubernetes as k8s

from components.desired.spec import ResourceSpec

_KUBERNETES_CLASSES: dict[str, type[pulumi.CustomResource]] = {
    "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
    "kubernetes:core/v1:ServiceAccount": k8s.core.v1.ServiceAccount,
    "kubernetes:core/v1:ConfigMap": k8s.core.v1.ConfigMap,
    "kubernetes:core/v1:Service": k8s.core.v1.Service,
    "kubernetes:apps/v1:DaemonSet": k8s.apps.v1.DaemonSet,
    "kubernetes:apps/v1:Deployment": k8s.apps.v1.Deployment,
    "kubernetes:node.k8s.io/v1:RuntimeClass": k8s.node.v1.RuntimeClass,
    "kubernetes:policy/v1:PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "kubernetes:batch/v1:Job": k8s.batch.v1.Job,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": k8s.rbac.v1.Role,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": k8s.rbac.v1.RoleBinding,
}


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def options_for(
    spec: ResourceSpec, parent: pulumi.Resource, registered: Mapping[str, pulumi.Resource]
) -> pulumi.ResourceOptions:
    """`depends_on` names other specs; they are registered earlier, so they resolve here."""
    return pulumi.ResourceOptions(
        parent=parent,
        protect=spec.protect,
        import_=spec.import_id,
        depends_on=[registered[name] for name in spec.depends_on],
        ignore_changes=list(spec.ignore_changes) or None,
        replace_on_changes=list(spec.replace_on_changes) or None,
        delete_before_replace=spec.delete_before_replace,
    )


def register_kubernetes(
    spec: ResourceSpec, parent: pulumi.Resource, registered: Mapping[str, pulumi.Resource]
) -> pulumi.CustomResource:
    manifest = spec.inputs
    opts = options_for(spec, parent, registered)
    resource_class = _KUBERNETES_CLASSES.get(spec.type)
    if resource_class is None:  # custom resources such as Gateway API's HTTPRoute
        return k8s.apiextensions.CustomResource(
            spec.name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest.get("spec"),
            opts=opts,
        )
    arguments = {snake_case(key): value for key, value in manifest.items()}
    return resource_class(spec.name, opts=opts, **arguments)


def register_all_kubernetes(
    specs: tuple[ResourceSpec, ...], parent: pulumi.Resource, registered: MutableMapping[str, pulumi.Resource]
) -> None:
    """Register specs in order, each visible to the `depends_on` of those after it."""
    for spec in specs:
        registered[spec.name] = register_kubernetes(spec, parent, registered)
