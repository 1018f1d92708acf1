"""What the README and the docs it links to tell users to run: the components example of docs/components.md
runs, as written, under mocks; the README's first steps name what CI installs; docs/real-clusters.md's
export command lists what init and the isolation proof read."""

from __future__ import annotations

import re

from tests.conftest import CREDENTIALS_TOKEN, ROOT, run_under_mocks

COMPONENTS = ROOT / "docs" / "components.md"
SECTION = "# Use the components in your own Pulumi program"
FIRST_STEPS = "## First steps\n"
REAL_CLUSTERS = ROOT / "docs" / "real-clusters.md"


def readme_example() -> str:
    text = COMPONENTS.read_text()
    section = text.split(SECTION, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_registers_a_pool_the_shim_and_a_workload():
    code = readme_example()
    run = run_under_mocks(lambda: exec(compile(code, str(COMPONENTS), "exec"), {}), {})
    custom = run.custom()
    pool = custom["wasm"]
    assert pool.type == "azure-native:containerservice:AgentPool"
    assert pool.inputs["workloadRuntime"] == "OCIContainer"
    assert pool.inputs["nodeLabels"] == {"wasm-migration.io/shim": "containerd-shim-spin"}
    daemonset = custom["spin-installer"]
    assert daemonset.inputs["spec"]["template"]["spec"]["nodeSelector"] == pool.inputs["nodeLabels"]
    # The shim waits for the pool; the workload for the shim's RuntimeClass (through its output).
    assert any(d.endswith("::wasm") for d in daemonset.dependencies)
    deployment = custom["hello-deployment"]
    assert deployment.inputs["spec"]["template"]["spec"]["runtimeClassName"] == "wasm-spin"
    assert any(d.endswith("RuntimeClass::spin-runtime-class") for d in deployment.dependencies)
    assert all(
        "pulumi:providers:kubernetes::aks" in r.provider
        for r in custom.values()
        if r.type.startswith("kubernetes:")
    )
    assert custom["hello-service"].inputs["spec"]["ports"] == [{"port": 80, "targetPort": 80}]
    assert [c.token for c in run.mocks.calls] == [CREDENTIALS_TOKEN]
    outputs = {urn.rsplit("::", 1)[-1]: values for urn, values in run.monitor.outputs.items()}
    assert outputs["spin"]["runtimeClassName"] == "wasm-spin"
    assert outputs["spin"]["nodeSelector"] == {"wasm-migration.io/shim": "containerd-shim-spin"}
    assert outputs["hello"]["serviceName"] == "hello-spin"
    assert outputs["wasm"]["poolName"] == "wasm"


def test_components_refuse_wrong_args_before_registering_anything():
    import pytest

    from components.registration import ArgsError
    from components.spin_shim import SpinShim
    from components.wasm_node_pool import WasmNodePool

    def program():
        WasmNodePool(
            "bad",
            {
                "resource_group_name": "rg",
                "cluster_name": "aks",
                "pool_name": "",
                "vm_size": "Standard_D4s_v5",
                "workload_runtime": "WasmWasi",
            },
        )

    with pytest.raises(ArgsError) as caught:
        run_under_mocks(program, {})
    message = str(caught.value)
    assert "WasmNodePool 'bad': args.pool_name:" in message and "(got '')" in message
    assert "args.workload_runtime: must be OCIContainer" in message

    def shim():
        args = {
            "node_selector": {"a": "b"},
            "runtime_class_name": "wasmtime-spin-v2",
            "namespace": "kube-system",
        }
        SpinShim("bad", args)

    with pytest.raises(ArgsError) as caught:
        run_under_mocks(shim, {})
    message = str(caught.value)
    assert "args.runtime_class_name: collides with the AKS-managed" in message
    # The config's own rule (components.core.config.shim_namespace), applied to the component's args too.
    assert "SpinShim 'bad': args.namespace: is a namespace Kubernetes (default, kube-*) or AKS" in message


def _readme_packages() -> list[str]:
    """The Debian packages the README's first steps install, before any command runs."""
    text = (ROOT / "README.md").read_text()
    first = text.split(FIRST_STEPS, 1)[1].split("\n## ", 1)[0]
    install = re.search(r"apt-get install -y ([^\n`]+)", first)
    assert install, "the first steps name the Debian packages"
    assert first.index(install.group(0)) < first.index("pip install -r requirements.txt")
    assert first.index("pip install -r requirements.txt") < first.index("python -m pytest")
    return install.group(1).split()


def _ci_packages() -> list[str]:
    script = (ROOT / ".ci/run").read_text()
    declared = re.search(r"^packages=\(([^)]*)\)$", script, re.M)
    assert declared and script.count("packages=(") == 1, "one package list in .ci/run"
    return declared.group(1).split()


def test_the_readme_prerequisites_are_what_ci_installs():
    assert _readme_packages() == _ci_packages()
    for tool in ("busybox", "shellcheck", "prometheus", "containerd", "nodejs"):
        assert tool in _ci_packages()


def test_the_readme_names_python_and_the_venv_before_the_tests():
    text = (ROOT / "README.md").read_text()
    first = text.split(FIRST_STEPS, 1)[1].split("\n## ", 1)[0]
    assert "**Python 3.11** or newer" in first
    assert first.index("python3 -m venv venv") < first.index("python -m pytest")
    import tomllib

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"] == ">=3.11"


def test_the_export_command_lists_what_init_and_the_isolation_proof_read():
    text = REAL_CLUSTERS.read_text()
    command = next(
        line for line in text.splitlines() if line.startswith("kubectl get $(kubectl api-resources")
    )
    for kind in (
        "deployments\\.apps",
        "services",
        "horizontalpodautoscalers\\.autoscaling",
        "poddisruptionbudgets\\.policy",
        "networkpolicies\\.networking\\.k8s\\.io",
        "httproutes\\.gateway\\.networking\\.k8s\\.io",
        "servicemonitors\\.monitoring\\.coreos\\.com",
        "podmonitors\\.monitoring\\.coreos\\.com",
        "runtimeclasses\\.node\\.k8s\\.io",
    ):
        assert kind in command, kind
    assert command.endswith("-A -o yaml > export.yaml")


def test_the_readme_offline_commands_run_on_the_reference_environment():
    """Each `python -m migrate` command the README gives for the reference environment answers 0."""
    import shlex

    from tests.conftest import run_bounded

    text = (ROOT / "README.md").read_text()
    commands = [
        line for line in text.splitlines() if line.startswith("python -m migrate ") and "<" not in line
    ]
    assert {shlex.split(line)[3] for line in commands} >= {"render", "check", "diff"}
    for line in commands:
        argv = [str(ROOT / a) if a.startswith("stacks/") else a for a in shlex.split(line)[3:]]
        answer = run_bounded(argv, seconds=120)
        assert answer.code == 0, (line, answer.err[-2000:])


def _readme_init_command() -> str:
    """The README's `init` command, its continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    start = text.index("python -m migrate init ")
    return text[start : text.index("```", start)].replace("\\\n", " ")


def test_the_readme_init_and_check_steps_do_what_it_says(tmp_path, capsys):
    """Steps 2 and 4 of the README's real-cluster path, on a messy cluster fixture: init writes the
    environment file and the report; check then fails, naming each decision left, until they are made."""
    import shlex
    import shutil

    from migrate.__main__ import main

    fixture = ROOT / "tests" / "fixtures" / "clusters" / "helm-chart"
    command = _readme_init_command()
    for placeholder, value in {
        "<subscription id>/<resource group>/<cluster>": "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/rg/aks",
        "<stack>": "demo",
    }.items():
        command = command.replace(placeholder, value)
    given = {
        "export.yaml": str(fixture / "export.yaml"),
        "node-pools.json": str(fixture / "node-pools.json"),
        ".": str(tmp_path),
    }
    argv = [given.get(arg, arg) for arg in shlex.split(command)[3:]]
    assert argv[0] == "init" and not [arg for arg in argv if "<" in arg]
    assert main(argv) == 0
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    stack_file = tmp_path / "stacks" / "Pulumi.demo.yaml"
    assert stack_file.is_file() and (tmp_path / "migration-report.md").is_file()
    capsys.readouterr()
    assert main(["check", str(stack_file)]) == 1
    refusals = capsys.readouterr().out.splitlines()
    # Each refusal names the file and the key to decide (this cluster runs 1.30: kubernetesVersion).
    assert refusals and all(line.startswith(f"{stack_file}: ") for line in refusals)
    assert any("cluster.kubernetesVersion" in line for line in refusals)
