"""The report's preflight section: `migrate init` on a cluster export with the Azure and CRD exports of
tests/fixtures/azure (with and without Safeguards, with and without the Gateway API CRDs), and the
planner's answers for the reference stack, which routes a workload through a Gateway. Expectations
come from what each fixture says."""

from __future__ import annotations

import copy
import json
import shutil
from typing import Any

import pytest
import yaml

from components.core.config import Phase
from migrate.__main__ import main
from migrate.init.planner import ask_planner
from migrate.init.report import preflight_section
from tests.components.export.test_guardrails import AZURE, CLUSTER
from tests.conftest import ROOT, load_raw, phase_path

# A cluster exported as docs/real-clusters.md says (namespaces included): tests/fixtures/clusters.
ENV = ROOT / "tests" / "fixtures" / "clusters" / "helm-chart"
EXPORT, POOLS = ENV / "export.yaml", ENV / "node-pools.json"


def init(tmp_path, capsys, *extra: str) -> dict[str, Any]:
    argv = ["init", "--kubectl-export", str(EXPORT), "--node-pools", str(POOLS), "--cluster", CLUSTER]
    assert main([*argv, *extra, "--out", str(tmp_path), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def by_topic(report: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in report["planner"]["preflight"]:
        found.setdefault(f["topic"], []).append(f["outcome"])
    return found


@pytest.mark.parametrize(
    ("aks", "guardrails"),
    [
        ("aks-no-safeguards.json", ["ok"]),
        ("aks-safeguards-warning.json", ["warns"]),
        ("aks-safeguards-shim-excluded.json", ["ok"]),
    ],
)
def test_the_preflight_of_init_follows_the_cluster(tmp_path, capsys, aks, guardrails):
    report = init(tmp_path, capsys, "--aks-cluster", str(AZURE / aks))
    found = by_topic(report)
    assert found["installer guardrails"] == guardrails
    # az aks show says 1.31.7: init configures the control plane's minor, so the version holds.
    assert found["Kubernetes version"] == ["ok"]
    assert "kubernetesVersion: '1.31'" in (tmp_path / "stacks" / "Pulumi.prod.yaml").read_text()
    # The export has namespaces without Pod Security labels, and no metrics add-on at all.
    assert found["Pod Security"] == ["ok"]
    assert "metrics-server" in found and set(found["metrics-server"]) == {"warns"}
    assert "Gateway API" not in found  # no workload of this export is routed through a Gateway
    markdown = (tmp_path / "migration-report.md").read_text()
    section = markdown.split("## Preflight: what the cluster says", 1)[1].split("\n## ", 1)[0]
    assert "**metrics-server** (warns" in section
    assert section.index("(warns") < section.index("(ok")  # what needs doing comes first


def test_a_config_that_loads_in_no_step_says_check_runs_the_preflight(tmp_path, capsys):
    """AKS Automatic refuses the installer: init proposes the container target, whose Spin image digest
    a person must pin before any step loads."""
    report = init(tmp_path, capsys, "--aks-cluster", str(AZURE / "aks-automatic.json"))
    assert report["planner"]["preflight"] == []
    markdown = (tmp_path / "migration-report.md").read_text()
    assert "- nothing checked yet: no step of the generated config loads" in markdown


def test_without_azure_exports_the_report_names_what_would_tell(tmp_path, capsys):
    found = by_topic(init(tmp_path, capsys))
    assert found["Kubernetes version"] == ["not known"]
    assert found["installer guardrails"] == ["not known"]


def test_init_keeps_the_gateway_crds_without_their_schemas(tmp_path, capsys):
    init(tmp_path, capsys, "--crds", str(AZURE / "crds-gateway-v1.2.1.yaml"))
    stack = (tmp_path / "stacks" / "Pulumi.prod.yaml").read_text()
    assert "crds: manifests/cluster/prod-crds.yaml" in stack
    copied = yaml.safe_load((tmp_path / "manifests" / "cluster" / "prod-crds.yaml").read_text())
    assert [i["metadata"]["name"] for i in copied["items"]] == [
        f"{plural}.gateway.networking.k8s.io"
        for plural in ("gatewayclasses", "gateways", "grpcroutes", "httproutes", "referencegrants")
    ]
    assert "openAPIV3Schema" not in json.dumps(copied)
    cluster = yaml.safe_load((tmp_path / "manifests" / "cluster" / "prod.yaml").read_text())
    exported = yaml.safe_load(EXPORT.read_text())["items"]
    assert sorted(i["metadata"]["name"] for i in cluster["items"] if i["kind"] == "Namespace") == sorted(
        i["metadata"]["name"] for i in exported if i["kind"] == "Namespace"
    )


def test_a_crd_export_of_another_shape_is_one_line(tmp_path, capsys):
    bad = tmp_path / "crds.yaml"
    bad.write_text("apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: x}\n")
    argv = ["init", "--kubectl-export", str(EXPORT), "--node-pools", str(POOLS), "--cluster", CLUSTER]
    assert main([*argv, "--crds", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not the output of `kubectl get customresourcedefinitions -o yaml`" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("crds", "outcome"),
    [
        ("crds-gateway-v1.2.1.yaml", "ok"),
        ("crds-gateway-v0.6.2.yaml", "refuses"),
        ("crds-no-gateway.yaml", "refuses"),
    ],
)
def test_the_planner_reports_the_gateway_api_for_a_routed_workload(project_dir, crds, outcome):
    """The reference stack routes web/hello-spin through an HTTPRoute from prepare; the report's line
    and `check`'s problems agree on the steps the cluster refuses."""
    raw = copy.deepcopy(load_raw(phase_path(Phase.BASELINE)))
    shutil.copy(AZURE / crds, project_dir / crds)
    raw["cluster"]["crds"] = f"{project_dir.relative_to(ROOT).as_posix()}/{crds}"
    answers = ask_planner(raw, ROOT, "stacks/Pulumi.prod.yaml").as_dict()
    [gateway] = [f for f in answers["preflight"] if f["topic"] == "Gateway API"]
    assert gateway["outcome"] == outcome
    assert gateway["steps"] == [s for s in answers["steps"] if not s.startswith("baseline")]
    refused = [p for p in answers["problems"] if "preflight: Gateway API" in p["line"]]
    assert [p["steps"] for p in refused] == ([gateway["steps"]] if outcome == "refuses" else [])
    lines = preflight_section({"planner": answers})
    [line] = [line for line in lines if "**Gateway API**" in line]
    assert line.startswith(f"- **Gateway API** ({outcome}, {', '.join(gateway['steps'])}): ")
