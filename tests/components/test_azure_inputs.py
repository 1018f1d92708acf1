"""The plan writes Azure inputs as plain data in the engine's wire form, and restates two of
azure-native's enums, so that the offline CLI never imports the SDK (components/desired/pools.py says
why). Here the SDK checks that data: for every Azure resource of every reference phase, of every
fixture environment's phases and of the `aci` target, the SDK's own args classes are built from the
inputs (an input they do not have fails) and turned back into wire form by the SDK's property names,
which must give the same inputs, in the same order; the restated enums are the SDK's."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path

import pulumi
import pytest
from pulumi_azure_native import containerservice

from components.core.config import LINUX_OS_SKUS, ConfigError, Phase
from components.desired import build_desired_state
from components.desired.pools import OCI_CONTAINER
from components.desired.spec import Input, ResourceSpec
from components.loading import load_migration, raw_config_from_stack_text
from components.registration import AZURE_CLASSES, RegistrationError, sdk_args, wire_inputs
from migrate.phases import plan
from tests.components.desired.test_aci import IDENTITY, on_aci
from tests.conftest import PHASE_FILES, ROOT, load_raw

ENVIRONMENTS = sorted((ROOT / "tests" / "fixtures" / "environments").glob("*/Pulumi.*.yaml"))
ACI_VARIANTS = [
    (Phase.PARALLEL, 50, {}),
    (Phase.PARALLEL, 50, {"identityId": IDENTITY, "zones": ["1", "2", "3"]}),
    (Phase.CUTOVER, None, {"identityId": IDENTITY, "sku": "Confidential"}),
]


def _azure(specs: Sequence[ResourceSpec]) -> list[ResourceSpec]:
    return [spec for spec in specs if spec.type in AZURE_CLASSES]


def _environment_phases(environment: Path) -> Iterator[tuple[str, list[ResourceSpec]]]:
    """Each phase the environment's config is valid in (some hold decisions init left to a person)."""
    root = environment.parent
    for file in plan(environment, root=root):
        raw = raw_config_from_stack_text(file.body, str(file.path))
        try:
            migration = load_migration(raw, base_dir=root)
        except ConfigError:
            continue
        yield file.path.name, _azure(build_desired_state(migration).resources)


def _assert_sdk_round_trip(where: str, specs: list[ResourceSpec]) -> None:
    for spec in specs:
        _, args_class = AZURE_CLASSES[spec.type]
        args = sdk_args(args_class, spec.inputs)
        assert isinstance(args, args_class)
        # json.dumps keeps the key order: the SDK's order is the wire's.
        assert json.dumps(wire_inputs(args)) == json.dumps(spec.inputs), (where, spec.name)


@pytest.mark.parametrize("phase_file", PHASE_FILES, ids=lambda path: path.name)
def test_every_reference_phases_azure_inputs_are_the_sdks(phase_file):
    specs = _azure(build_desired_state(load_migration(load_raw(phase_file))).resources)
    assert specs or phase_file.name.endswith("baseline.yaml")
    _assert_sdk_round_trip(phase_file.name, specs)


def test_every_fixture_environments_azure_inputs_are_the_sdks():
    phases = [phase for environment in ENVIRONMENTS for phase in _environment_phases(environment)]
    assert sum(len(specs) for _, specs in phases) > len(phases)
    for name, specs in phases:
        _assert_sdk_round_trip(name, specs)


@pytest.mark.parametrize(("phase", "weight", "aci"), ACI_VARIANTS)
def test_the_aci_targets_container_groups_are_the_sdks(phase, weight, aci):
    specs = _azure(build_desired_state(load_migration(on_aci(phase, weight, **aci))).resources)
    assert any(spec.type == "azure-native:containerinstance:ContainerGroup" for spec in specs)
    _assert_sdk_round_trip(f"{phase} {weight} {aci}", specs)


def test_an_input_the_sdk_lacks_fails_at_any_depth():
    specs = build_desired_state(load_migration(on_aci(Phase.PARALLEL, 50))).resources
    spec = next(spec for spec in specs if spec.type == "azure-native:containerinstance:ContainerGroup")
    _, args_class = AZURE_CLASSES[spec.type]
    (container,) = spec.inputs["containers"]
    nested = {**spec.inputs, "containers": [{**container, "readinessProbe": {"periodSecond": 5}}]}
    with pytest.raises(RegistrationError, match="ContainerProbeArgs has no input 'periodSecond'"):
        sdk_args(args_class, nested)
    with pytest.raises(RegistrationError, match="ContainerGroupArgs has no input 'subnetIDs'"):
        sdk_args(args_class, {**spec.inputs, "subnetIDs": spec.inputs["subnetIds"]})


def test_the_linux_os_skus_are_the_providers_less_windows_and_cblmariner():
    assert (
        tuple(
            sku.value
            for sku in containerservice.OSSKU
            if not sku.value.startswith("Windows") and sku.value != "CBLMariner"
        )
        == LINUX_OS_SKUS
    )


def test_the_oci_container_runtime_is_the_providers():
    assert containerservice.WorkloadRuntime.OCI_CONTAINER.value == OCI_CONTAINER


@pytest.mark.parametrize("inner", [str, int, typing.Sequence[str], dict[str, str]])
def test_the_plans_input_type_is_pulumis(inner):
    """The component analyzer reads the public args' annotations (tests/test_package.py): they must be
    pulumi.Input itself, whichever module spells it."""
    assert Input[inner] == pulumi.Input[inner]
    assert typing.get_args(Input[inner]) == typing.get_args(pulumi.Input[inner])
