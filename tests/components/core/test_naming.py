"""Names derived from workloads: Pulumi logical names that never collide, Kubernetes names and label
values within Kubernetes' limits, and the collisions that remain refused before anything registers."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.analysis.traffic import analysed_state
from components.core import identifiers, naming
from components.core.config import ConfigError, Phase
from components.desired.spec import DesiredState
from components.export.migration import Migration
from components.loading import load_migration
from tests.conftest import ROOT, load_raw, phase_path

HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"
# apimachinery validation.go IsDNS1035Label (Service names) and IsDNS1123Label, lengths included.
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def legacy_manifest(namespace: str, name: str, service: str) -> str:
    """The reference hello-spin export (managedFields, status, List wrapper) renamed."""
    exported = yaml.safe_load(HELLO.read_text())
    deployment, svc = copy.deepcopy(exported["items"])
    deployment["metadata"].update(name=name, namespace=namespace)
    deployment["metadata"]["annotations"].pop("kubectl.kubernetes.io/last-applied-configuration")
    deployment["spec"]["selector"]["matchLabels"] = {"app": name}
    deployment["spec"]["template"]["metadata"]["labels"] = {"app": name}
    svc["metadata"].update(name=service, namespace=namespace)
    svc["spec"]["selector"] = {"app": name}
    return yaml.safe_dump({**exported, "items": [deployment, svc]})


@dataclass(frozen=True)
class Spec:
    namespace: str
    name: str
    service: str
    gateway: bool = False


def raw_with(directory: Path, workloads: list[Spec], phase: Phase = Phase.PARALLEL) -> dict[str, Any]:
    """The reference stack with `workloads` instead of its own, their exports written to `directory`
    (inside the project, where manifest paths must resolve)."""
    raw = load_raw(phase_path(Phase.BASELINE))
    template = raw["workloads"][0]
    entries = []
    for index, spec in enumerate(workloads):
        path = directory / f"{index}.yaml"
        path.write_text(legacy_manifest(spec.namespace, spec.name, spec.service))
        entry = {**copy.deepcopy(template), "name": spec.name, "namespace": spec.namespace}
        entry["manifest"] = str(path.relative_to(ROOT))
        if spec.gateway:
            entry["gateway"] = {"name": "public", "namespace": "gateway-system"}
        entries.append(entry)
    raw.update(workloads=entries, phase=phase.value, traffic={"weight": 50})
    raw["decommission"] = {"confirm": "aks-contoso-prod/wasipool"}
    return raw


def migration_of(directory: Path, workloads: list[Spec], phase: Phase = Phase.PARALLEL) -> Migration:
    return load_migration(raw_with(directory, workloads, phase))


def _label_values(value: Any) -> list[str]:
    """Every value under a `labels` or `matchLabels` mapping, anywhere in a manifest."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("labels", "matchLabels") and isinstance(item, dict):
                found.extend(item.values())
            else:
                found.extend(_label_values(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_label_values(item))
    return found


def limit_problems(state: DesiredState) -> list[str]:
    """What the API server would reject, or the engine refuse as a duplicate, in one phase's state."""
    problems = []
    names = [spec.name for spec in state.resources]
    problems += [f"logical name {n} twice" for n in sorted({n for n in names if names.count(n) > 1})]
    components = [plan.name for plan in state.components]
    problems += [f"component {n} twice" for n in sorted({n for n in components if components.count(n) > 1})]
    objects = []
    for spec in state.resources:
        if not spec.is_kubernetes:
            continue
        metadata = spec.inputs["metadata"]
        name, kind = metadata["name"], spec.inputs["kind"]
        pattern = _DNS1035_LABEL if kind == "Service" else _DNS1123_LABEL
        if not (len(name) <= 63 and pattern.fullmatch(name)):
            problems.append(f"{spec.name}: {kind} name {name!r} ({len(name)} characters)")
        for value in _label_values(spec.inputs):
            try:
                identifiers.label_value(value)
            except ValueError:
                problems.append(f"{spec.name}: label value {value!r} ({len(value)} characters)")
        if not spec.is_patch:
            objects.append((kind, metadata.get("namespace"), name))
    problems += [f"{o} twice" for o in sorted({o for o in objects if objects.count(o) > 1}, key=str)]
    return problems


def test_a_name_that_fits_is_kept_and_a_longer_one_is_cut_with_a_stable_hash():
    assert naming.fitted("a" * 58, "-spin") == "a" * 58 + "-spin"
    service = "s" + "x" * 59  # the issue's 60-character Service: `…-spin` would be 65
    fitted = naming.new_service_name(service)
    assert len(fitted) == 63 and fitted.endswith("-spin") and fitted.startswith(service[:49])
    assert _DNS1035_LABEL.fullmatch(fitted)
    assert naming.new_service_name(service) == fitted  # stable from run to run
    assert naming.new_service_name(service[:-1] + "y") != fitted  # distinct for distinct long names
    cut_at_a_dash = naming.fitted("a" * 48 + "-" + "b" * 14, "-spin")  # the cut keeps `a…a-`
    assert cut_at_a_dash.startswith("a" * 48 + "-") and "--" not in cut_at_a_dash and len(cut_at_a_dash) == 62


def test_the_issues_63_character_workload_gets_labels_of_at_most_63(project_dir):
    name = "w" + "0" * 62
    migration = migration_of(project_dir, [Spec("web", name, "svc" + "1" * 60)])
    state = analysed_state(migration)
    assert limit_problems(state) == []
    deployment = state.by_name()[f"web/{name}/wasm-deployment"].inputs
    instance = deployment["spec"]["template"]["metadata"]["labels"]["aks-wasm-migration/instance"]
    assert instance == deployment["metadata"]["name"] == naming.new_app_name(name)
    assert len(instance) == 63 and instance.endswith("-spin")
    service = state.by_name()[f"web/{name}/wasm-service"].inputs["metadata"]["name"]
    assert len(service) == 63 and service.endswith("-spin")
    job = state.by_name()[f"web/{name}/verify-job"].inputs
    assert job["metadata"]["name"] == naming.verify_name(name) and len(job["metadata"]["name"]) == 63


def test_dashed_namespaces_and_names_never_share_a_logical_name(project_dir):
    """`web-api/orders` and `web/api-orders` were both `web-api-orders-…` before."""
    pair = [Spec("web-api", "orders", "orders"), Spec("web", "api-orders", "api-orders", gateway=True)]
    for phase in Phase:
        state = analysed_state(migration_of(project_dir, pair, phase))
        assert limit_problems(state) == [], phase
        ours = {
            (ns, name): {s.name for s in state.resources if s.name.startswith(f"{ns}/{name}/")}
            for ns, name in (("web-api", "orders"), ("web", "api-orders"))
        }
        assert all(ours.values()), phase
        for (namespace, _), names in ours.items():
            for spec in state.resources:
                if spec.name in names and spec.is_kubernetes:
                    assert spec.inputs["metadata"]["namespace"] == namespace, spec.name


def test_objects_two_workloads_would_share_are_refused_naming_both(project_dir):
    """`hello`'s new Deployment is `hello-spin`, the legacy Deployment of the workload `hello-spin`; and two
    workloads cannot adopt one Service."""
    workloads = [
        Spec("web", "hello", "hello"),
        Spec("web", "hello-spin", "hello-spin"),
        Spec("web", "other", "hello"),
    ]
    with pytest.raises(ConfigError) as caught:
        migration_of(project_dir, workloads)
    manifest = str((project_dir / "{}.yaml").relative_to(ROOT))
    assert caught.value.problems == [
        "workloads[1].name: its legacy Deployment web/hello-spin is also workloads[0]'s new Deployment; "
        "one cluster object cannot be both (got 'hello-spin')",
        "workloads[1].manifest: its legacy Service web/hello-spin is also workloads[0]'s new Service; "
        f"one cluster object cannot be both (got '{manifest.format(1)}')",
        "workloads[2].manifest: its legacy Service web/hello is also workloads[0]'s legacy Service; "
        f"one cluster object cannot be both (got '{manifest.format(2)}')",
        "workloads[2].manifest: its new Service web/hello-spin is also workloads[0]'s new Service; "
        f"one cluster object cannot be both (got '{manifest.format(2)}')",
    ]


# Letters, a digit and '-': long names, names that only differ in a dash's place, and no accidental
# `-spin`/`-verify` suffixes (those collisions are refused, tested above).
_LETTERS = "ab"
_ALPHABET = "ab1-"


@st.composite
def dns_labels(draw: st.DrawFn) -> str:
    size = draw(st.sampled_from((1, 2, 3, 8, 40, 49, 58, 59, 60, 62, 63)))
    if size == 1:
        return draw(st.sampled_from(_LETTERS))
    middle = draw(st.text(_ALPHABET, min_size=size - 2, max_size=size - 2))
    return draw(st.sampled_from(_LETTERS)) + middle + draw(st.sampled_from(_LETTERS + "1"))


@st.composite
def workload_sets(draw: st.DrawFn) -> list[Spec]:
    specs = st.builds(Spec, dns_labels(), dns_labels(), dns_labels(), st.booleans())
    drawn = draw(st.lists(specs, min_size=1, max_size=3))
    first = drawn[0]
    if len(first.namespace) <= 61 and len(first.name) <= 61:  # its `web-api/orders` twin
        drawn.append(Spec(first.namespace, f"a-{first.name}", f"a-{first.service}"[:63].rstrip("-")))
        drawn[0] = Spec(f"{first.namespace}-a", first.name, first.service, first.gateway)
    unique: dict[tuple[str, str], Spec] = {}
    services = set()
    for spec in drawn:
        if (spec.namespace, spec.name) not in unique and (spec.namespace, spec.service) not in services:
            unique[(spec.namespace, spec.name)] = spec
            services.add((spec.namespace, spec.service))
    return list(unique.values())


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(workload_sets())
def test_every_rendered_name_and_label_value_is_within_limits_and_unique(project_dir, workloads):
    migration = migration_of(project_dir, workloads)
    for phase in Phase:
        config = migration.config.model_copy(update={"phase": phase})
        state = analysed_state(Migration(config, migration.workloads))
        assert limit_problems(state) == [], (phase, workloads)
        if phase is Phase.PARALLEL:  # not vacuous: every workload's new side is there
            rendered = {s.inputs["metadata"]["name"] for s in state.resources if s.is_kubernetes}
            assert {naming.new_app_name(w.name) for w in workloads} <= rendered
