"""The pulumi-policy objects: each hands the engine's arguments, as plain data, to one rule of
wasm_migration_policy and reports what it returns. `__main__` serves them as the pack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import wasm_migration_policy as rules
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import serialize_properties

PACK_NAME = "aks-wasm-migration"
INSTALLER_NAMESPACE = "installerNamespace"
RUNTIME_CLASS_NAME = "runtimeClassName"
_NAMESPACE_SCHEMA = {
    "type": "string",
    "default": rules.DEFAULT_INSTALLER_NAMESPACE,
    "description": "the shim installer's namespace, the only one allowed privileged pods",
}
_CLASS_SCHEMA = {
    "type": "string",
    "default": rules.DEFAULT_RUNTIME_CLASS_NAME,
    "description": "the migration's RuntimeClass (containerd-shim-spin), named in the messages",
}


def plain(props: Any) -> Any:
    """pulumi-policy's unknown-checking proxies as plain data: reading an unknown through a proxy raises,
    which would drop the whole policy for the resource during preview; here a rule sees the sentinel."""
    return serialize_properties(props) if props is not None else {}


def options(args: ResourceValidationArgs) -> rules.Options:
    return rules.Options(
        protect=bool(args.opts.protect), ignore_changes=tuple(args.opts.ignore_changes or ())
    )


def config(settings: Mapping[str, Any]) -> rules.Config:
    """The policy's config; the CLI fills in the schema's defaults, these hold where it does not."""
    namespace = settings.get(INSTALLER_NAMESPACE) or rules.DEFAULT_INSTALLER_NAMESPACE
    runtime_class = settings.get(RUNTIME_CLASS_NAME) or rules.DEFAULT_RUNTIME_CLASS_NAME
    return rules.Config(installer_namespace=namespace, runtime_class_name=runtime_class)


def _provider_namespace(args: ResourceValidationArgs) -> Any:
    provider = plain(args.provider.props) if args.provider is not None else {}
    return provider.get("namespace") if args.resource_type.startswith("kubernetes:") else None


Rule = Callable[[ResourceValidationArgs], list[str]]


def _validate(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule(args):
            report_violation(message, None)

    return validate


def _no_wasi_pools(args: ResourceValidationArgs) -> list[str]:
    return rules.wasi_pool_violations(args.resource_type, plain(args.props), options(args))


def _no_wasi_runtime_class(args: ResourceValidationArgs) -> list[str]:
    return rules.wasi_runtime_class_violations(
        args.resource_type, plain(args.props), options(args), config(args.get_config())
    )


def _images_by_digest(args: ResourceValidationArgs) -> list[str]:
    return rules.image_violations(args.resource_type, plain(args.props), options(args))


def _privileged_only_in_installer_namespace(args: ResourceValidationArgs) -> list[str]:
    return rules.privilege_violations(
        args.resource_type,
        plain(args.props),
        options(args),
        config(args.get_config()),
        _provider_namespace(args),
    )


def _legacy_protected(args: ResourceValidationArgs) -> list[str]:
    return rules.protection_violations(args.resource_type, plain(args.props), options(args))


def _one_wasm_runtime_class(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = [(r.resource_type, plain(r.props)) for r in args.resources]
    for message in rules.other_wasm_class_violations(resources, config(args.get_config())):
        report_violation(message, None)


POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    ResourceValidationPolicy(
        name="no-wasi-node-pools",
        description="No AKS agent pool with workloadRuntime WasmWasi, except one adopted read-only.",
        validate=_validate(_no_wasi_pools),
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="no-aks-wasi-runtime-class",
        description="No pod template on an AKS wasmtime-* RuntimeClass, except a workload adopted read-only.",
        validate=_validate(_no_wasi_runtime_class),
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema({RUNTIME_CLASS_NAME: _CLASS_SCHEMA}),
    ),
    StackValidationPolicy(
        name="one-wasm-runtime-class",
        description="Wasm pods use the migration's RuntimeClass, not another class with a Wasm shim handler.",
        validate=_one_wasm_runtime_class,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=PolicyConfigSchema({RUNTIME_CLASS_NAME: _CLASS_SCHEMA}),
    ),
    ResourceValidationPolicy(
        name="images-pinned-by-digest",
        description="Every container image is pinned by digest (@sha256:<64 hex>).",
        validate=_validate(_images_by_digest),
        # Advisory: the installer image's digest is optional in the project's config and its reference
        # stack runs tags; an organisation makes it mandatory in the pack config once its stacks pin.
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    ResourceValidationPolicy(
        name="privileged-only-in-installer-namespace",
        description="Privileged pods, host namespaces, hostPath and added capabilities only in the "
        "installer's namespace, the only one labelled pod-security privileged.",
        validate=_validate(_privileged_only_in_installer_namespace),
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema({INSTALLER_NAMESPACE: _NAMESPACE_SCHEMA}),
    ),
    ResourceValidationPolicy(
        name="legacy-wasi-protected",
        description="A WASI pool and a Deployment on an AKS WASI RuntimeClass stay protected until "
        "decommission.",
        validate=_validate(_legacy_protected),
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
