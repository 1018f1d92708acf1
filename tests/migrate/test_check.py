"""`migrate check`: config, schemas, scheduling and phase transitions, one clear line per problem."""

from __future__ import annotations

import copy
import itertools
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.core.config import PROJECT, Phase
from migrate.__main__ import main
from migrate.markdown import text
from migrate.phases import PhaseFile
from tests.conftest import ENVIRONMENT, PHASE_FILES, ROOT, WALK, load_raw, phase_path

PAIRS = list(itertools.pairwise(WALK))
HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"


def write_stack(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in raw.items()}}))
    return path


def run_check(capsys, *argv: Any, warnings: bool = False) -> tuple[int, list[str], str]:
    """Exit code, stdout lines and stderr; the split's `warning:` lines only when asked for."""
    code = main(["check", *map(str, argv)])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    return (
        code,
        lines if warnings else [line for line in lines if not line.startswith("warning: ")],
        captured.err,
    )


def with_manifest(project_dir: Path, text: str, phase: str = "baseline") -> Path:
    """A stack file whose first workload's legacy manifest is `text`."""
    manifest = project_dir / "hello-spin.yaml"
    manifest.write_text(text)
    raw = load_raw(phase_path(Phase.BASELINE))
    raw["workloads"][0]["manifest"] = str(manifest.relative_to(ROOT))
    raw["phase"] = phase
    return write_stack(project_dir / "stack.yaml", raw)


@pytest.mark.parametrize("path", PHASE_FILES, ids=lambda p: p.name)
def test_every_phase_file_is_clean(path, capsys):
    code, out, _ = run_check(capsys, path, warnings=True)
    assert code == 0
    assert out[-1].startswith(f"OK: {path}")
    # Beside two legacy pods, one new pod is 33 % (for 10 %) and both new ones 50 % (for 90 % and 100 %,
    # the most a replica split reaches before cutover): check says so for the two default-split
    # workloads of those steps. In-cluster clients of orders-api's Service bypass its Gateway split (0 %,
    # 50 % once its new pods join the Service at 100 %): more than 10 points off from 50 % on.
    warned = sorted(line.split(":")[1].strip() for line in out[:-1])
    expected = {
        "-10.yaml": ["shop/inventory", "web/hello-spin"],
        "-50.yaml": ["shop/orders-api"],
        "-90.yaml": ["shop/inventory", "shop/orders-api", "web/hello-spin"],
        "-100.yaml": ["shop/inventory", "shop/orders-api", "web/hello-spin"],
    }
    assert warned == next((w for end, w in expected.items() if path.name.endswith(end)), [])


def _transition(source: PhaseFile, target: PhaseFile) -> str:
    """What check says about a forward step of the reference walk, from the files' phases and weights."""
    if source.phase is target.phase:
        return f"traffic step parallel {source.weight}% → {target.weight}%"
    at = f" at {target.weight}%" if target.weight is not None else ""
    confirmed = " (irreversible; confirmed for aks-contoso-prod/wasipool)"
    return f"{source.phase.value} → {target.phase.value}{at}" + (
        confirmed if target.phase is Phase.DECOMMISSION else ""
    )


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=lambda file: file.path.stem.split(".")[1])
def test_forward_steps_are_clean(source, target, capsys):
    code, out, _ = run_check(capsys, target.path, "--from", source.path)
    assert code == 0, out
    assert out[0].endswith(f"transition {_transition(source, target)}")


@pytest.mark.parametrize(
    ("source", "target"),
    [(source, target) for source, target in PAIRS if target.phase is not Phase.DECOMMISSION],
    ids=lambda file: file.path.stem.split(".")[1],
)
def test_rollback_is_allowed(source, target, capsys):
    code, out, _ = run_check(capsys, source.path, "--from", target.path)
    assert code == 0, out
    assert "rollback" in out[0]


def test_no_rollback_out_of_decommission(capsys):
    code, out, _ = run_check(capsys, phase_path(Phase.CUTOVER), "--from", phase_path(Phase.DECOMMISSION))
    assert code == 1
    assert out == [
        "transition decommission → cutover is impossible: decommission deleted the WASI pool and the "
        "legacy Deployments for good; there is nothing to roll back to"
    ]


def test_skipped_phase(capsys):
    code, out, _ = run_check(capsys, phase_path(Phase.PARALLEL, 50), "--from", phase_path(Phase.BASELINE))
    assert code == 1
    assert out == [
        "transition baseline → parallel skips prepare: apply one phase at a time (next is prepare)"
    ]


def test_other_key_changed_with_the_phase(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.CUTOVER))
    raw["traffic"] = {"weight": 20}
    target = write_stack(tmp_path / "cutover.yaml", raw)
    code, out, _ = run_check(capsys, target, "--from", phase_path(Phase.PARALLEL, 100))
    assert code == 1
    assert len(out) == 1 and out[0].startswith("transition parallel → cutover: `traffic` changes together")


def test_other_key_changed_without_a_phase_change_is_fine(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["workloads"][0]["canaryReplicas"] = 2
    code, out, _ = run_check(
        capsys, write_stack(tmp_path / "w.yaml", raw), "--from", phase_path(Phase.PARALLEL, 50)
    )
    assert code == 0 and "no phase change (parallel)" in out[-1]


def test_weight_may_change_entering_and_leaving_parallel(tmp_path, capsys):
    prepare = load_raw(phase_path(Phase.PREPARE))
    prepare["traffic"]["weight"] = 70
    code, out, _ = run_check(
        capsys, phase_path(Phase.PARALLEL, 0), "--from", write_stack(tmp_path / "p.yaml", prepare)
    )
    assert code == 0 and out[0].endswith("transition prepare → parallel at 0%")
    cutover = load_raw(phase_path(Phase.CUTOVER))
    cutover["traffic"]["weight"] = 30
    code, out, _ = run_check(
        capsys, write_stack(tmp_path / "c.yaml", cutover), "--from", phase_path(Phase.PARALLEL, 100)
    )
    assert code == 0 and out[0].endswith("transition parallel → cutover")


@pytest.mark.parametrize(
    ("source", "target", "problem"),
    [
        (
            (Phase.PREPARE, None),
            (Phase.PARALLEL, 10),
            "transition prepare → parallel at 10% enters parallel at 10%, not at 0%: new pods are checked "
            "outside traffic first; step through parallel 0% (walk [0, 10, 50, 90, 100])",
        ),
        (
            (Phase.PARALLEL, 50),
            (Phase.CUTOVER, None),
            "transition parallel → cutover leaves parallel for cutover at 50%, not at 100%: the new side "
            "runs at full capacity before the legacy pods go; step through parallel 100% (walk [0, 10, 50, "
            "90, 100])",
        ),
        (
            (Phase.PARALLEL, 10),
            (Phase.PARALLEL, 90),
            "transition traffic step parallel 10% → 90% skips traffic step(s) 50%: walk [0, 10, 50, 90, 100] "
            "one step at a time",
        ),
        (
            (Phase.PARALLEL, 0),
            (Phase.PREPARE, None),
            None,  # the way back from the first step
        ),
    ],
)
def test_parallel_is_walked_from_0_to_100_one_step_at_a_time(capsys, source, target, problem):
    """So that no step changes the legacy and the new side at once: only then does every order the
    engine may choose keep each entry point's capacity (components/desired/phase_table.py)."""
    code, out, _ = run_check(capsys, phase_path(*target), "--from", phase_path(*source))
    if problem is None:
        assert code == 0, out
    else:
        assert code == 1
        assert out[0] == problem


def test_weight_may_not_change_between_phases_that_do_not_read_it(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PREPARE))
    raw["traffic"]["weight"] = 70
    code, out, _ = run_check(
        capsys, write_stack(tmp_path / "p.yaml", raw), "--from", phase_path(Phase.BASELINE)
    )
    assert code == 1
    assert out == [
        "transition baseline → prepare: `traffic` changes together with the phase; change only phase and "
        "decommission (and traffic.weight into, within or out of parallel) in a phase step and ship other "
        "changes separately"
    ]


def test_traffic_step_changes_only_the_weight(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["workloads"][0]["canaryReplicas"] = 2
    raw["traffic"]["steps"] = [10, 50, 80]
    code, out, _ = run_check(
        capsys, write_stack(tmp_path / "s.yaml", raw), "--from", phase_path(Phase.PARALLEL, 10)
    )
    assert code == 1
    assert [line.split(";")[0] for line in out] == [
        "transition traffic step parallel 10% → 50%: `traffic` changes together with the phase",
        "transition traffic step parallel 10% → 50%: `workloads` changes together with the phase",
    ]


def test_parallel_environment_stands_at_one_of_its_steps(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["traffic"]["weight"] = 30
    path = write_stack(tmp_path / "Pulumi.prod.yaml", raw)
    code, out, _ = run_check(capsys, path)
    assert code == 1
    assert out == [
        f"{path}: traffic.weight: in phase parallel the weight is one of the walk's steps [0, 10, 50, 90, "
        "100] (0 %, traffic.steps, 100 %); set it to the step the stack is at (got 30)"
    ]


def test_unconfirmed_decommission_in_config_and_transition_terms(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.DECOMMISSION))
    del raw["decommission"]
    code, out, _ = run_check(
        capsys, write_stack(tmp_path / "d.yaml", raw), "--from", phase_path(Phase.CUTOVER)
    )
    assert code == 1
    assert any(line.endswith("(got (not set))") and "decommission.confirm" in line for line in out)
    assert (
        "transition cutover → decommission is irreversible and unconfirmed: set decommission.confirm to "
        "'aks-contoso-prod/wasipool' (got None)"
    ) in out


def test_unknown_phase(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PREPARE))
    raw["phase"] = "halfway"
    path = write_stack(tmp_path / "p.yaml", raw)
    code, out, err = run_check(capsys, path, "--from", phase_path(Phase.BASELINE))
    assert code == 1
    assert any(line.startswith(f"{path}: phase: ") and "'halfway'" in line for line in out)
    assert any(line.startswith("transition: the target phase is not one of") for line in out)
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("config: [unclosed\n", "is not valid YAML"),
        ("- just\n- a list\n", "must be a mapping with a `config:` mapping"),
        ("config:\n  phase: baseline\n", "keys of this project are written"),
    ],
    ids=["malformed", "shape", "prefix"],
)
def test_unreadable_stack_files_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, out, err = run_check(capsys, path)
    assert code == 2 and out == []
    assert message in err and "Traceback" not in err
    code, _, err = run_check(capsys, phase_path(Phase.BASELINE), "--from", path)
    assert code == 2 and message in err


def test_missing_file(tmp_path, capsys):
    code, _, err = run_check(capsys, tmp_path / "nope.yaml")
    assert code == 2 and "cannot read file: No such file or directory" in err


def test_invalid_config_lists_every_problem(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.BASELINE))
    raw["cluster"]["subscriptionId"] = "not-a-uuid"
    raw["legacyPools"][0]["vmSzie"] = "typo"
    code, out, _ = run_check(capsys, write_stack(tmp_path / "c.yaml", raw))
    assert code == 1
    assert any("cluster.subscriptionId" in line for line in out)
    assert any("legacyPools[0].vmSzie: unknown key" in line for line in out)


def test_a_manifest_failing_the_clusters_schema_is_a_config_problem(project_dir, capsys):
    text = HELLO.read_text().replace(
        "          imagePullPolicy:", "          bogusField: 1\n          imagePullPolicy:"
    )
    code, out, _ = run_check(capsys, with_manifest(project_dir, text))
    assert code == 1
    assert len(out) == 1
    assert "workloads[0].manifest: Deployment web/hello-spin (Kubernetes 1.33)" in out[0]
    assert "'bogusField' was unexpected" in out[0]


# Valid on the cluster's Kubernetes 1.33, unknown to the 1.31 and 1.32 schemas.
NEWER_FIELD = "          lifecycle:\n            stopSignal: SIGTERM\n          imagePullPolicy:"


def test_schema_failure_on_older_kubernetes_versions(project_dir, capsys):
    text = HELLO.read_text().replace("          imagePullPolicy:", NEWER_FIELD)
    code, out, _ = run_check(capsys, with_manifest(project_dir, text))
    assert code == 1
    assert len(out) == 2  # the legacy Deployment on 1.31 and on 1.32
    assert all("schema: Deployment web/hello-spin (Kubernetes 1.3" in line for line in out)
    assert all("'stopSignal' was unexpected" in line for line in out)
    code, out, _ = run_check(capsys, project_dir / "stack.yaml", "--kubernetes-version", "1.34")
    assert code == 0
    code, out, _ = run_check(capsys, project_dir / "stack.yaml", "--kubernetes-version", "1.31")
    assert code == 1 and len(out) == 1 and "(Kubernetes 1.31)" in out[0]


def test_schema_failure_reporting(monkeypatch, capsys):
    import migrate.check

    def fake(manifest, versions, partial=False):
        broken = manifest["kind"] == "RuntimeClass"
        return [[f"{manifest['kind']} broken on {version}"] if broken else [] for version in versions]

    monkeypatch.setattr(migrate.check, "schema_problems_on", fake)
    code, out, _ = run_check(capsys, phase_path(Phase.PREPARE), "--kubernetes-version", "1.32")
    assert code == 1
    assert out == [f"{phase_path(Phase.PREPARE)}: schema: RuntimeClass broken on 1.32"]


def test_scheduling_problem(project_dir, capsys):
    text = HELLO.read_text().replace(
        "        restartPolicy: Always",
        "        nodeSelector:\n          disk: ssd\n        restartPolicy: Always",
    )
    code, out, _ = run_check(capsys, with_manifest(project_dir, text))
    assert code == 1
    assert out == [
        f"{project_dir / 'stack.yaml'}: scheduling: Deployment web/hello-spin: no node of any pool can "
        "run it in phase baseline (wasipool: nodeSelector disk=ssd (the pool has no such label))"
    ]


def test_kubernetes_version_option(capsys):
    code, out, _ = run_check(capsys, phase_path(Phase.BASELINE), "--kubernetes-version", "1.33")
    assert code == 0 and "valid on Kubernetes 1.33," in out[0]
    code, out, err = run_check(capsys, phase_path(Phase.BASELINE), "--kubernetes-version", "1.29")
    assert code == 2 and out == []
    assert "--kubernetes-version 1.29: unsupported; choose one of 1.31, 1.32, 1.33, 1.34" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "exit codes:" in capsys.readouterr().out


def test_entry_point_exit_code_for_a_problem():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "migrate",
            "check",
            str(phase_path(Phase.PARALLEL, 10).relative_to(ROOT)),
            "--from",
            str(phase_path(Phase.BASELINE).relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("transition baseline → parallel skips prepare")
    assert "Traceback" not in result.stderr


def test_from_file_config_problems_are_reported(tmp_path, capsys):
    raw = copy.deepcopy(load_raw(phase_path(Phase.BASELINE)))
    raw["cluster"]["name"] = ""
    source = write_stack(tmp_path / "src.yaml", raw)
    target_raw = load_raw(phase_path(Phase.PREPARE))
    target_raw["cluster"]["name"] = ""
    target = write_stack(tmp_path / "dst.yaml", target_raw)
    code, out, _ = run_check(capsys, target, "--from", source)
    assert code == 1
    assert any(line.startswith(f"(source) {source}: cluster.name") for line in out)


@pytest.mark.parametrize("weight", [95, 99])
def test_a_weight_the_replicas_cannot_approximate_is_a_warning_not_a_failure(tmp_path, capsys, weight):
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["traffic"] = {"weight": weight}
    code, out, _ = run_check(capsys, write_stack(tmp_path / "w.yaml", raw), warnings=True)
    assert code == 0
    warnings = [line for line in out if line.startswith("warning: ")]
    assert [w.split(":")[1].strip() for w in warnings] == [
        "web/hello-spin",
        "shop/orders-api",
        "shop/inventory",
    ]
    assert warnings[0] == (
        "warning: web/hello-spin: 50% of the requests through LoadBalancer web/hello-spin and ClusterIP "
        f"web/hello-spin reach new pods, where the phase asks for {weight}%: Service web/hello-spin spreads "
        "requests over 4 ready pods, 2 of them new, as kube-proxy picks a pod, not a weight: the legacy "
        "pods keep serving until cutover takes them away, so new ones can only be added beside them; a "
        "`gateway:` splits exactly"
    )
    # orders-api's Gateway split is exact: only its Service, which in-cluster clients call, is off.
    assert warnings[1].startswith(
        "warning: shop/orders-api: 0% of the requests through ClusterIP shop/orders-api"
    )
    assert out[-1].startswith("OK: ")


def test_a_weight_within_the_tolerance_gives_no_warning(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["traffic"] = {"weight": 60}  # 1 legacy + 1 new = 50 %: 10 points off, within the tolerance
    code, out, _ = run_check(capsys, write_stack(tmp_path / "w.yaml", raw), warnings=True)
    assert code == 0 and out[-1].startswith("OK: ")
    assert [line.split(":")[1].strip() for line in out[:-1]] == ["shop/orders-api"]  # its Service only


def test_prometheus_operator_alerts_pass_the_strict_checks(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.CUTOVER))
    raw["alerts"] = {"mode": "prometheusOperator", "prometheusOperator": {"labels": {"release": "kps"}}}
    code, out, _ = run_check(capsys, write_stack(tmp_path / "p.yaml", raw), "--kubernetes-version", "1.33")
    assert code == 0 and out[-1].startswith("OK: "), out


def test_a_pool_change_that_needs_a_new_pool_is_refused(tmp_path, capsys):
    """AKS cannot change vmSize (azure-native replaces on it) or zones in place; replacing the pool
    under its name would take every Wasm pod down: blue/green under a new name instead."""
    source = phase_path(Phase.PARALLEL, 50)
    raw = load_raw(source)
    raw["targetPools"][0]["vmSize"] = "Standard_D8s_v5"
    code, out, _ = run_check(capsys, write_stack(tmp_path / "vm.yaml", raw), "--from", source)
    assert code == 1
    assert any(
        line.startswith("targetPools[0].vmSize: 'Standard_D4s_v5' → 'Standard_D8s_v5' needs a new pool")
        and "blue/green" in line
        for line in out
    ), out


@pytest.mark.parametrize("phase", list(Phase), ids=lambda p: p.value)
def test_alerts_off_warns_from_parallel_on(tmp_path, capsys, phase):
    raw = load_raw(phase_path(phase, 50 if phase is Phase.PARALLEL else None))
    raw["alerts"] = {"mode": "off"}
    code, out, _ = run_check(
        capsys, write_stack(tmp_path / "off.yaml", raw), "--kubernetes-version", "1.33", warnings=True
    )
    assert code == 0 and out[-1].startswith("OK: ")
    warned = [line for line in out if line.startswith("warning: alerts.mode: off")]
    assert len(warned) == (1 if phase.at_least(Phase.PARALLEL) else 0), out
    if warned:
        assert f"in phase {phase.value}: new pods serve production traffic" in warned[0]


def test_render_and_diff_of_a_stale_phase_file_warn(tmp_path, capsys):
    """check refuses a phase file edited by hand (exit 2); render and diff answer with its values and
    say that they are stale, the comment on top."""
    stale = tmp_path / "stacks"
    shutil.copytree(ROOT / "stacks", stale)
    target = stale / phase_path(Phase.CUTOVER).name
    target.write_text(target.read_text().replace("canaryReplicas: 1", "canaryReplicas: 2"))
    assert main(["check", str(target)]) == 2
    assert "edited by hand" in capsys.readouterr().err
    assert main(["render", str(target)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {target}: edited by hand") and "`check` refuses it" in err
    assert main(["diff", str(target), str(target)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"> ⚠️ Warning: **stale:** {text(str(target))}: edited by hand")
    assert first.endswith("`python -m migrate check` refuses it, shown as the file is")


def test_two_stacks_of_one_cluster_are_refused_naming_what_both_would_own(tmp_path, capsys):
    """Following the README once per WASI pool gave two stacks that both own the shim, its pools and the
    alert rules: the second fails with AlreadyExists, or they delete each other's objects on rollback.
    One stack migrates a cluster; its legacyPools list every WASI pool."""
    raw = load_raw(ENVIRONMENT)
    mine = write_stack(tmp_path / "Pulumi.prod.yaml", raw)
    other = copy.deepcopy(raw)
    other["legacyPools"] = [{"name": "wasiarm"}]
    other["workloads"] = []
    write_stack(tmp_path / "Pulumi.arm.yaml", other)
    for workload in raw["workloads"]:
        (tmp_path / workload["manifest"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / workload["manifest"]).write_text((ROOT / workload["manifest"]).read_text())
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    code, out, _ = run_check(capsys, mine, "--kubernetes-version", "1.33")
    assert code == 1
    assert out == [
        f"{mine}: stack arm (Pulumi.arm.yaml) migrates the same cluster aks-contoso-prod and would own "
        "AgentPool spinpool, DaemonSet wasm-shim-system/containerd-shim-spin-installer, Namespace "
        "wasm-shim-system, PrometheusRuleGroup aks-contoso-prod-wasm-migration, RuntimeClass wasm-spin too: "
        "one stack migrates a cluster (its legacyPools list every WASI pool); merge them"
    ]
    other["cluster"] = {**other["cluster"], "name": "aks-contoso-test"}
    write_stack(tmp_path / "Pulumi.arm.yaml", other)
    assert run_check(capsys, mine, "--kubernetes-version", "1.33")[0] == 0


@pytest.mark.parametrize(
    ("image", "warned"),
    [
        ("contosoacr.azurecr.io/shop/orders-api:2.0.0-spin3", True),
        ("contosoacr.azurecr.io/shop/orders-api:2.0.0-spin3@sha256:" + "0f" * 32, False),
    ],
    ids=["tag", "digest"],
)
def test_a_container_app_pinned_by_tag_only_is_warned(tmp_path, capsys, image, warned):
    """Spin pulls the app when each pod starts: a tag may move between the verified run and cutover."""
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["workloads"][1].update(target="container", image=image)
    raw["container"] = {"spinImage": {"digest": "sha256:" + "ab" * 32}}
    code, out, _ = run_check(
        capsys, write_stack(tmp_path / "c.yaml", raw), "--kubernetes-version", "1.33", warnings=True
    )
    assert code == 0 and out[-1].startswith("OK: ")
    lines = [line for line in out if line.startswith("warning: workloads[")]
    assert lines == (
        [
            f"warning: workloads[1].image: Spin pulls {image} by tag when each copy starts, so a moved tag "
            "changes what runs between the verified parallel run and cutover; pin it by digest "
            "(<image>@sha256:...)"
        ]
        if warned
        else []
    )


def test_the_target_is_validated_without_the_source_and_the_source_let_go(monkeypatch, capsys):
    """`check --from` forks the target's schema validation (tens of megabytes of validators, in a child
    that holds what the parent held) before the source side is loaded, then works out the transition's
    worst moments and lets the source side go before the target is measured at baseline."""
    import weakref

    import migrate.check

    seen: list[weakref.ref[Any]] = []
    at_fork: list[int] = []
    alive_at_baseline: list[bool] = []
    worst_moments, background, baseline = (
        migrate.check._worst_moments,
        migrate.check.Background,
        migrate.check.baseline_reach,
    )

    def remembering(source, target):
        seen.append(weakref.ref(source.state))
        return worst_moments(source, target)

    def forking(work):
        at_fork.append(len(seen))
        return background(work)

    def measuring(loaded):
        alive_at_baseline.append(seen[0]() is not None)
        return baseline(loaded)

    monkeypatch.setattr(migrate.check, "_worst_moments", remembering)
    monkeypatch.setattr(migrate.check, "Background", forking)
    monkeypatch.setattr(migrate.check, "baseline_reach", measuring)
    source, target = phase_path(Phase.PARALLEL, 100), phase_path(Phase.CUTOVER)
    assert main(["check", str(target), "--from", str(source)]) == 0
    assert "transition parallel → cutover" in capsys.readouterr().out
    assert at_fork == [0] and alive_at_baseline and not any(alive_at_baseline)
