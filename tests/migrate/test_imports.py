"""The offline commands import no Pulumi SDK, and jsonschema only to word the problems of an invalid
object: importing them cost `python -m migrate` ~0.4 s of CPU, more than rendering a phase (see
components/desired/pools.py and components/export/schemas.py). Each command runs in a fresh
interpreter with `-X importtime`, which lists every module it imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Pulumi's SDKs and the runtime behind them; jsonschema and the packages only it needs.
NEVER = ("pulumi", "pulumi_azure_native", "pulumi_kubernetes", "opentelemetry", "grpc", "google")
ONLY_FOR_PROBLEMS = ("jsonschema", "referencing", "kubernetes_validate")


def imported(*argv: str) -> set[str]:
    """The top-level packages a `python -m migrate` run imported."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "migrate", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if line.startswith("import time:")]
    names = [line.rsplit("|", 1)[1].strip() for line in lines]
    assert "migrate" in names
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("render", "stacks/prod.2-prepare.yaml"),
        ("check", "stacks/prod.3a-parallel-0.yaml", "--from", "stacks/prod.2-prepare.yaml"),
        ("diff", "stacks/prod.2-prepare.yaml", "stacks/prod.3a-parallel-0.yaml"),
    ],
    ids=lambda argv: argv[0],
)
def test_a_command_on_valid_input_imports_no_sdk_and_no_jsonschema(argv):
    found = imported(*argv)
    assert "components" in found
    assert found.isdisjoint(NEVER + ONLY_FOR_PROBLEMS), sorted(found & {*NEVER, *ONLY_FOR_PROBLEMS})


def test_init_imports_no_sdk_and_no_jsonschema(project_dir):
    found = imported(
        "init",
        "--kubectl-export",
        "tests/migrate/fixtures/cluster-export.yaml",
        "--node-pools",
        "tests/migrate/fixtures/node-pools.json",
        "--cluster",
        "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/rg-contoso-prod/aks-contoso-prod",
        "--out",
        str(project_dir),
    )
    assert (project_dir / "stacks" / "Pulumi.prod.yaml").is_file()
    assert found.isdisjoint(NEVER + ONLY_FOR_PROBLEMS), sorted(found & {*NEVER, *ONLY_FOR_PROBLEMS})


def test_help_imports_no_command_and_no_config_model():
    found = imported("--help")
    assert found.isdisjoint({"pydantic", "docker_image", "jsonschema_rs"}), found


def test_the_check_of_an_invalid_object_still_words_its_problems():
    """The other side of the lazy import: an object the fast path refuses is explained by jsonschema."""
    from components.export.schemas import schema_problems

    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"portz": []}}
    assert schema_problems(service, "1.33") == [
        "Service s (Kubernetes 1.33): spec: Additional properties are not allowed ('portz' was unexpected)"
    ]
