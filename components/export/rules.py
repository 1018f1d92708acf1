"""An exported legacy workload checked with Kubernetes' own grammars before anything uses its values:
`export_problems` returns one line per problem. See docs/design/export-rules.md."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from components.core import identifiers
from components.core.inputs import ECHO_CHARS, echo, escape
from components.core.kubernetes import export_selectors, matches
from components.export.schemas import object_label

# apimachinery api/validation TotalAnnotationSizeLimitB
MAX_ANNOTATION_BYTES = 256 * 1024
# apimachinery util/validation IsDNS1035Label
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
# apimachinery util/validation IsValidPortName (IANA_SVC_NAME): 1-15 lowercase letters, digits and '-',
# at least one letter, no '--', not starting or ending with '-'.
_PORT_NAME = re.compile(r"[-a-z0-9]{1,15}")
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def dns1035_label(value: str) -> str:
    if not (len(value) <= 63 and _DNS1035_LABEL.fullmatch(value)):
        raise ValueError(
            "must be a DNS-1035 label: at most 63 lowercase letters, digits and '-', starting with a "
            "letter and ending with a letter or digit"
        )
    return value


def port_name(value: str) -> str:
    if not (
        _PORT_NAME.fullmatch(value)
        and any(c.isalpha() for c in value)
        and "--" not in value
        and not value.startswith("-")
        and not value.endswith("-")
    ):
        raise ValueError(
            "must be an IANA service name: 1-15 lowercase letters, digits and '-', with a letter, "
            "without '--' and not starting or ending with '-'"
        )
    return value


def _check(where: str, value: Any, rule: Any) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"{where}: must be a string (got {echo(value)})"
        return
    try:
        rule(value)
    except ValueError as error:
        yield f"{where}: {error} (got {echo(value)})"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _labels(where: str, labels: Any) -> Iterator[str]:
    for key, value in _mapping(labels).items():
        yield from _check(f"{where} key", key, identifiers.label_key)
        yield from _check(f"{where}[{escape(str(key), ECHO_CHARS)}]", value, identifiers.label_value)


def _annotation_key(value: str) -> str:
    return identifiers.label_key(value.lower())


def _annotations(where: str, annotations: Any) -> Iterator[str]:
    mapping = _mapping(annotations)
    for key in mapping:
        yield from _check(f"{where} key", key, _annotation_key)
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in mapping.items())
    if size > MAX_ANNOTATION_BYTES:
        yield f"{where}: {size:,} bytes in all, above Kubernetes' {MAX_ANNOTATION_BYTES:,}-byte limit"


def _metadata(label: str, path: str, metadata: Any) -> Iterator[str]:
    yield from _labels(f"{label}: {path}.labels", _mapping(metadata).get("labels"))
    yield from _annotations(f"{label}: {path}.annotations", _mapping(metadata).get("annotations"))


def _pod(label: str, path: str, pod: Mapping[str, Any]) -> Iterator[str]:
    containers = pod.get("containers")
    if not containers:
        yield (
            f"{label}: {path}.containers: a pod needs at least one container, as the API server says "
            f"(got {echo(containers)})"
        )
    names: set[str] = set()
    for field in _CONTAINER_LISTS:
        items = pod.get(field)
        for index, container in enumerate(items if isinstance(items, list) else []):
            if not isinstance(container, Mapping):
                continue
            at = f"{label}: {path}.{field}[{index}]"
            name = container.get("name")
            yield from _check(f"{at}.name", name, identifiers.dns1123_label)
            if isinstance(name, str) and name in names:
                yield f"{at}.name: must be unique among the pod's containers (got {echo(name)})"
            if isinstance(name, str):
                names.add(name)
            yield from _check(f"{at}.image", container.get("image"), identifiers.oci_image_reference)
            ports = container.get("ports")
            for number, port in enumerate(ports if isinstance(ports, list) else []):
                if isinstance(port, Mapping) and "name" in port:
                    yield from _check(f"{at}.ports[{number}].name", port["name"], port_name)


_NAME_RULES = {
    "Deployment": identifiers.dns1123_subdomain,
    "HorizontalPodAutoscaler": identifiers.dns1123_subdomain,
    "Service": dns1035_label,
}


def _deployment(label: str, spec: Mapping[str, Any]) -> Iterator[str]:
    """A Deployment's template metadata and pod, and a selector that selects the template's pods."""
    template = _mapping(spec.get("template"))
    template_labels = _mapping(_mapping(template.get("metadata")).get("labels"))
    yield from _metadata(label, "spec.template.metadata", template.get("metadata"))
    selector = spec.get("selector")
    if not _mapping(selector).get("matchLabels") and not _mapping(selector).get("matchExpressions"):
        yield (
            f"{label}: spec.selector: must not be empty: a Deployment selects its pods by it "
            f"(got {echo(selector)})"
        )
    elif not _selects(_mapping(selector), template_labels):
        yield (
            f"{label}: spec.selector: does not match the template's labels, which the API server "
            f"refuses (selector {echo(selector)}, labels {echo(dict(template_labels))})"
        )
    yield from _pod(label, "spec.template.spec", _mapping(template.get("spec")))


def _service(label: str, spec: Mapping[str, Any]) -> Iterator[str]:
    ports = spec.get("ports")
    for index, port in enumerate(ports if isinstance(ports, list) else []):
        if isinstance(port, Mapping) and "name" in port:
            yield from _check(f"{label}: spec.ports[{index}].name", port["name"], port_name)


def _object(obj: dict[str, Any]) -> Iterator[str]:
    label = escape(object_label(obj), ECHO_CHARS * 2)
    kind = obj.get("kind")
    metadata = _mapping(obj.get("metadata"))
    rule = _NAME_RULES.get(str(kind), identifiers.dns1123_subdomain)
    yield from _check(f"{label}: metadata.name", metadata.get("name"), rule)
    if "namespace" in metadata:
        yield from _check(f"{label}: metadata.namespace", metadata["namespace"], identifiers.dns1123_label)
    yield from _metadata(label, "metadata", metadata)
    spec = _mapping(obj.get("spec"))
    if kind == "Deployment":
        yield from _deployment(label, spec)
    if kind == "Service":
        yield from _service(label, spec)


def _selector(where: str, selector: Mapping[str, Any]) -> Iterator[str]:
    """A label selector's keys and values (its operators: operator_problems)."""
    yield from _labels(f"{where}: selector matchLabels", selector.get("matchLabels"))
    expressions = selector.get("matchExpressions")
    for index, expression in enumerate(expressions if isinstance(expressions, list) else []):
        if not isinstance(expression, Mapping):
            continue
        at = f"{where}: selector matchExpressions[{index}]"
        yield from _check(f"{at}.key", expression.get("key"), identifiers.label_key)
        values = expression.get("values")
        for number, value in enumerate(values if isinstance(values, list) else []):
            yield from _check(f"{at}.values[{number}]", value, identifiers.label_value)


def export_problems(objects: list[dict[str, Any]]) -> list[str]:
    """Every value of an exported workload's objects that Kubernetes would refuse (the rules:
    docs/design/export-rules.md); the objects already passed the strict schema, so each field has the
    schema's type."""
    problems = [line for obj in objects for line in _object(obj)]
    for found in export_selectors(objects):
        problems += _selector(escape(found.label, ECHO_CHARS * 2), found.selector)
    return problems


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    try:
        return matches(selector, {str(k): str(v) for k, v in labels.items()})
    except ValueError:  # an unknown operator: operator_problems names it
        return True
