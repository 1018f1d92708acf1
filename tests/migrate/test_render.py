"""`migrate render` shows exactly what the Pulumi program registers, valid and deterministic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.core.config import Phase
from components.export.schemas import KUBERNETES_VERSIONS, schema_problems
from migrate.__main__ import main
from tests.conftest import PHASE_FILES, ROOT, load_raw, phase_path


def render_files(path: Path, out: Path) -> dict[str, str]:
    assert main(["render", str(path), "--out", str(out)]) == 0
    names = ("kubernetes.yaml", "patches.yaml", "azure.yaml", "lifecycle.yaml")
    return {name: (out / name).read_text() for name in names}


def documents(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def rendered_resources(files: dict[str, str]) -> dict[str, dict]:
    """Logical name -> {type, inputs, lifecycle}, joining lifecycle.yaml entries to their documents."""
    docs = {name: documents(files[name]) for name in ("kubernetes.yaml", "patches.yaml", "azure.yaml")}
    lifecycle = yaml.safe_load(files["lifecycle.yaml"])
    resources = {}
    for entry in lifecycle["resources"]:
        resources[entry["name"]] = {
            "type": entry["type"],
            "inputs": docs[entry["file"]][entry["document"]],
            "lifecycle": entry["lifecycle"],
        }
    assert sum(len(d) for d in docs.values()) == len(resources)
    return resources


@pytest.mark.parametrize("path", PHASE_FILES, ids=lambda p: p.name)
def test_render_equals_what_the_program_registers(path, pulumi_run, tmp_path):
    registered = pulumi_run(load_raw(path)).custom()
    rendered = rendered_resources(render_files(path, tmp_path))
    assert set(rendered) == set(registered)
    for name, registration in registered.items():
        mine = rendered[name]
        assert mine["type"] == registration.type, name
        assert mine["inputs"] == registration.inputs, name
        assert mine["lifecycle"].get("protect", False) == registration.protect, name
        assert mine["lifecycle"].get("import", "") == registration.import_id, name
        lifecycle = mine["lifecycle"]
        assert lifecycle.get("ignoreChanges", []) == registration.ignore_changes, name
        assert lifecycle.get("replaceOnChanges", []) == registration.replace_on_changes, name
        assert lifecycle.get("deleteBeforeReplace", False) == registration.delete_before_replace, name
        assert lifecycle.get("retainOnDelete", False) == registration.retain_on_delete, name
        assert sorted(set(lifecycle.get("dependsOn", []))) == sorted(
            d.rsplit("::", 1)[-1] for d in registration.dependencies
        ), name
        deleted_with = registration.deleted_with.rsplit("::", 1)[-1] if registration.deleted_with else None
        assert lifecycle.get("deletedWith") == deleted_with, name
        assert f"pulumi:providers:{lifecycle['provider']}::" in registration.provider, name
        assert registration.parent.endswith(lifecycle["parent"]), name  # `<component type>::<name>`


@pytest.mark.parametrize("path", PHASE_FILES, ids=lambda p: p.name)
def test_every_rendered_kubernetes_document_passes_the_schemas(path, tmp_path):
    files = render_files(path, tmp_path)
    docs = documents(files["kubernetes.yaml"])
    assert docs
    for version in KUBERNETES_VERSIONS:
        for doc in docs:
            assert schema_problems(doc, version) == []
        for patch in documents(files["patches.yaml"]):
            assert schema_problems(patch, version, partial=True) == []


def test_azure_file_holds_the_agent_pools_and_the_alert_rule_group(tmp_path):
    docs = documents(render_files(phase_path(Phase.PARALLEL, 50), tmp_path)["azure.yaml"])
    assert [d.get("agentPoolName") or d["ruleGroupName"] for d in docs] == [
        "wasipool",
        "spinpool",
        "aks-contoso-prod-wasm-migration",
    ]


def test_render_is_deterministic(capsys):
    path = str(phase_path(Phase.PARALLEL, 50))
    assert main(["render", path]) == 0
    first = capsys.readouterr().out
    assert main(["render", path]) == 0
    assert capsys.readouterr().out == first
    assert "# ===== kubernetes.yaml =====" in first and "# ===== lifecycle.yaml =====" in first


def test_out_writes_the_three_files(tmp_path, capsys):
    out = tmp_path / "new" / "dir"
    assert main(["render", str(phase_path(Phase.PREPARE)), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "azure.yaml",
        "kubernetes.yaml",
        "lifecycle.yaml",
        "patches.yaml",
    ]
    assert str(out) in capsys.readouterr().out
    assert main(["render", str(phase_path(Phase.PREPARE)), "--section", "kubernetes"]) == 0
    assert capsys.readouterr().out == (out / "kubernetes.yaml").read_text()


def test_lifecycle_annotations_in_comments(tmp_path):
    text = render_files(phase_path(Phase.PARALLEL, 50), tmp_path)["kubernetes.yaml"]
    assert "#   adopted with import: web/hello-spin" in text
    assert "#   protected:" in text
    assert "#   replace_on_changes: handler" in text
    assert "#   replace_on_changes: spec.selector" in text
    azure = (tmp_path / "azure.yaml").read_text()
    assert "#   ignore_changes: *" in azure  # the WASI pool: adopted read-only
    assert "#   ignore_changes: count" in azure  # the autoscaled target pool
    patches = (tmp_path / "patches.yaml").read_text()
    assert (
        "#   retain_on_delete:" in patches and "#   deleted_with: web/hello-spin/legacy-deployment" in patches
    )
    assert "/agentPools/wasipool" in azure


def test_decommission_lists_what_the_phase_deletes(tmp_path):
    files = render_files(phase_path(Phase.DECOMMISSION), tmp_path)
    deleted = yaml.safe_load(files["lifecycle.yaml"])["deletedByThisPhase"]
    assert yaml.safe_load(files["lifecycle.yaml"])["previousPhase"] == "cutover"
    verification = ("job", "result", "role", "role-binding", "service-account")
    assert sorted(d["name"] for d in deleted) == sorted(
        [
            "legacy-pool-wasipool",
            *(
                f"{w}/legacy-{kind}"
                for w in ("web/hello-spin", "shop/orders-api", "shop/inventory")
                for kind in ("deployment", "replicas")
            ),
            *(
                f"{w}/verify-{kind}"
                for w in ("web/hello-spin", "shop/orders-api", "shop/inventory")
                for kind in verification
            ),
            "verify-script-shop",
            "verify-script-web",
        ]
    )
    assert "Deleted by this phase (decommission)" in files["kubernetes.yaml"]
    assert "AgentPool wasipool" in files["azure.yaml"].split("Deleted by this phase")[1]
    # Nothing deleted is in the apply stream.
    names = {d["metadata"]["name"] for d in documents(files["kubernetes.yaml"]) if d["kind"] == "Deployment"}
    assert names == {"hello-spin-spin", "orders-api-spin", "inventory-spin"}


def test_baseline_deletes_nothing(tmp_path):
    lifecycle = yaml.safe_load(render_files(phase_path(Phase.BASELINE), tmp_path)["lifecycle.yaml"])
    assert lifecycle["previousPhase"] is None and lifecycle["deletedByThisPhase"] == []


def test_bad_input_is_a_clear_line_not_a_traceback(tmp_path, capsys):
    assert main(["render", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "Traceback" not in err


def test_entry_point_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "migrate", "render", "stacks/prod.2-prepare.yaml", "--section", "kubernetes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    kinds = [d["kind"] for d in documents(result.stdout)]
    assert "DaemonSet" in kinds and "RuntimeClass" in kinds
