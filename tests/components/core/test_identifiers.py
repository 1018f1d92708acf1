"""Each identifier rule accepts what its target system accepts and refuses the rest; the examples come
from the sources cited in components/core/identifiers.py."""

from __future__ import annotations

import pytest

from components.core import identifiers

DIGEST = "sha256:" + "0123456789abcdef" * 4

CASES = {
    identifiers.azure_resource_group: (
        ["rg-contoso-prod", "(rg)_1.x", "ünïcödé", "東京-rg", "a" * 90],
        ["", " ", "\0", "rg.", "rg/prod", "rg*", "a" * 91, "\U0001d400", "rg\n"],
    ),
    identifiers.aks_cluster_name: (
        ["aks-contoso-prod", "a", "Aks_1", "a" * 63],
        ["", "\0", "-aks", "aks_", "aks.prod", "ünï", "a" * 64, "aks\n"],
    ),
    identifiers.aks_pool_name: (["wasipool", "a", "spin1"], ["", "1spin", "SpinPool", "spinpoolnumber1"]),
    identifiers.azure_vm_size: (
        [
            "Standard_D4s_v5",
            "Standard_E4-2s_v3",
            "Standard_NC24ads_A100_v4",
            "Standard_M416-208s_v2",
            "Basic_A0",
            "Standard_D2_v2_Promo",
            "Standard_B2ms",
            "standard_d4s_v5",
        ],
        ["", "D4s_v5", "Standard_", "Standard_4s", "Standard_D", "Standard_D4s v5", "*", "Standard_D4s_v5\n"],
    ),
    identifiers.dns1123_label: (["web", "a-1", "a" * 63], ["", "Web", "-a", "a-", "a.b", "a" * 64, "a\n"]),
    identifiers.dns1123_subdomain: (["a.b-c.d", "a" * 253], ["", "a..b", ".a", "A.b", "a" * 254]),
    identifiers.label_key: (
        ["contoso.com/wasm", "app", "a.b_c-d", "x/" + "a" * 63],
        ["", "/a", "a/", "a/b/c", "-a", "Contoso.com/x", "a" * 64, "a\n"],
    ),
    identifiers.label_value: (["", "true", "v1.2_3-x", "a" * 63], ["-a", "a-", "a b", "a" * 64, "ü"]),
    identifiers.quantity: (
        ["100m", "0.5", "128Mi", "1Gi", "5.", ".5", "+1", "-1", "1e3", "1E-3", "5n", "2u", "1Ei"],
        ["", ".", "1K", "1 Gi", "1ee3", "1e3.5", "1Mi\n", "0x10", "∞", "1gi", "1e9223372036854775808"],
    ),
    identifiers.resource_quantity: (["0", "100m", "+1", "-0"], ["-1", "-100m", "-1e-3"]),
    identifiers.oci_registry: (
        ["ghcr.io", "contosoacr.azurecr.io", "localhost:5000", "[::1]:5000", "Registry.io"],
        ["", "ghcr.io/", "a_b.io", "ghcr.io:port", "ünï.io", "ghcr.io\n"],
    ),
    identifiers.oci_repository: (
        ["spinframework/containerd-shim-spin/node-installer", "a__b", "a---b", "a.b_c"],
        ["", "A", "ünïcödé", "\0", "a//b", "/a", "a/", "a___b", "a" * 256, "a\n"],
    ),
    identifiers.oci_tag: (["v0.24.0", "_x", "A", "a" * 128], ["", ".x", "-x", "a" * 129, "v1+x", "v1\n"]),
    identifiers.oci_digest_value: (
        [DIGEST, "sha512:" + "ab" * 64],
        ["sha256:abc", DIGEST.upper(), "md5:" + "a" * 32, "sha256:", DIGEST + "\n"],
    ),
    identifiers.oci_image_reference: (
        ["nginx", "contosoacr.azurecr.io/shop/orders-api:2.0.0-spin3", f"ghcr.io/a/b@{DIGEST}", "a:1"],
        ["", "not an image!!", "nginx\n", "UPPER", "ghcr.io/a:", "ghcr.io/a@sha256:abc", "ünïcödé"],
    ),
    identifiers.gateway_hostname: (
        ["shop.contoso.com", "*.contoso.com", "localhost"],
        ["", "ünïcödé", "*", "shop.*.com", "**.com", "Shop.com", "1.2.3.4", "a.com:443", "a.com\n"],
    ),
    identifiers.gateway_path_prefix: (
        ["/", "/orders", "/a%20b/c"],
        ["", "orders", "/a//b", "/a/./b", "/a/../b", "/a%2fb", "/a#b", "/a/.", "/ü", "/" + "a" * 1024],
    ),
}


@pytest.mark.parametrize(
    ("rule", "value", "valid"),
    [(rule, value, True) for rule, (good, _) in CASES.items() for value in good]
    + [(rule, value, False) for rule, (_, bad) in CASES.items() for value in bad],
    ids=lambda item: item.__name__ if callable(item) else repr(item)[:40],
)
def test_rule(rule, value, valid):
    if valid:
        assert rule(value) == value
    else:
        with pytest.raises(ValueError, match=r"^must be"):
            rule(value)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^a$", r"^a\Z"),
        ("^$|^a$", r"^\Z|^a\Z"),
        (r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$", r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+\Z"),
        (r"^a\$$", r"^a\$\Z"),
    ],
)
def test_go_patterns_end_only_at_the_end_of_the_text(pattern, expected):
    assert identifiers.go_anchored(pattern) == expected


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [("100m", "0.2"), ("999Mi", "1Gi"), ("1G", "1Gi"), ("1e3", "1.001k"), ("5n", "6u"), ("1Ei", "1e30")],
)
def test_quantities_compare_by_the_number_they_stand_for(smaller, larger):
    assert identifiers.quantity_value(smaller) < identifiers.quantity_value(larger)


def test_quantities_are_capped_like_kubernetes_caps_them():
    assert identifiers.quantity_value("1Gi") == 1024**3
    assert (
        identifiers.quantity_value("1e30") == identifiers.quantity_value("1e9223372036854775807") == 2**63 - 1
    )
    assert identifiers.quantity_value("1e-9223372036854775808") == identifiers.quantity_value("1e-40")
    with pytest.raises(ValueError, match="Kubernetes quantity"):  # strconv.ParseInt: out of range
        identifiers.quantity("1e" + "9" * 5000)


def test_the_hostname_rule_is_the_httproute_crds_hostname_schema():
    """gateway_hostname restates the CRD's Hostname schema rather than parsing the CRD: the two agree,
    and the schema says nothing the restated rule leaves out."""
    schema = identifiers.httproute_schema()["properties"]["spec"]["properties"]["hostnames"]["items"]
    assert {key: value for key, value in schema.items() if key != "description"} == {
        "type": "string",
        "minLength": identifiers.HOSTNAME_LENGTH[0],
        "maxLength": identifiers.HOSTNAME_LENGTH[1],
        "pattern": identifiers.HOSTNAME_PATTERN,
    }
    too_long = ".".join(["a" * 63] * 4)  # 255 characters of valid labels
    with pytest.raises(ValueError, match=r"^must be"):
        identifiers.gateway_hostname(too_long)
    validator = identifiers.go_pattern_validator(schema)
    for value in ("shop.contoso.com", "*.contoso.com", "a.com\n", "Shop.com", too_long, too_long[:253]):
        assert validator.is_valid(value) == bool(
            identifiers.HOSTNAME_LENGTH[0] <= len(value) <= identifiers.HOSTNAME_LENGTH[1]
            and identifiers._HOSTNAME.search(value)
        ), value
