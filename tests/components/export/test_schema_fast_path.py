"""The compiled fast path of schema validation (jsonschema-rs) gives the same valid/invalid answer as the
jsonschema validator whose messages `check` prints: on every real object, on a table of one break per
keyword the schemas use, and on generated mutations of real objects. Where it says invalid, or is not
asked (a value that is not plain JSON), the jsonschema validator answers."""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from components.core.config import Phase
from components.desired import build_desired_state
from components.export import schemas
from components.export.schemas import CUSTOM_RESOURCE_DEFINITIONS, plain_json, schema_problems
from components.export.workload import READ_KINDS, strip_server_fields
from components.loading import load_migration
from tests.conftest import ROOT, load_raw, phase_path

VERSIONS = ("1.31", "1.34")
PHASES = [(Phase.BASELINE, None), (Phase.PREPARE, None), (Phase.PARALLEL, 50), (Phase.CUTOVER, None)]


def _real_objects() -> list[tuple[dict[str, Any], bool]]:
    """Each distinct Kubernetes object (and whether it is a patch) of the reference phases and of the
    legacy exports."""
    found: dict[str, tuple[dict[str, Any], bool]] = {}
    for phase, weight in PHASES:
        state = build_desired_state(load_migration(load_raw(phase_path(phase, weight))))
        for spec in state.resources:
            if spec.is_kubernetes:
                found.setdefault(
                    json.dumps([spec.inputs, spec.is_patch], sort_keys=True), (spec.inputs, spec.is_patch)
                )
    for path in sorted((ROOT / "manifests/legacy").rglob("*.yaml")):
        for document in schemas.yaml.safe_load_all(Path(path).read_text()):
            items = document.get("items", []) if document.get("kind") == "List" else [document]
            for obj in map(strip_server_fields, items):
                if obj.get("kind") in READ_KINDS and obj.get("kind") not in schemas._CUSTOM_KINDS:
                    found.setdefault(json.dumps([obj, False], sort_keys=True), (obj, False))
    return list(found.values())


REAL = _real_objects()


def _fast(manifest: dict[str, Any], version: str, partial: bool) -> bool:
    """What the fast path says, where schema_problems would ask it (a schema exists)."""
    crd = next((key for key in CUSTOM_RESOURCE_DEFINITIONS if key[1] == manifest.get("kind")), None)
    try:
        return plain_json(manifest) and schemas._valid_fast(manifest, version, crd, partial, {})
    except (KeyError, schemas._NoSchema):
        return False


def _slow(manifest: dict[str, Any], version: str, partial: bool) -> bool:
    """The jsonschema validator alone (the fast path not asked)."""
    return schemas._schema_problems(manifest, version, partial, False, {}) == []


def _agree(manifest: dict[str, Any], partial: bool) -> None:
    """The fast path's answer is the slow one's wherever it is asked (plain JSON); schema_problems finds
    problems exactly when the slow path does, or fails the same way."""
    for version in VERSIONS:
        try:
            slow = _slow(manifest, version, partial)
        except (TypeError, AttributeError) as error:  # a kind or apiVersion that is no string
            with pytest.raises(type(error)):
                schema_problems(manifest, version, partial=partial)
            continue
        fast = _fast(manifest, version, partial)
        if plain_json(manifest):
            assert fast == slow, (version, partial, json.dumps(manifest, default=repr))
        else:
            assert not fast
        assert (schema_problems(manifest, version, partial=partial) == []) == slow


def test_there_are_real_objects_of_every_kind_the_schemas_cover():
    kinds = {m["kind"] for m, _ in REAL}
    assert {"Deployment", "Service", "HTTPRoute", "DaemonSet", "Job", "RuntimeClass"} <= kinds
    assert any(patch for _, patch in REAL)


@pytest.mark.parametrize("version", schemas.KUBERNETES_VERSIONS)
def test_every_real_object_is_valid_on_both(version):
    for manifest, patch in REAL:
        assert _slow(manifest, version, patch), manifest["kind"]
        assert _fast(manifest, version, patch), manifest["kind"]
        # A patch is also asked whole: it lacks required fields, which only the slow path names.
        if patch:
            assert _fast(manifest, version, False) == _slow(manifest, version, False)


def _first(kind: str, patch: bool = False) -> dict[str, Any]:
    return copy.deepcopy(next(m for m, p in REAL if m["kind"] == kind and p == patch))


def _set(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    here: Any = obj
    for key in parents:
        here = here[int(key)] if isinstance(here, list) else here[key]
    if value is _DELETE:
        del here[last]
    elif isinstance(here, list):
        here[int(last)] = value
    else:
        here[last] = value
    return obj


_DELETE = object()
_CONTAINER = "spec.template.spec.containers.0"

# One break per keyword the schemas use (and some that must stay valid), on real objects.
KEYWORD_TABLE = [
    ("type", "Deployment", "spec.replicas", "3"),
    ("type: integer as a whole float", "Deployment", "spec.replicas", 3.0),
    ("type: integer, not a fraction", "Deployment", "spec.replicas", 2.5),
    ("type: a boolean is no integer", "Deployment", "spec.replicas", True),
    ("type: null", "Deployment", "spec.replicas", None),
    ("type: object", "Deployment", "spec.template", []),
    ("type: array", "Deployment", "spec.template.spec.containers", {}),
    ("type: string", "Deployment", f"{_CONTAINER}.image", 7),
    ("additionalProperties", "Deployment", "spec.replica", 1),
    ("additionalProperties, nested", "Deployment", f"{_CONTAINER}.imagePullPolice", "Always"),
    ("additionalProperties: a map of strings", "Deployment", "metadata.labels", {"x": 1}),
    ("required", "Deployment", "spec.selector", _DELETE),
    ("required, nested", "Deployment", f"{_CONTAINER}.name", _DELETE),
    ("enum", "Service", "spec.type", "Balancer"),
    ("enum, nested", "Deployment", f"{_CONTAINER}.imagePullPolicy", "Sometimes"),
    ("oneOf: IntOrString as a float", "Service", "spec.ports.0.targetPort", 80.5),
    ("oneOf: IntOrString as a string", "Service", "spec.ports.0.targetPort", "http"),
    ("oneOf: IntOrString as an object", "Service", "spec.ports.0.targetPort", {}),
    ("$ref: ObjectMeta", "Service", "metadata.generateNam", "x"),
    ("items", "Deployment", "spec.template.spec.containers.0", "x"),
    ("format is not asserted", "Job", "metadata.creationTimestamp", "not a date"),
    ("const", "HTTPRoute", "apiVersion", "gateway.networking.k8s.io/v1beta1"),
    ("pattern", "HTTPRoute", "metadata.name", "Orders"),
    ("pattern: Go's $ is the end of text", "HTTPRoute", "metadata.name", "orders\n"),
    ("maxLength", "HTTPRoute", "metadata.namespace", "a" * 64),
    ("minimum", "HTTPRoute", "spec.rules.0.backendRefs.0.weight", -1),
    ("maximum", "HTTPRoute", "spec.rules.0.backendRefs.0.weight", 1_000_001),
    ("minLength", "HTTPRoute", "spec.hostnames", [""]),
    ("maxItems", "HTTPRoute", "spec.parentRefs", [{"name": "gw"}] * 33),
    ("allOf: custom resource metadata required", "HTTPRoute", "metadata.namespace", _DELETE),
    ("a tuple is no array", "Deployment", "spec.template.spec.containers", ()),
    ("a big integer", "Deployment", "spec.replicas", 2**70),
    ("a huge integer", "Deployment", "spec.replicas", 10**400),
    ("a non-string key", "Deployment", "metadata.labels", {1: "x"}),
    ("not JSON at all", "Deployment", "metadata.labels", {"x": b"y"}),
    ("infinity", "Deployment", "spec.replicas", float("inf")),
]


@pytest.mark.parametrize(
    ("why", "kind", "path", "value"), KEYWORD_TABLE, ids=[row[0] for row in KEYWORD_TABLE]
)
def test_keyword_table(why, kind, path, value):
    manifest = _set(_first(kind), path, copy.deepcopy(value))
    _agree(manifest, False)


@pytest.mark.parametrize(
    ("path", "value"),
    [("spec.replicas", 2), ("spec.replica", 2), ("spec.replicas", "2"), ("spec.template", _DELETE)],
)
def test_patches_drop_only_missing_required_fields(path, value):
    patch = copy.deepcopy(next(m for m, p in REAL if p and m["kind"] == "Deployment"))
    patch.setdefault("spec", {})
    if value is _DELETE and "template" not in patch["spec"]:
        patch["spec"]["template"] = {}
    _agree(_set(patch, path, value), True)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutations(value: Any, rng: random.Random) -> list[Any]:
    """Wrong types, unknown keys, missing keys, bad enums and names, tuples and nulls."""
    out: list[Any] = [None, 1, 1.5, True, "x", "NotAValue", [], {}, ["x"], {"x": 1}]
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        out += [
            {**value, "unknownField": 1},
            {k: v for k, v in value.items() if k != key},
            {**value, key: None},
        ]
    if isinstance(value, list):
        out += [tuple(value), [*value, *value], value[1:]]
    if isinstance(value, str):
        out += [value.upper(), value + "\n", value * 30, ""]
    if isinstance(value, int) and not isinstance(value, bool):
        out += [-value - 1, str(value), float(value), 2**63]
    return out


@pytest.mark.parametrize("seed", range(4))
def test_generated_mutations_of_real_objects_agree(seed):
    rng = random.Random(seed)
    tried = 0
    for manifest, patch in REAL:
        # Not the kind or apiVersion: they choose the schema (an unknown one is "no schema").
        paths = [path for path in _paths(manifest)[1:] if path not in (("kind",), ("apiVersion",))]
        for path in rng.sample(paths, min(len(paths), 6)):
            here: Any = manifest
            for key in path:
                here = here[key]
            for value in rng.sample(_mutations(here, rng), 3):
                broken = copy.deepcopy(manifest)
                parent: Any = broken
                for key in path[:-1]:
                    parent = parent[key]
                parent[path[-1]] = value
                _agree(broken, patch)
                tried += 1
    assert tried > 500


def _what_it_checks(version: str, kind: str, api_version: str) -> str:
    """A kind's schema and every definition its `$ref`s reach, as text: found by matching reference
    strings in the JSON text, not by walking the schema as the module does."""
    schema = schemas._schema(version, kind, api_version)
    definitions = schemas._definitions(version)["$defs"]
    reached: dict[str, Any] = {}
    texts = [json.dumps(schema)]
    while texts:
        for name in re.findall(r'"\$ref": "[^"]*#/\$defs/([^"]+)"', texts.pop()):
            if name not in reached:
                reached[name] = definitions[name]
                texts.append(json.dumps(definitions[name]))
    return json.dumps([schema, reached], sort_keys=True)


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [("RuntimeClass", "node.k8s.io/v1"), ("Deployment", "apps/v1"), ("Service", "v1"), ("Job", "batch/v1")],
)
def test_versions_share_a_compiled_validator_exactly_where_what_it_checks_is_equal(kind, api_version):
    shared = 0
    for first, second in itertools.combinations(schemas.KUBERNETES_VERSIONS, 2):
        same = _what_it_checks(first, kind, api_version) == _what_it_checks(second, kind, api_version)
        one = schemas._fast_validator(first, kind, api_version, False, False)
        other = schemas._fast_validator(second, kind, api_version, False, False)
        assert one is not None and other is not None
        assert (one is other) == same, (kind, first, second)
        shared += same
    if kind == "RuntimeClass":  # unchanged since 1.31: one validator serves every version
        assert shared == len(list(itertools.combinations(schemas.KUBERNETES_VERSIONS, 2)))


def test_a_reference_the_reached_definitions_cannot_resolve_leaves_the_answer_to_the_slow_path(monkeypatch):
    """Were the reached definitions ever to miss one, the compiled validator could not be built: the
    jsonschema path then answers, as for a kind with no compiled twin."""
    monkeypatch.setattr(schemas, "_closure", lambda version, schema: [])
    monkeypatch.setattr(schemas, "_COMPILED", {})
    schemas._fast_validator.cache_clear()
    try:
        assert schemas._fast_validator("1.31", "Deployment", "apps/v1", False, False) is None
        deployment = next(m for m, patch in REAL if m["kind"] == "Deployment" and not patch)
        assert schema_problems(deployment, "1.31") == []
    finally:
        schemas._fast_validator.cache_clear()
