"""The repository is an installable package: a wheel built from it carries the components, the pure
core, the installer script and the CRD schema, and imports from anywhere."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy, since setuptools writes build/ and egg-info next to the sources."""
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", "*.egg-info", "build", "__pycache__", ".*_cache", "venv"),
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("aks_wasm_migration-*.whl")
    return built


def test_wheel_carries_code_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "components/wasm_node_pool.py",
        "components/spin_shim.py",
        "components/wasm_workload.py",
        "components/desired/workloads.py",
        "components/assets/installer/shim-installer.sh",
        "components/assets/crds/gateway.networking.k8s.io_httproutes.yaml",
        "components/py.typed",
        "migrate/__main__.py",
    ):
        assert expected in names, expected
    assert not any(name.startswith("tests/") for name in names)


def test_installed_package_imports_outside_the_repository(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = (
        "import components.wasm_node_pool, components.spin_shim, components.wasm_workload\n"
        "from components.desired.shim import installer_script\n"
        "assert installer_script().startswith('#!/bin/sh')\n"
        "print(components.spin_shim.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(site))


def test_declared_dependencies_are_the_pinned_ones():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {
        re.split(r"[=<>]", line)[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    declared = {re.split(r"[=<>]", dependency)[0].lower() for dependency in project["dependencies"]}
    assert declared <= pinned


def test_the_console_script_finds_the_project_from_the_stack_file(wheel, tmp_path):
    """Installed and run from another directory, `aks-wasm-migrate` reads the stack file's project (the
    directory above it holding Pulumi.yaml), not the package's own directory; without a project it says
    where it looked. `python -m migrate` of the installed copy does the same."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    script = site / "bin" / "aks-wasm-migrate"
    assert script.is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    stack = ROOT / "stacks/prod.2-prepare.yaml"
    expected = subprocess.run(
        [sys.executable, "-m", "migrate", "render", str(stack)], cwd=ROOT, capture_output=True, text=True
    )
    for command in ([sys.executable, str(script)], [sys.executable, "-m", "migrate"]):
        done = subprocess.run(
            [*command, "render", str(stack)], cwd=elsewhere, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == expected.stdout
    lost = tmp_path / "lost.yaml"
    lost.write_text(stack.read_text())
    done = subprocess.run(
        [sys.executable, str(script), "check", str(lost)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{lost}: no Pulumi.yaml in any of {tmp_path}, ")
    assert str(elsewhere) in done.stderr and "run from the project root" in done.stderr
    usage = subprocess.run(
        [sys.executable, str(script)], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert usage.returncode == 2 and usage.stderr.startswith("usage: aks-wasm-migrate ")
