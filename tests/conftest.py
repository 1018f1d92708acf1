"""One Pulumi mocks fixture for the whole suite: records every registration with its inputs (Mocks)
and its resource options (a MockMonitor subclass sees the full RegisterResourceRequest)."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor

from components.core.config import PROJECT, Phase
from components.loading import raw_config_from_stack_file
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
        outputs = dict(args.inputs)
        if args.typ == "azure-native:containerinstance:ContainerGroup":
            # ACI gives a group in a VNet subnet a private IP of the subnet when it creates it.
            outputs["ipAddress"] = {**outputs.get("ipAddress", {}), "ip": private_ip(args.name)}
        return f"{args.name}-id", outputs

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


def private_ip(name: str) -> str:
    """A stable address in the reference ACI subnet (10.225.0.0/16) for a container group."""
    digest = hashlib.sha256(name.encode()).digest()
    return f"10.225.{digest[0]}.{max(digest[1], 4)}"


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


@pytest.fixture
def project_dir() -> Path:
    """A scratch directory inside the project: manifest paths must resolve inside the project root, so
    tests that write their own manifests write them here (under the git-ignored build/)."""
    parent = ROOT / "build" / "tests"
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=parent))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Answer:
    """How `python -m migrate` answered, run in a forked child that is killed at the time bound."""

    code: int | None  # None: no answer within the bound (the child was killed)
    out: str
    err: str


def _answer_in_child(argv: list[str], out_path: str, err_path: str) -> None:
    import os

    from migrate.__main__ import main

    with open(out_path, "w") as out, open(err_path, "w") as err:
        sys.stdout, sys.stderr = out, err
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
        except BaseException:
            traceback.print_exc()
            code = 70  # outside the documented 0, 1, 2
        out.flush()
        err.flush()
    os._exit(code)


def run_bounded(argv: list[Any], seconds: float = 20.0) -> Answer:
    """`python -m migrate *argv` with the time bound enforced here, by the harness: the command runs
    in a forked child (modules already imported, so it starts in milliseconds) and is killed when it
    has not answered within `seconds`."""
    with tempfile.TemporaryDirectory() as scratch:
        out_path, err_path = f"{scratch}/out", f"{scratch}/err"
        Path(out_path).touch()
        Path(err_path).touch()
        child = multiprocessing.get_context("fork").Process(
            target=_answer_in_child, args=([str(a) for a in argv], out_path, err_path)
        )
        child.start()
        child.join(seconds)
        if child.is_alive():
            child.kill()
            child.join()
            code = None
        else:
            code = child.exitcode
        return Answer(
            code, Path(out_path).read_text(errors="replace"), Path(err_path).read_text(errors="replace")
        )


HELLO_MANIFEST = "manifests/legacy/web/hello-spin.yaml"


def reexported(text: str) -> str:
    """The hello-spin export as `kubectl get -o yaml` gives it after someone deployed v0.16.0 and scaled
    to 5 outside the migration (last-applied annotation, spec and status alike)."""
    text = text.replace("spin-rust-hello:v0.15.1", "spin-rust-hello:v0.16.0")
    text = text.replace('"replicas":2', '"replicas":5')
    changed = text.replace("replicas: 2\n", "replicas: 5\n")
    assert changed != text and "v0.16.0" in changed, "the hello-spin export changed shape; update this"
    return changed
