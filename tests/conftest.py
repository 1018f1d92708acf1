"""One Pulumi mocks fixture for the whole suite: records every registration with its inputs (Mocks)
and its resource options (a MockMonitor subclass sees the full RegisterResourceRequest)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor

from components.config import PROJECT, Phase
from components.migration import raw_config_from_stack_file
from migrate.phases import plan

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"
# The reference environment and the phase files generated from it, in walking order. Tests name a file
# by its phase (`phase_path`), never by position: adding a phase or a traffic step shifts nothing.
ENVIRONMENT = STACKS / "Pulumi.prod.yaml"
WALK = plan(ENVIRONMENT)
PHASE_FILES = [file.path for file in WALK]
CREDENTIALS_TOKEN = "azure-native:containerservice:listManagedClusterUserCredentials"
USER_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n# user credentials of the mocked cluster\n"


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.calls: list[pulumi.runtime.MockCallArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        self.calls.append(args)
        if args.token == CREDENTIALS_TOKEN:
            encoded = base64.b64encode(USER_KUBECONFIG.encode()).decode()
            return {"kubeconfigs": [{"name": "clusterUser", "value": encoded}]}
        raise NotImplementedError(f"invoke {args.token} is not mocked")


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []
        self.outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        return super().RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)

    def stack_outputs(self) -> dict[str, Any]:
        return next(outputs for urn, outputs in self.outputs.items() if "pulumi:pulumi:Stack" in urn)


@dataclass
class Registration:
    """What the engine received for one resource: inputs plus the options that Mocks alone hides."""

    type: str
    name: str
    inputs: dict[str, Any]
    protect: bool
    import_id: str
    dependencies: list[str]
    parent: str
    replace_on_changes: list[str]
    delete_before_replace: bool
    ignore_changes: list[str]
    provider: str
    retain_on_delete: bool
    deleted_with: str


@dataclass
class Run:
    mocks: RecordingMocks
    monitor: RecordingMonitor
    registrations: list[Registration] = field(default_factory=list)

    def custom(self) -> dict[str, Registration]:
        """Custom resources only (no components, stack or providers), by logical name."""
        return {r.name: r for r in self.registrations if not r.type.startswith(("pulumi:", f"{PROJECT}:"))}

    def named(self, type_: str, name: str) -> Registration:
        return next(r for r in self.registrations if r.type == type_ and r.name == name)


def _registration(request: Any, inputs: dict[str, Any]) -> Registration:
    return Registration(
        type=request.type,
        name=request.name,
        inputs=inputs,
        protect=request.protect,
        import_id=request.importId,
        dependencies=list(request.dependencies),
        parent=request.parent,
        replace_on_changes=list(request.replaceOnChanges),
        delete_before_replace=request.deleteBeforeReplace,
        ignore_changes=list(request.ignoreChanges),
        provider=request.provider,
        retain_on_delete=request.retainOnDelete,
        deleted_with=request.deletedWith,
    )


def engine_config(raw: dict[str, Any]) -> dict[str, str]:
    """Config as the CLI hands it to the program: strings, structured values as JSON."""
    return {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def run_under_mocks(
    program: Callable[[], Any], config: dict[str, str], started: Callable[[Run], None] = lambda run: None
) -> Run:
    """Execute `program` under fresh mocks with `config` (engine form); the Run (also handed to
    `started` before the program runs) records everything the engine was asked, also on failure."""
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config)

    @pulumi.runtime.test
    def execute():
        program()

    result = Run(mocks, monitor)
    started(result)
    try:
        execute()
    finally:
        inputs = {r.name: dict(r.inputs) for r in mocks.resources}
        result.registrations = [_registration(r, inputs.get(r.name, {})) for r in monitor.requests]
    return result


@pytest.fixture
def pulumi_run():
    """Returns run(raw_config) -> Run: executes the real program under fresh mocks. The last Run stays
    readable as `run.last`, also when the program failed."""
    from components.migration_phase import program

    def run(raw: dict[str, Any]) -> Run:
        return run_under_mocks(program, engine_config(raw), lambda started: setattr(run, "last", started))

    return run


def phase_path(phase: Phase, weight: int | None = None) -> Path:
    """The reference phase file of `phase`; a parallel one by its traffic step (`weight`)."""
    found = [file.path for file in WALK if file.phase is phase and weight in (None, file.weight)]
    if len(found) != 1:
        steps = [file.weight for file in WALK if file.phase is phase]
        raise LookupError(f"{phase.value} has phase files for weights {steps}; name one (got {weight})")
    return found[0]


@pytest.fixture(params=PHASE_FILES, ids=lambda path: path.name)
def phase_file(request) -> Path:
    return request.param


def load_raw(path: Path) -> dict[str, Any]:
    return raw_config_from_stack_file(path)
