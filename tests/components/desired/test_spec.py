"""ResourceSpec.under: the copy every resource of every state goes through, held to dataclasses.replace."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from components.desired.spec import ResourceSpec


def _every_field_set() -> ResourceSpec:
    return ResourceSpec(
        type="kubernetes:apps/v1:Deployment",
        name="web/app/wasm-deployment",
        component="web/app/wasm",
        inputs={"kind": "Deployment", "spec": {"replicas": 2}},
        protect=True,
        import_id="web/app",
        depends_on=("web/app/hpa",),
        ignore_changes=("spec.replicas",),
        replace_on_changes=("spec.selector",),
        delete_before_replace=True,
        retain_on_delete=True,
        deleted_with="web/app/namespace",
        parent_types=("aks-wasm-migration:index:WasmWorkload",),
    )


@pytest.mark.parametrize("spec", [_every_field_set(), ResourceSpec("t", "n", "c", {})], ids=["full", "bare"])
def test_under_is_replace_of_its_parents_and_dependencies(spec):
    parents = ("aks-wasm-migration:index:MigrationPhase", "aks-wasm-migration:index:WasmWorkload")
    before = dataclasses.astuple(spec)
    copied = spec.under(parents, ("web/app/gate",))
    expected = dataclasses.replace(spec, parent_types=parents, depends_on=(*spec.depends_on, "web/app/gate"))
    assert copied == expected
    assert {f.name: getattr(copied, f.name) for f in dataclasses.fields(ResourceSpec)} == {
        f.name: getattr(expected, f.name) for f in dataclasses.fields(ResourceSpec)
    }
    assert copied.inputs is spec.inputs  # shared, as replace shares it
    assert dataclasses.astuple(spec) == before  # the original is left as it was
    assert pickle.loads(pickle.dumps(copied)) == copied  # a child's answer carries it
    with pytest.raises(dataclasses.FrozenInstanceError):
        copied.name = "other"  # type: ignore[misc]
