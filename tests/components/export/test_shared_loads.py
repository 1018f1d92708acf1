"""Both sides of `check --from` and `diff` name the same legacy manifests: each (same text, same workload
config, same Kubernetes version and pools) is parsed and checked once per process, and every side still
gets objects of its own, so nothing one side does to them reaches the other."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from components.core.config import Phase
from components.export import workload as workload_module
from components.loading import load_migration
from migrate.__main__ import main
from tests.conftest import ROOT, load_raw, phase_path


@pytest.fixture
def parses(monkeypatch):
    """A fresh set of kept loads, and the number of times each manifest text is parsed."""
    monkeypatch.setattr(workload_module, "_KEPT", {})
    counted: Counter[str] = Counter()
    documents = workload_module._documents

    def counting(text):
        counted[text] += 1
        return documents(text)

    monkeypatch.setattr(workload_module, "_documents", counting)
    return counted


def containers(value, found=None):
    """Every dict and list inside `value`."""
    found = [] if found is None else found
    if isinstance(value, (dict, list, tuple)):
        if not isinstance(value, tuple):
            found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            containers(item, found)
    return found


def loaded_objects(migration):
    return [
        (
            legacy.deployment,
            legacy.service,
            legacy.exported,
            legacy.services,
            legacy.template,
            legacy.controlled,
        )
        for legacy in migration.workloads
    ]


def test_a_manifest_both_sides_name_is_parsed_once(parses, capsys):
    source, target = phase_path(Phase.PARALLEL, 100), phase_path(Phase.CUTOVER)
    assert main(["check", str(target), "--from", str(source)]) == 0
    assert main(["diff", str(source), str(target)]) == 0
    capsys.readouterr()
    manifests = {workload["manifest"] for workload in load_raw(target)["workloads"]}
    assert len(parses) == len(manifests) > 1
    assert set(parses.values()) == {1}


def test_each_side_gets_objects_of_its_own(parses):
    source = load_migration(load_raw(phase_path(Phase.PARALLEL, 100)), ROOT)
    target = load_migration(load_raw(phase_path(Phase.CUTOVER)), ROOT)
    assert set(parses.values()) == {1}
    before, after = loaded_objects(source), loaded_objects(target)
    assert before == after
    assert not {id(node) for node in containers(before)} & {id(node) for node in containers(after)}
    # Within one side, what the loader shares stays shared: the followed Service heads `services`, the
    # Deployment is one of the exported objects.
    for legacy in target.workloads:
        assert legacy.services[0] is legacy.service
        assert any(obj is legacy.deployment for obj in legacy.exported)


def test_changing_one_sides_objects_changes_no_other_side(parses):
    raw = load_raw(phase_path(Phase.PARALLEL, 100))
    first = load_migration(raw, ROOT)
    pristine = copy.deepcopy(loaded_objects(first))
    legacy = first.workloads[0]
    legacy.deployment["spec"]["replicas"] = 99
    legacy.pod_spec["containers"][0]["image"] = "changed"
    legacy.service["metadata"]["labels"] = {"changed": "yes"}
    legacy.exported[-1].clear()
    second = load_migration(raw, ROOT)
    assert loaded_objects(second) == pristine
    second.workloads[0].services[0]["spec"].clear()
    assert loaded_objects(load_migration(raw, ROOT)) == pristine
    assert set(parses.values()) == {1}


def test_a_changed_config_or_text_is_loaded_again(parses, tmp_path):
    raw = load_raw(phase_path(Phase.PARALLEL, 100))
    load_migration(raw, ROOT)
    other = copy.deepcopy(raw)
    other["workloads"][0]["acceptReducedCapacity"] = True
    migration = load_migration(other, ROOT)
    assert migration.workloads[0].config.accept_reduced_capacity
    manifest = raw["workloads"][0]["manifest"]
    assert parses[(ROOT / manifest).read_text()] == 2  # the changed workload, once more
    assert sum(parses.values()) == len({w["manifest"] for w in raw["workloads"]}) + 1


def test_a_manifest_that_may_hold_nan_is_kept_as_a_deep_copy(parses, project_dir):
    """PyYAML makes every NaN one object, which a deep copy keeps (marshal would make new ones): a text
    spelling NaN anywhere is kept deep-copied, and its copies are still each caller's own."""
    raw = load_raw(phase_path(Phase.PARALLEL, 100))
    manifest = project_dir / "hello.yaml"
    manifest.write_text("# not a number: .nan\n" + (ROOT / raw["workloads"][0]["manifest"]).read_text())
    raw["workloads"][0]["manifest"] = str(manifest.relative_to(ROOT))
    first = load_migration(raw, ROOT)
    kept = [k for k in workload_module._KEPT.values() if not isinstance(k.fields, bytes)]
    assert len(kept) == 1
    second = load_migration(raw, ROOT)
    assert loaded_objects(first) == loaded_objects(second)
    assert not {id(n) for n in containers(loaded_objects(first))} & {
        id(n) for n in containers(loaded_objects(second))
    }
