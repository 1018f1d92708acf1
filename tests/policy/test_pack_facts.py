"""The pack stands alone (a published pack runs from its folder only) and restates the project's facts
exactly: the AKS WASI classes, the default installer namespace and RuntimeClass, its pins."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys

import wasm_migration_policy as rules
from pulumi_policy import EnforcementLevel

from components.core import kubernetes, pod_security
from components.core.config import Shim
from tests.conftest import ROOT
from tests.policy.conftest import POLICIES, POLICY_DIR, policy


def test_restated_facts_equal_the_projects():
    assert rules.AKS_WASI_RUNTIME_CLASSES == kubernetes.AKS_WASI_RUNTIME_CLASSES
    assert rules.AKS_WASI_CLASS_PATTERN.pattern == kubernetes.AKS_WASI_CLASS_PATTERN.pattern
    for name in (
        "wasmtime-spin-v2",
        "wasmtime-slight-v1",
        "wasmtime-spin-v3-1",
        "wasmtime-spin",
        "wasm-spin",
    ):
        assert rules.is_aks_wasi_runtime_class(name) is kubernetes.is_aks_wasi_runtime_class(name), name
    assert Shim().namespace == rules.DEFAULT_INSTALLER_NAMESPACE
    assert Shim().runtime_class_name == rules.DEFAULT_RUNTIME_CLASS_NAME
    assert Shim().handler in rules.WASM_SHIM_HANDLERS
    # Pod Security baseline, restated for the standalone pack from the project's one model of it.
    assert rules.BASELINE_CAPABILITIES == pod_security.BASELINE_CAPABILITIES
    assert rules.POD_SECURITY_ENFORCE == pod_security.ENFORCE_LABEL


def test_config_schema_defaults_are_the_projects():
    schemas = {p.name: p.config_schema.properties for p in POLICIES if p.config_schema}
    assert (
        schemas["privileged-only-in-installer-namespace"]["installerNamespace"]["default"] == Shim().namespace
    )
    for name in ("no-aks-wasi-runtime-class", "one-wasm-runtime-class"):
        assert schemas[name]["runtimeClassName"]["default"] == Shim().runtime_class_name


def test_enforcement_levels():
    levels = {p.name: p.enforcement_level for p in POLICIES}
    advisory = {"images-pinned-by-digest", "one-wasm-runtime-class"}
    assert {n for n, level in levels.items() if level is EnforcementLevel.ADVISORY} == advisory
    assert all(levels[n] is EnforcementLevel.MANDATORY for n in set(levels) - advisory)
    assert policy("no-wasi-node-pools").enforcement_level is EnforcementLevel.MANDATORY


def _pins(path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("==") for line in lines)


def test_the_packs_pins_are_the_projects():
    pack = _pins(POLICY_DIR / "requirements.txt")
    project = {k: v for k, v in _pins(ROOT / "requirements.txt").items() if k in pack}
    assert pack == project and set(pack) == {"pulumi", "pulumi-policy", "protobuf"}


def test_the_pack_imports_nothing_of_the_project():
    for path in POLICY_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name.split(".")[0] for name in imported} & {"components", "migrate", "tests"}, path


def test_the_pack_serves_from_a_copy_of_its_folder_alone(tmp_path):
    """`python __main__.py` in a copy of policy/ (what `pulumi policy publish` ships) starts the analyzer:
    pulumi-policy prints its port, and the analyzer lists the policies."""
    import grpc
    from google.protobuf import empty_pb2, json_format, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    pack = tmp_path / "pack"
    shutil.copytree(POLICY_DIR, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    child = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=pack, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        port = child.stdout.readline().strip()
        assert re.fullmatch(r"\d+", port), child.stderr.read() if child.poll() is not None else port
        stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
        assert {p.name for p in info.policies} == {p.name for p in POLICIES}
        properties = struct_pb2.Struct()
        json_format.ParseDict({"agentPoolName": "wasi", "workloadRuntime": "WasmWasi"}, properties)
        answer = stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=rules.AGENT_POOL,
                properties=properties,
                urn="urn:pulumi:prod::aks-wasm-migration::azure-native:containerservice:AgentPool::wasi",
                name="wasi",
                options=analyzer_pb2.AnalyzerResourceOptions(protect=True),
            ),
            timeout=20,
        )
        assert {d.policyName for d in answer.diagnostics} == {"no-wasi-node-pools"}
        assert answer.diagnostics[0].enforcementLevel == analyzer_pb2.MANDATORY
    finally:
        child.kill()
        child.wait()


def test_the_documented_pack_config_names_real_policies_and_keys():
    text = (ROOT / "docs" / "policy-pack.md").read_text()
    config = json.loads(re.search(r"```json\n(.*?)```", text, re.S)[1])
    by_name = {p.name: p for p in POLICIES}
    for name, value in config.items():
        if isinstance(value, str):
            assert EnforcementLevel(value) and name in by_name, name
        else:
            assert set(value) <= set(by_name[name].config_schema.properties), name
            assert all(value[key] == by_name[name].config_schema.properties[key]["default"] for key in value)
    assert "pulumi preview --stack prod --policy-pack policy/" in text
