"""Strict schema validation of every Kubernetes object a phase declares, for each supported
Kubernetes version: built-in kinds against kubernetes-validate's strict schemas, HTTPRoute and
PrometheusRule (CRDs those schemas lack) against strict models of the Gateway API v1 and
prometheus-operator v1 fields."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, Literal

import jsonschema
import kubernetes_validate.utils as kv
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from referencing import Registry, Resource

from components.config import key_path

KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34")


def supported_version(version: str) -> str:
    """The supported schema version closest to a cluster's `1.N`."""
    minor = int(version.split(".")[1])
    known = [int(v.split(".")[1]) for v in KUBERNETES_VERSIONS]
    return f"1.{min(max(minor, known[0]), known[-1])}"


@cache
def _validator(version: str, kind: str, api_version: str) -> jsonschema.protocols.Validator:
    """The same schema and registry kubernetes-validate builds, built once instead of per object."""
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    directory = f"kubernetes-json-schema/v{version}.0-local-strict"
    try:
        schema = kv.schema_contents(f"{directory}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        raise kv.SchemaNotFoundError(version=version, kind=kind, api_version=api_version) from None
    definitions = kv.schema_contents(f"{directory}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


_Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=253)]
_Hostname = Annotated[
    str,
    StringConstraints(pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _ParentRef(_Strict):
    group: str = "gateway.networking.k8s.io"
    kind: str = "Gateway"
    namespace: _Name | None = None
    name: _Name
    sectionName: _Name | None = None
    port: int | None = Field(default=None, ge=1, le=65535)


class _PathMatch(_Strict):
    type: Literal["Exact", "PathPrefix", "RegularExpression"] = "PathPrefix"
    value: Annotated[str, StringConstraints(pattern=r"^/", max_length=1024)] = "/"


class _Match(_Strict):
    path: _PathMatch | None = None


class _BackendRef(_Strict):
    group: str = ""
    kind: str = "Service"
    name: _Name
    namespace: _Name | None = None
    port: int = Field(ge=1, le=65535)
    weight: int = Field(default=1, ge=0, le=1_000_000)


class _Rule(_Strict):
    matches: list[_Match] = Field(default_factory=list, max_length=64)
    backendRefs: list[_BackendRef] = Field(default_factory=list, max_length=16)


class _HTTPRouteSpec(_Strict):
    parentRefs: list[_ParentRef] = Field(min_length=1, max_length=32)
    hostnames: list[_Hostname] = Field(default_factory=list, max_length=16)
    rules: list[_Rule] = Field(min_length=1, max_length=16)


class _Metadata(_Strict):
    name: _Name
    namespace: _Name
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class _HTTPRoute(_Strict):
    apiVersion: Literal["gateway.networking.k8s.io/v1"]
    kind: Literal["HTTPRoute"]
    metadata: _Metadata
    spec: _HTTPRouteSpec


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
_CUSTOM_KINDS: dict[str, type[BaseModel]] = {"HTTPRoute": _HTTPRoute, "PrometheusRule": _PrometheusRule}


def object_label(manifest: dict[str, Any]) -> str:
    """`Kind namespace/name` of a Kubernetes object; tolerant of malformed input ("?" where missing)."""
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "?")
    kind = manifest.get("kind", "?")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def schema_problems(manifest: dict[str, Any], version: str) -> list[str]:
    """One line per schema violation of `manifest` on Kubernetes `version` (e.g. "1.33")."""
    where = f"{object_label(manifest)} (Kubernetes {version})"
    custom = _CUSTOM_KINDS.get(manifest.get("kind", ""))
    if custom is not None:
        try:
            custom.model_validate(manifest)
        except ValidationError as error:
            return [f"{where}: {key_path(e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)]
        return []
    try:
        validator = _validator(version, manifest["kind"], manifest["apiVersion"])
    except (KeyError, kv.SchemaNotFoundError):
        return [
            f"{where}: no schema for apiVersion {manifest.get('apiVersion')!r} kind {manifest.get('kind')!r}"
        ]
    return [
        f"{where}: {key_path(tuple(error.absolute_path)) or '(object)'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    ]
