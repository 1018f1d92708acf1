"""Strict schema validation of every Kubernetes object a phase declares, for each supported
Kubernetes version: built-in kinds against kubernetes-validate's strict schemas, HTTPRoute (a CRD those
schemas lack) against the Gateway API CRD's own v1 schema (components/assets/crds/), made strict the same way,
and PrometheusRule against a strict model of the prometheus-operator v1 fields."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from components.core.config import key_path
from components.core.identifiers import CRD_DIR, go_pattern_validator
from components.core.kubernetes import KUBERNETES_VERSIONS

if TYPE_CHECKING:
    import jsonschema
    import jsonschema_rs

# jsonschema (with referencing and attrs) is imported only once an object is invalid, to word its
# problems (the fast path below says "valid" alone), and jsonschema-rs where an object is first
# validated: jsonschema costs ~50 ms of CPU to import, which a command whose objects are all valid
# should not pay. For the same reason kubernetes-validate's schemas are read from its package directory
# rather than through its `schema_contents`, whose module imports jsonschema.


def supported_version(version: str) -> str:
    """The supported schema version closest to a cluster's `1.N`."""
    minor = int(version.split(".")[1])
    known = [int(v.split(".")[1]) for v in KUBERNETES_VERSIONS]
    return f"1.{min(max(minor, known[0]), known[-1])}"


class _NoSchema(LookupError):
    """No schema for the object's apiVersion and kind."""


@cache
def _schema_directory(version: str) -> Path:
    """kubernetes-validate's strict schemas of a version, in its package (found without importing it)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    assert spec is not None and spec.submodule_search_locations, "kubernetes-validate is not installed"
    directory = Path(
        spec.submodule_search_locations[0], "kubernetes-json-schema", f"v{version}.0-local-strict"
    )
    if not directory.is_dir():
        raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {version}")
    return directory


def _schema_contents(version: str, name: str) -> Any:
    """One schema file, as kubernetes_validate.utils.schema_contents reads it."""
    with open(_schema_directory(version) / name) as file:
        return json.load(file)


@cache
def _definitions(version: str) -> Any:
    """The shared definitions of a version's schemas (1.5 MB of JSON: read once, never changed)."""
    return _schema_contents(version, "_definitions.json")


@cache
def _schema(version: str, kind: str, api_version: str) -> Any:
    """The schema kubernetes-validate validates a built-in kind against, read once instead of per object."""
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        return _schema_contents(version, f"{kind.lower()}-{group}.json")
    except FileNotFoundError:
        raise _NoSchema(kind) from None


@cache
def _validator(version: str, kind: str, api_version: str) -> jsonschema.protocols.Validator:
    """The same schema and registry kubernetes-validate builds, built once instead of per object."""
    import jsonschema
    from referencing import Registry, Resource

    schema = _schema(version, kind, api_version)
    registry = Resource.from_contents(_definitions(version)) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


# The Gateway API HTTPRoute CRD as published (components/assets/crds/), its schema made strict; its CEL
# rules are not evaluated here. Why: docs/design/export-rules.md.
_HTTPROUTE_API_VERSION = "gateway.networking.k8s.io/v1"
_OBJECT_META = (
    "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)
# The API server validates a custom resource's metadata as ObjectMeta with a DNS-1123 subdomain name
# (k8s.io/apiextensions-apiserver/pkg/registry/customresource/validator.go: NameIsDNSSubdomain) and
# its apiVersion and kind against the CRD (ValidateTypeMeta).
_CUSTOM_RESOURCE_METADATA = {
    "allOf": [
        {"$ref": _OBJECT_META},
        {
            "required": ["name", "namespace"],
            "properties": {
                "name": {
                    "type": "string",
                    "maxLength": 253,
                    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
                },
                "namespace": {
                    "type": "string",
                    "maxLength": 63,
                    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                },
            },
        },
    ]
}


def strict(schema: Any) -> Any:
    """A copy of an OpenAPI v3 schema with `additionalProperties: false` on every object schema that
    has `properties` and says nothing about additional ones, unless it keeps unknown fields
    (`x-kubernetes-preserve-unknown-fields`, where the API server keeps them too)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: (strict(value) if key != "properties" else value) for key, value in schema.items()}
    if "properties" in schema:
        copy["properties"] = {name: strict(value) for name, value in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            copy.setdefault("additionalProperties", False)
    return copy


# Custom resources the project reads or registers, by (apiVersion, kind): the CRD in
# components/assets/crds/ as its project published it (each file's header names the repository, tag and
# licence) and the version of it that is served.
CUSTOM_RESOURCE_DEFINITIONS = {
    (_HTTPROUTE_API_VERSION, "HTTPRoute"): ("gateway.networking.k8s.io_httproutes.yaml", "v1"),
    ("keda.sh/v1alpha1", "ScaledObject"): ("keda.sh_scaledobjects.yaml", "v1alpha1"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ("monitoring.coreos.com_servicemonitors.yaml", "v1"),
}


@cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    """The openAPIV3Schema of a custom resource's served version (libyaml when PyYAML has it: the
    HTTPRoute CRD is 340 kB, 20x faster to read than in pure Python)."""
    file, served = CUSTOM_RESOURCE_DEFINITIONS[(api_version, kind)]
    text = (CRD_DIR / file).read_text()
    crd = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return next(v for v in crd["spec"]["versions"] if v["name"] == served)["schema"]["openAPIV3Schema"]


@cache
def _custom_resource_schema(api_version: str, kind: str) -> dict[str, Any]:
    schema = strict(crd_schema(api_version, kind))
    schema["properties"]["apiVersion"] = {"const": api_version}
    schema["properties"]["kind"] = {"const": kind}
    schema["properties"]["metadata"] = _CUSTOM_RESOURCE_METADATA
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind", "metadata"})
    return schema


@cache
def _custom_resource_validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    from referencing import Registry, Resource

    registry = Resource.from_contents(_definitions(version)) @ Registry()
    return go_pattern_validator(_custom_resource_schema(api_version, kind), registry=registry)


class _Strict(BaseModel):
    # Built when a PrometheusRule is first validated, not at import: most commands validate none.
    model_config = ConfigDict(extra="forbid", defer_build=True)


_Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)]


class _Metadata(_Strict):
    name: _Name
    namespace: _Name
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class _AlertingRule(_Strict):
    alert: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
    expr: Annotated[str, StringConstraints(min_length=1)]
    # `for` is a Python keyword: the field takes its wire name through the alias.
    for_: Annotated[str, StringConstraints(pattern=r"^([0-9]+(ms|s|m|h|d|w|y))+$")] | None = Field(
        default=None, alias="for"
    )
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class _RuleGroup(_Strict):
    name: Annotated[str, StringConstraints(min_length=1)]
    interval: str | None = None
    rules: list[_AlertingRule] = Field(min_length=1)


class _PrometheusRuleSpec(_Strict):
    groups: list[_RuleGroup] = Field(min_length=1)


class _PrometheusRule(_Strict):
    """prometheus-operator's monitoring.coreos.com/v1 PrometheusRule (alerting rules only)."""

    apiVersion: Literal["monitoring.coreos.com/v1"]
    kind: Literal["PrometheusRule"]
    metadata: _Metadata
    spec: _PrometheusRuleSpec


# Custom resources the cluster schemas lack, checked against strict models of their fields.
_CUSTOM_KINDS: dict[str, type[BaseModel]] = {"PrometheusRule": _PrometheusRule}


def object_label(manifest: dict[str, Any]) -> str:
    """`Kind namespace/name` of a Kubernetes object; tolerant of malformed input ("?" where missing)."""
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "?")
    kind = manifest.get("kind", "?")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


# The fast path: the same schemas compiled by jsonschema-rs, which only says valid or not. Its "valid"
# is trusted only where it cannot be laxer than the jsonschema validator above (tests/components/export/
# test_schema_fast_path.py holds the two to the same answer): on plain JSON values, since it takes a
# tuple for an array, where jsonschema does not. On anything else, and on every object it finds invalid,
# the jsonschema validator runs and words the problems as before.
_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
# Where `required` is a keyword; below these jsonschema reports a failing branch as the combinator's
# own error, so a `required` there cannot be dropped for a patch the way its other errors are.
_BRANCHING = ("oneOf", "anyOf", "not", "if", "then", "else", "contains", "dependentSchemas")
_NAMES = ("properties", "$defs", "definitions", "patternProperties")


def _without_required(schema: Any, branched: bool = False) -> Any:
    """A copy of `schema` without its `required` keywords, for patches (partial: missing required fields
    are fine); LookupError where one sits under a branching keyword, or a `$ref` does (it may lead to
    one), as leaving it out there would not just drop its own error."""
    if isinstance(schema, list):
        return [_without_required(item, branched) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if branched and ("required" in schema or "$ref" in schema):
        raise LookupError("required under a branching keyword")
    copy: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "required":
            continue
        if key in _NAMES and isinstance(value, dict):
            copy[key] = {name: _without_required(item, branched) for name, item in value.items()}
        elif key in ("enum", "const", "default", "examples"):
            copy[key] = value
        else:
            copy[key] = _without_required(value, branched or key in _BRANCHING)
    return copy


_DEFS_POINTER = "#/$defs/"


@cache
def _referenced(version: str, name: str) -> frozenset[str]:
    """The definitions one definition of `version` names in its `$ref`s."""
    return _refs(_definitions(version)["$defs"][name])


def _refs(schema: Any) -> frozenset[str]:
    """The definitions named by the `$ref`s anywhere in `schema` (a property called `$ref` included:
    one definition too many costs nothing; a reference this misses fails the compilation, and the slow
    path answers)."""
    found: set[str] = set()
    todo = [schema]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and _DEFS_POINTER in ref:
                found.add(ref.split(_DEFS_POINTER, 1)[1])
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return frozenset(found)


def _closure(version: str, schema: Any) -> list[str]:
    """Every definition `schema` reaches through `$ref`s, sorted; KeyError for one the version lacks."""
    reached: set[str] = set()
    todo = list(_refs(schema))
    while todo:
        name = todo.pop()
        if name not in reached:
            todo.extend(_referenced(version, name) - reached)  # KeyError first, for a missing one
            reached.add(name)
    return sorted(reached)


@cache
def _partial_definition(version: str, name: str) -> Any:
    """One definition without its `required` keywords (LookupError as _without_required)."""
    return _without_required(_definitions(version)["$defs"][name])


# Compiled validators by what they check (kind, apiVersion, CRD or not, partial) and then by content:
# where two versions' schemas and reachable definitions are equal, they share one validator, and an
# object is validated once for both.
_COMPILED: dict[tuple[str, str, bool, bool], list[tuple[Any, dict[str, Any], jsonschema_rs.Validator]]] = {}


@cache
def _fast_validator(
    version: str, kind: str, api_version: str, crd: bool, partial: bool
) -> jsonschema_rs.Validator | None:
    """The compiled twin of the validator schema_problems asks (the same schema, with the definitions
    it reaches), None where there is none to trust."""
    import jsonschema_rs

    full = _custom_resource_schema(api_version, kind) if crd else _schema(version, kind, api_version)
    try:
        schema = _without_required(full) if partial else full
        names = _closure(version, schema)
        definitions = _definitions(version)["$defs"]
        reached = {n: _partial_definition(version, n) if partial else definitions[n] for n in names}
    except LookupError:
        return None
    compiled = _COMPILED.setdefault((kind, api_version, crd, partial), [])
    for seen_schema, seen_definitions, validator in compiled:
        if seen_schema == schema and seen_definitions == reached:
            return validator
    document = {**_definitions(version), "$defs": reached}
    try:
        registry = jsonschema_rs.Registry([(_DEFINITIONS_URI, document)])
        validator = jsonschema_rs.Draft202012Validator(schema, registry=registry, validate_formats=False)
    except ValueError:  # a reference the reached definitions cannot resolve: the slow path answers
        return None
    compiled.append((schema, reached, validator))
    return validator


_SCALARS = frozenset((str, int, float, bool, type(None)))


def plain_json(value: Any) -> bool:
    """Only dicts with string keys, lists, strings, numbers, booleans and None (exact types: a subclass
    may convert differently); what the fast path may be asked about."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not plain_json(item)):
                return False
        return True
    if kind is list:
        return all(type(item) in _SCALARS or plain_json(item) for item in value)
    return kind in _SCALARS


def _valid_fast(
    manifest: dict[str, Any], version: str, crd: tuple[str, str] | None, partial: bool, answers: _Answers
) -> bool:
    """True only when the compiled validator says `manifest` (plain JSON) is valid; `answers` keeps
    each validator's answer about this manifest (versions may share one)."""
    kind, api_version = (crd[1], crd[0]) if crd else (manifest["kind"], manifest["apiVersion"])
    if not (type(kind) is str and type(api_version) is str):
        return False
    validator = _fast_validator(version, kind, api_version, crd is not None, partial)
    if validator is None:
        return False
    answer = answers.get(id(validator))
    if answer is None:
        try:
            answer = validator.is_valid(manifest)
        except (ValueError, OverflowError, RecursionError):
            answer = False
        answers[id(validator)] = answer
    return answer


# A compiled validator's answer about one object, by the validator's id (validators live as long as
# the process: an id is never reused while an answer is kept).
_Answers = dict[int, bool]


def schema_problems_on(
    manifest: dict[str, Any], versions: Sequence[str], *, partial: bool = False
) -> list[list[str]]:
    """schema_problems on each of `versions`, the object's values looked at once."""
    plain, answers = plain_json(manifest), _Answers()
    return [_schema_problems(manifest, version, partial, plain, answers) for version in versions]


def schema_problems(manifest: dict[str, Any], version: str, *, partial: bool = False) -> list[str]:
    """One line per schema violation of `manifest` on Kubernetes `version` (e.g. "1.33"). `partial`
    is for server-side apply patches, which send only the fields they own: missing required fields are
    fine there, unknown or mistyped ones are not."""
    return _schema_problems(manifest, version, partial, plain_json(manifest), {})


def _schema_problems(
    manifest: dict[str, Any], version: str, partial: bool, plain: bool, answers: _Answers
) -> list[str]:
    where = f"{object_label(manifest)} (Kubernetes {version})"
    custom = _CUSTOM_KINDS.get(manifest.get("kind", ""))
    if custom is not None:
        try:
            custom.model_validate(manifest)
        except ValidationError as error:
            return [f"{where}: {key_path(e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)]
        return []
    # By kind: an object of a CRD's kind with another apiVersion is told which one is expected.
    crd = next((key for key in CUSTOM_RESOURCE_DEFINITIONS if key[1] == manifest.get("kind")), None)
    try:
        if crd is None:
            _schema(version, manifest["kind"], manifest["apiVersion"])
    except (KeyError, _NoSchema):
        return [
            f"{where}: no schema for apiVersion {manifest.get('apiVersion')!r} kind {manifest.get('kind')!r}"
        ]
    if plain and _valid_fast(manifest, version, crd, partial, answers):
        return []
    if crd is not None:
        validator = _custom_resource_validator(version, *crd)
    else:
        validator = _validator(version, manifest["kind"], manifest["apiVersion"])
    return [
        f"{where}: {key_path(tuple(error.absolute_path)) or '(object)'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
        if not (partial and error.validator == "required")
    ]
