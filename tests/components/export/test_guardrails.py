"""The cluster's own guardrails, from the Azure exports under tests/fixtures/azure: which refuse the shim
installer's privileged pod in its namespace (so `check` refuses a shim target and `init` proposes the
container), and which only warn. Expectations are written per fixture from what each file says."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.core.config import ConfigError, Phase
from components.export.guardrails import GuardrailInputError, installer_refusals, read_guardrails
from components.loading import load_migration
from migrate.__main__ import main
from tests.conftest import ROOT, load_raw, phase_path
from tests.migrate.init.test_inventory import EXPORT, POOLS

AZURE = ROOT / "tests" / "fixtures" / "azure"
SHIM = "wasm-shim-system"


def text(name: str | None) -> str | None:
    return (AZURE / name).read_text() if name else None


# (aks file, policy assignments file, the guardrails that refuse the installer in wasm-shim-system)
REFUSALS = [
    pytest.param("aks-no-safeguards.json", None, [], id="no-safeguards"),
    pytest.param("aks-safeguards-warning.json", None, [], id="safeguards-warning"),
    pytest.param(
        "aks-safeguards-enforcement.json", None, ["Deployment Safeguards at Enforcement"], id="enforcement"
    ),
    pytest.param("aks-safeguards-shim-excluded.json", None, [], id="enforcement-shim-excluded"),
    pytest.param("aks-automatic.json", None, ["AKS Automatic's Deployment Safeguards"], id="automatic"),
    pytest.param(
        None,
        "policy-deny-privileged.json",
        ["Azure Policy assignment Kubernetes cluster should not allow privileged containers (deny)"],
        id="policy-deny",
    ),
    pytest.param(None, "policy-audit-privileged.json", [], id="policy-audit"),
    pytest.param(None, "policy-deny-privileged-shim-excluded.json", [], id="policy-shim-excluded"),
    pytest.param(
        None,
        "policy-deny-hostpath.json",
        [
            "Azure Policy assignment Kubernetes cluster pod hostPath volumes should only use allowed host "
            "paths (deny)"
        ],
        id="policy-hostpath",
    ),
    pytest.param(None, "policy-deny-not-enforced.json", [], id="policy-do-not-enforce"),
    pytest.param(
        "aks-automatic.json",
        "policy-deny-privileged.json",
        [
            "AKS Automatic's Deployment Safeguards",
            "Azure Policy assignment Kubernetes cluster should not allow privileged containers (deny)",
        ],
        id="both",
    ),
]


@pytest.mark.parametrize(("aks", "policies", "refusing"), REFUSALS)
def test_which_guardrails_refuse_the_installer_in_its_namespace(aks, policies, refusing):
    guardrails = read_guardrails(text(aks), text(policies), ("aks.json", "policies.json"))
    assert [g.source for g in installer_refusals(guardrails, SHIM)] == refusing
    # kube-system is excluded by every one of them: nothing there is refused.
    assert installer_refusals(guardrails, "kube-system") == []


@pytest.mark.parametrize(
    ("aks", "policies", "message"),
    [
        ("[]", None, "aks.json: not the output of `az aks show -o json`"),
        (None, '{"a": 1}', "policies.json: not the output of `az policy assignment list -o json`"),
        ("{", None, "aks.json: not JSON"),
    ],
)
def test_an_export_of_another_shape_is_one_line_naming_the_file(aks, policies, message):
    with pytest.raises(GuardrailInputError) as caught:
        read_guardrails(aks, policies, ("aks.json", "policies.json"))
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def stack_with(
    project_dir: Path, aks: str | None, policies: str | None, target: str = "shim"
) -> dict[str, Any]:
    """The reference prepare phase with the cluster's Azure exports copied into the project."""
    raw = copy.deepcopy(load_raw(phase_path(Phase.PREPARE)))
    relative = project_dir.relative_to(ROOT).as_posix()
    for key, name in (("aks", aks), ("policyAssignments", policies)):
        if name:
            shutil.copy(AZURE / name, project_dir / name)
            raw["cluster"][key] = f"{relative}/{name}"
    if target == "container":
        raw["target"] = "container"
        raw["container"] = {"spinImage": {"digest": "sha256:" + "ab" * 32}}
    return raw


def test_check_refuses_a_shim_target_the_cluster_would_refuse(project_dir):
    with pytest.raises(ConfigError) as caught:
        load_migration(stack_with(project_dir, "aks-automatic.json", "policy-deny-privileged.json"))
    lines = [line for line in caught.value.problems if line.startswith("target:")]
    assert len(lines) == 2
    assert all(
        "the cluster refuses the shim installer in namespace wasm-shim-system" in line for line in lines
    )
    assert all("or set target: container" in line for line in lines)


def test_the_container_target_passes_where_the_shim_is_refused(project_dir):
    migration = load_migration(
        stack_with(project_dir, "aks-automatic.json", "policy-deny-privileged.json", target="container")
    )
    assert [w.config.target for w in migration.workloads] == ["container"] * 3


def test_an_excluded_shim_namespace_lets_the_shim_through(project_dir):
    load_migration(
        stack_with(
            project_dir, "aks-safeguards-shim-excluded.json", "policy-deny-privileged-shim-excluded.json"
        )
    )


CLUSTER = "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/rg-contoso-prod/aks-contoso-prod"


@pytest.mark.parametrize(
    ("aks", "target", "note"),
    [
        (
            "aks-automatic.json",
            "container",
            "target container: AKS Automatic's Deployment Safeguards refuses",
        ),
        ("aks-safeguards-shim-excluded.json", "shim", "target shim: nothing in the Azure exports refuses"),
        (None, "shim", "target shim: give --aks-cluster and --policy-assignments"),
    ],
)
def test_init_proposes_the_target_the_guardrails_leave_and_says_why(tmp_path, capsys, aks, target, note):
    extra = ["--aks-cluster", str(AZURE / aks)] if aks else []
    argv = ["init", "--kubectl-export", str(EXPORT), "--node-pools", str(POOLS), "--cluster", CLUSTER]
    assert main([*argv, *extra, "--out", str(tmp_path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(n.startswith(note) for n in report["notes"]), report["notes"]
    stack = (tmp_path / "stacks" / "Pulumi.prod.yaml").read_text()
    assert (f"aks-wasm-migration:target: {target}" in stack) == (target != "shim")
    keys = [d["key"] for d in report["decisions"]]
    assert ("container.spinImage.digest" in keys) == (target == "container")
    if aks:  # the copy check reads is the file given, byte for byte
        assert (tmp_path / "manifests" / "cluster" / "prod-aks.json").read_bytes() == (
            AZURE / aks
        ).read_bytes()
        assert "aks: manifests/cluster/prod-aks.json" in stack


def test_a_hostile_assignment_name_stays_one_escaped_line(project_dir):
    """The assignment's displayName comes from the export: it never breaks the line check prints."""
    raw = stack_with(project_dir, None, "policy-deny-privileged.json")
    path = ROOT / raw["cluster"]["policyAssignments"]
    assignments = json.loads(path.read_text())
    assignments[1]["displayName"] = "deny\nwarning: all good\x1b[2J | `x` <b>"
    path.write_text(json.dumps(assignments))
    with pytest.raises(ConfigError) as caught:
        load_migration(raw)
    (line,) = [line for line in caught.value.problems if line.startswith("target:")]
    assert "\n" not in line and "\x1b" not in line and "warning: all good" in line
