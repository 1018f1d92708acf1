"""The naming rules of the systems the config is handed to (Azure Resource Manager, AKS, Kubernetes, OCI
registries, the Gateway API), each as a plain function: it returns the value when the target system
would accept it and raises ValueError with what is allowed when it would not. Pydantic turns the
ValueError into a config problem line; `migrate init` can call the same functions on exported names.

Kubernetes and Go anchor a pattern at the very end of the text; Python's `$` also matches before a
trailing newline, so every pattern here is applied with `fullmatch`."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from docker_image import digest as oci_digest
from docker_image import reference as oci_reference
from docker_image import regexp as oci_regexp

if TYPE_CHECKING:
    import jsonschema

CRD_DIR = Path(__file__).resolve().parent.parent / "assets" / "crds"
HTTPROUTE_CRD = CRD_DIR / "gateway.networking.k8s.io_httproutes.yaml"


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


# ---------------------------------------------------------------------------------------------------
# Azure. Source: "Naming rules and restrictions for Azure resources",
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules

# Microsoft.Resources/resourcegroups: 1-90 characters; underscores, hyphens, periods, parentheses, and
# letters or digits as defined by .NET's Char.IsLetterOrDigit (Unicode categories Lu, Ll, Lt, Lm, Lo,
# Nd); can't end with a period. Char is a UTF-16 code unit: a character outside the Basic Multilingual
# Plane is two surrogates (category Cs), so it is not a letter to Azure and counts as two.
_IS_LETTER_OR_DIGIT = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"})
_RESOURCE_GROUP_PUNCTUATION = frozenset("_()-.")


def azure_resource_group(value: str) -> str:
    _require(
        0 < len(value.encode("utf-16-le")) // 2 <= 90
        and all(
            ch in _RESOURCE_GROUP_PUNCTUATION
            or (ord(ch) <= 0xFFFF and unicodedata.category(ch) in _IS_LETTER_OR_DIGIT)
            for ch in value
        )
        and not value.endswith("."),
        "must be an Azure resource group name: 1-90 letters, digits, '_', '(', ')', '-' and '.', "
        "not ending in '.'",
    )
    return value


# Microsoft.ContainerService/managedClusters: 1-63 characters; alphanumerics, underscores and hyphens;
# start and end with an alphanumeric. The AKS REST API's pattern for resourceName, also what azure-cli's
# `az aks create` checks (https://learn.microsoft.com/rest/api/aks/managed-clusters/create-or-update):
# ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$
_AKS_CLUSTER_NAME = re.compile(r"[a-zA-Z0-9]|[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]")


def aks_cluster_name(value: str) -> str:
    _require(
        bool(_AKS_CLUSTER_NAME.fullmatch(value)),
        "must be an AKS cluster name: 1-63 ASCII letters, digits, '-' and '_', starting and ending "
        "with a letter or digit",
    )
    return value


# Microsoft.ContainerService/managedClusters/agentPools: 1-12 characters for Linux pools (1-6 for
# Windows); lowercase letters and numbers; can't start with a number.
_AKS_POOL_NAME = re.compile(r"[a-z][a-z0-9]{0,11}")


def aks_pool_name(value: str) -> str:
    _require(
        bool(_AKS_POOL_NAME.fullmatch(value)),
        "must be 1-12 lowercase letters and digits, starting with a letter",
    )
    return value


# Azure VM size names (Standard_D4s_v5), matched without regard to case as the compute API does.
# Grammar and sources: docs/design/grammars.md.
_VM_SIZE = re.compile(r"(Standard|Basic)_[A-Z]+[0-9]+(-[0-9]+)?[a-z]*(_[A-Za-z0-9]+)*", re.IGNORECASE)


def azure_vm_size(value: str) -> str:
    _require(
        bool(_VM_SIZE.fullmatch(value)),
        "must be an Azure VM size name such as Standard_D4s_v5 (`az vm list-sizes` lists them)",
    )
    return value


# Azure VM size names (learn.microsoft.com, "Azure virtual machine sizes naming conventions"): the
# additive features after the vCPU count hold `p` for an Arm-based (Ampere Altra / Cobalt) processor,
# e.g. Standard_D4ps_v5, Standard_E8pds_v5; every other size is x86-64.
_ARM_VM_SIZE = re.compile(r"^Standard_[A-Z]+\d+[a-z]*p[a-z]*_v\d+$")


def vm_architecture(vm_size: str) -> str:
    """The `kubernetes.io/arch` of a VM size's nodes: arm64 for an Arm-based size, else amd64."""
    return "arm64" if _ARM_VM_SIZE.match(vm_size) else "amd64"


# ---------------------------------------------------------------------------------------------------
# Kubernetes. Source: k8s.io/apimachinery/pkg/util/validation/validation.go (IsDNS1123Label,
# IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue).

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def dns1123_label(value: str) -> str:
    _require(
        len(value) <= 63 and bool(_DNS1123_LABEL.fullmatch(value)),
        "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending "
        "with a letter or digit",
    )
    return value


def dns1123_subdomain(value: str) -> str:
    _require(
        len(value) <= 253 and bool(_DNS1123_SUBDOMAIN.fullmatch(value)),
        "must be a DNS-1123 subdomain: at most 253 characters, dot-separated labels of lowercase "
        "letters, digits and '-'",
    )
    return value


def label_key(value: str) -> str:
    """A qualified name: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63."""
    prefix, slash, name = value.partition("/")
    if not slash:
        prefix, name = "", value
    _require(
        len(name) <= 63
        and bool(_QUALIFIED_NAME.fullmatch(name))
        and (not slash or (len(prefix) <= 253 and bool(_DNS1123_SUBDOMAIN.fullmatch(prefix)))),
        "must be a Kubernetes label key: [prefix/]name, the prefix a DNS-1123 subdomain, the name at "
        "most 63 of [A-Za-z0-9-_.] starting and ending with a letter or digit",
    )
    return value


def label_value(value: str) -> str:
    _require(
        len(value) <= 63 and (value == "" or bool(_QUALIFIED_NAME.fullmatch(value))),
        "must be a Kubernetes label value: empty or at most 63 of [A-Za-z0-9-_.], starting and ending "
        "with a letter or digit",
    )
    return value


# Kubernetes quantities (k8s.io/apimachinery pkg/api/resource quantity.go, plus the parser's n and u
# suffixes and 64-bit exponents). Grammar: docs/design/grammars.md.
_QUANTITY = re.compile(
    r"(?P<number>(?P<sign>[+-]?)([0-9]+(\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE](?P<exponent>[+-]?[0-9]+))?"
)
_SUFFIX_SCALE = {
    **{
        suffix: Decimal(1024) ** power for power, suffix in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), 1)
    },
    **{
        suffix: Decimal(10) ** power
        for suffix, power in zip("numkMGTPE", (-9, -6, -3, 3, 6, 9, 12, 15, 18), strict=True)
    },
}
# "No quantity may represent a number greater than 2^63-1 in magnitude" (quantity.go): larger ones are
# capped, so an exponent beyond +-40 cannot change a comparison.
_QUANTITY_MAX = Decimal(2**63 - 1)


def _quantity_match(value: str) -> re.Match[str] | None:
    match = _QUANTITY.fullmatch(value)
    if match and match["exponent"]:
        digits = match["exponent"].lstrip("+-").lstrip("0")
        if len(digits) > 19 or not -(2**63) <= int(match["exponent"]) < 2**63:
            return None
    return match


def quantity(value: str) -> str:
    _require(
        bool(_quantity_match(value)),
        "must be a Kubernetes quantity such as 100m, 0.5, 128Mi, 1Gi or 1e3",
    )
    return value


def quantity_value(value: str) -> Decimal:
    """The number a quantity stands for (capped like Kubernetes caps it), e.g. to compare two."""
    match = _quantity_match(quantity(value))
    assert match is not None  # quantity() refused anything else
    number = Decimal(match["number"])
    if match["exponent"]:
        number = number.scaleb(max(-40, min(40, int(match["exponent"]))))
    else:
        number *= _SUFFIX_SCALE.get(match["suffix"] or "", 1)
    return max(-_QUANTITY_MAX, min(_QUANTITY_MAX, number))


def resource_quantity(value: str) -> str:
    """A container's CPU or memory request or limit: a quantity that is not negative
    (k8s.io/kubernetes/pkg/apis/core/validation: ValidateNonnegativeQuantity)."""
    _require(
        bool(_quantity_match(value)) and quantity_value(value) >= 0,
        "must be a non-negative Kubernetes quantity such as 100m, 0.5, 128Mi or 1Gi",
    )
    return value


# ---------------------------------------------------------------------------------------------------
# OCI image references, by the distribution spec's grammar through docker-image-py (its unanchored
# patterns applied with fullmatch). Sources: docs/design/grammars.md.
_OCI = oci_regexp.ImageRegexps


def oci_registry(value: str) -> str:
    _require(
        bool(_OCI.DOMAIN_REGEXP.fullmatch(value)),
        "must be a registry host[:port] such as ghcr.io or myregistry.azurecr.io:443",
    )
    return value


def oci_repository(value: str) -> str:
    _require(
        len(value) <= oci_reference.NAME_TOTAL_LENGTH_MAX and bool(_OCI.REMOTE_NAME_REGEXP.fullmatch(value)),
        "must be an OCI repository: '/'-separated components of lowercase letters and digits, joined "
        "inside a component by '.', '_', '__' or '-' (at most 255 characters)",
    )
    return value


def oci_tag(value: str) -> str:
    _require(
        bool(_OCI.TAG_REGEXP.fullmatch(value)),
        "must be an OCI tag: 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
    )
    return value


def oci_digest_value(value: str) -> str:
    message = "must be an OCI digest: sha256: followed by 64 lowercase hex digits (or sha384:, sha512:)"
    _require(bool(oci_digest.DigestRegexps.DIGEST_REGEXP.fullmatch(value)), message)
    try:
        oci_digest.validate_digest(value)
    except oci_digest.InvalidDigest:
        raise ValueError(message) from None
    return value


def oci_image_reference(value: str) -> str:
    """A full reference as a pod's `image:` takes it: [registry[:port]/]repository[:tag][@digest]."""
    message = (
        "must be an OCI image reference [registry[:port]/]repository[:tag][@digest], such as "
        "myregistry.azurecr.io/shop/app:1.0.0"
    )
    _require(bool(_OCI.REFERENCE_REGEXP.fullmatch(value)), message)
    try:
        oci_reference.Reference.parse(value)
    except (oci_reference.InvalidReference, oci_digest.InvalidDigest) as error:
        raise ValueError(f"{message} ({error})") from None
    return value


# ---------------------------------------------------------------------------------------------------
# Gateway API. Source: the HTTPRoute CRD of kubernetes-sigs/gateway-api (components/assets/crds/), read
# here so the hostname rule is the CRD's own schema rather than a copy of its pattern.


def go_anchored(pattern: str) -> str:
    """A Go (RE2) pattern for Python's `re`: `$` outside a character class becomes `\\Z`, because Go's
    `$` matches only at the end of the text and Python's also before a trailing newline."""
    out, in_class, escaped = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "$":
            out.append(r"\Z")
            continue
        out.append(ch)
    return "".join(out)


@cache
def httproute_schema() -> dict[str, Any]:
    """The openAPIV3Schema of the CRD's `v1` HTTPRoute version."""
    # libyaml when PyYAML has it: the CRD is 340 kB, 20x faster to read than in pure Python.
    crd = yaml.load(HTTPROUTE_CRD.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return version["schema"]["openAPIV3Schema"]


def go_pattern_validator(schema: dict[str, Any], registry: Any = None) -> jsonschema.protocols.Validator:
    """A Draft 2020-12 validator whose `pattern` keyword follows Go's end-of-text `$`. jsonschema is
    imported here, when a validator is first needed (it costs ~40 ms of CPU to import)."""
    import jsonschema

    def pattern(validator: Any, regex: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not re.search(go_anchored(regex), instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {regex!r}")

    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": pattern})
    return cls(schema) if registry is None else cls(schema, registry=registry)


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# The Gateway API's Hostname (the HTTPRoute CRD's spec.hostnames items: type string, minLength 1,
# maxLength 253 and this pattern). Restated rather than read from the 340 kB CRD, which costs ~30 ms to
# parse whenever a config names a hostname; tests/components/core/test_identifiers.py holds it equal to
# the CRD's schema.
HOSTNAME_LENGTH = (1, 253)
HOSTNAME_PATTERN = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_HOSTNAME = re.compile(go_anchored(HOSTNAME_PATTERN))


def gateway_hostname(value: str) -> str:
    """The CRD's Hostname schema, plus its documented "IPs are not allowed" (the pattern alone lets an
    IPv4 address through)."""
    _require(
        HOSTNAME_LENGTH[0] <= len(value) <= HOSTNAME_LENGTH[1]
        and _HOSTNAME.search(value) is not None
        and not _is_ip_address(value),
        "must be a Gateway API hostname: at most 253 characters, dot-separated lowercase DNS labels, "
        "optionally after a leading '*.' wildcard; no IP addresses, ports or other wildcards",
    )
    return value


# HTTPPathMatch of type PathPrefix: maxLength 1024 (schema) and the CEL rules of the same CRD
# (x-kubernetes-validations on spec.rules[].matches[].path), which jsonschema cannot evaluate.
_PATH_CHARACTERS = re.compile(r"(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+")


def gateway_path_prefix(value: str) -> str:
    _require(
        len(value) <= 1024
        and value.startswith("/")
        and bool(_PATH_CHARACTERS.fullmatch(value))
        and not any(part in value for part in ("//", "/./", "/../", "%2f", "%2F", "#"))
        and not value.endswith(("/..", "/.")),
        "must be a Gateway API path prefix: an absolute path of at most 1024 URL characters, without "
        "'//', '/./', '/../', '%2f' or '#', not ending in '/.' or '/..'",
    )
    return value
