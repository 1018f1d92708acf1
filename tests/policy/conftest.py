"""The policy pack's modules are imported as the pack itself imports them, from policy/ on sys.path;
the program's registrations under mocks become the arguments the engine hands the pack."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf import json_format

from tests.conftest import ROOT, Run
from tests.engine import azure_agent_pool_read, process_ignore_changes

POLICY_DIR = ROOT / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

from pulumi_policy import (  # noqa: E402
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties  # noqa: E402
from pulumi_policy.policy import PolicyCustomTimeouts  # noqa: E402
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402
from wasm_migration_pack import POLICIES  # noqa: E402

WASI_POOL_SHOW = json.loads(
    (ROOT / "tests/components/desired/fixtures/az-aks-nodepool-show-wasipool.json").read_text()
)


@dataclass(frozen=True)
class Seen:
    """One resource as the engine hands it to an analyzer: wire-form inputs (camelCase, secrets and
    unknowns as their signatures) and the options pulumi-policy reads."""

    type: str
    name: str
    props: dict[str, Any]
    protect: bool
    ignore_changes: tuple[str, ...]
    parent: str
    provider: tuple[str, str, dict[str, Any]] | None  # type, name, wire-form inputs

    def with_props(self, props: dict[str, Any]) -> Seen:
        return replace(self, props=props)


def _provider(reference: str, providers: dict[tuple[str, str], dict[str, Any]]) -> Any:
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    parts = urn.split("::")
    type_, name = parts[2].rsplit("$", 1)[-1], parts[3]
    return (type_, name, providers[(type_, name)])


def engine_view(run: Run) -> list[Seen]:
    """Every registration as the analyzer sees it. The engine analyses a resource's inputs after
    ignore_changes against its old (or just imported) inputs (pulumi/pulumi step_generator.go
    continueStepsFromImport): an adopted WASI pool is seen with what azure-native read back, among it
    `workloadRuntime: WasmWasi`, not with the three path parameters the program sends."""
    wire = [(r, json_format.MessageToDict(r.object)) for r in run.monitor.requests]
    providers = {(r.type, r.name): props for r, props in wire if r.type.startswith("pulumi:providers:")}
    seen = []
    for request, props in wire:
        ignore = tuple(request.ignoreChanges)
        if request.type == "azure-native:containerservice:AgentPool" and request.importId and "*" in ignore:
            imported = azure_agent_pool_read(WASI_POOL_SHOW, cluster=props["resourceName"])
            props = process_ignore_changes(props, imported, list(ignore))
        seen.append(
            Seen(
                request.type,
                request.name,
                props,
                request.protect,
                ignore,
                request.parent,
                _provider(request.provider, providers),
            )
        )
    return seen


def urn(seen: Seen) -> str:
    return f"urn:pulumi:test::aks-wasm-migration::{seen.type}::{seen.name}"


def validation_args(seen: Seen, config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    """What pulumi-policy's analyzer builds from an AnalyzeRequest (policy.py Analyze)."""
    opts = PolicyResourceOptions(
        seen.protect,
        list(seen.ignore_changes),
        None,
        [],
        PolicyCustomTimeouts(0, 0, 0),
        [],
        seen.parent or None,
    )
    provider = None
    if seen.provider:
        type_, name, props = seen.provider
        provider = PolicyProviderResource(
            type_, unknown_checking_proxy(deserialize_properties(props)), f"urn:{type_}::{name}", name
        )
    props = unknown_checking_proxy(deserialize_properties(seen.props))
    return ResourceValidationArgs(seen.type, props, urn(seen), seen.name, opts, provider, config)


def policy(name: str) -> ResourceValidationPolicy | StackValidationPolicy:
    return next(p for p in POLICIES if p.name == name)


def violations(seen: Seen, name: str, config: dict[str, Any] | None = None) -> list[str]:
    """What the named resource policy reports for `seen`, through its real validate."""
    found: list[str] = []
    validator = policy(name)
    assert isinstance(validator, ResourceValidationPolicy)
    validator.validate(validation_args(seen, config), lambda message, urn=None: found.append(message))
    return found


def stack_violations(resources: list[Seen], name: str, config: dict[str, Any] | None = None) -> list[str]:
    found: list[str] = []
    validator = policy(name)
    assert isinstance(validator, StackValidationPolicy)
    policy_resources = [
        PolicyResource(
            r.type,
            unknown_checking_proxy(deserialize_properties(r.props)),
            urn(r),
            r.name,
            PolicyResourceOptions(
                r.protect, list(r.ignore_changes), None, [], PolicyCustomTimeouts(0, 0, 0), []
            ),
            None,
            None,
            [],
            {},
        )
        for r in resources
    ]
    validator.validate(
        StackValidationArgs(policy_resources, config), lambda message, urn=None: found.append(message)
    )
    return found
