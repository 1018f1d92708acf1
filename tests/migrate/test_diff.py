"""`migrate diff`: the PR comment for a phase step, its risks and its size limit."""

from __future__ import annotations

import copy
import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components.core.config import PROJECT, Phase
from migrate.__main__ import main
from migrate.diff import traffic_section
from migrate.state import load
from tests.components.core.test_naming import Spec, raw_with
from tests.conftest import PHASE_FILES, ROOT, load_raw, phase_path

PAIRS = list(itertools.pairwise(PHASE_FILES))
BOTH_WAYS = PAIRS + [(b, a) for a, b in PAIRS]


def write_stack(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in raw.items()}}))
    return path


def run_diff(capsys, *argv: str) -> tuple[int, str]:
    code = main(["diff", *map(str, argv)])
    return code, capsys.readouterr().out


def row(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("|") and f"`{name}`" in line)


@pytest.mark.parametrize(("source", "target"), BOTH_WAYS, ids=lambda p: p.stem.split(".")[1])
def test_every_consecutive_pair_both_ways(source, target, capsys):
    code, out = run_diff(capsys, source, target)
    assert code == 0
    # Out of decommission there is no way back: the comment says so first; every other step is one.
    refused = source == phase_path(Phase.DECOMMISSION)
    assert out.startswith("> ⚠️ Warning: **this is not one step**" if refused else "### ")
    assert "| Action | Resource | Pulumi name | Detail |" in out
    assert "**Traffic to new pods:**" in out and "#### Risks" in out
    assert len(out) < 60_000
    code, again = run_diff(capsys, source, target)
    assert again == out  # deterministic


def test_prepare_creates_the_shim_and_restarts_containerd(capsys):
    _, out = run_diff(capsys, phase_path(Phase.BASELINE), phase_path(Phase.PREPARE))
    assert row(out, "shim-installer").startswith("| create | DaemonSet wasm-shim-system/")
    assert row(out, "target-pool-spinpool").startswith("| create | AgentPool spinpool")
    risks = out.split("#### Risks")[1].split("#### Changes")[0]
    assert "containerd restarts" in risks
    assert "`wasm-migration.io/shim=containerd-shim-spin` (pool(s) spinpool)" in risks


def test_cutover_scales_legacy_to_zero(capsys):
    _, out = run_diff(capsys, phase_path(Phase.PARALLEL, 50), phase_path(Phase.CUTOVER))
    line = row(out, "shop/orders-api/legacy-replicas")
    assert (
        line.startswith("| update | Deployment shop/orders-api (patch)") and "`spec.replicas`: 3 → 0" in line
    )
    assert "shop/orders-api/legacy-deployment" not in out  # the adopted Deployment itself never changes
    risks = out.split("#### Risks")[1].split("#### Changes")[0]
    assert "Replicas drop to zero" in risks
    for name in ("web/hello-spin", "shop/orders-api", "shop/inventory"):
        assert f"`{name}/legacy-replicas`" in risks
    assert (
        "- `shop/orders-api` (weight 50% → 100%): Gateway gateway-system/public shop.contoso.com/orders "
        "50% → 100%; ClusterIP shop/orders-api 0% → 100%"
    ) in out
    assert "<details><summary>update Deployment shop/orders-api (patch)" in out
    assert "-  replicas: 3\n+  replicas: 0" in out


def test_decommission_deletes_pool_and_prints_unprotect_lines(capsys):
    _, out = run_diff(capsys, phase_path(Phase.CUTOVER), phase_path(Phase.DECOMMISSION), "--stack", "prod")
    assert row(out, "legacy-pool-wasipool").startswith("| delete | AgentPool wasipool")
    assert "the WASI pool is deleted" in out and "**Irreversible:**" in out
    assert (
        "pulumi state unprotect 'urn:pulumi:prod::aks-wasm-migration::aks-wasm-migration:index:"
        "MigrationPhase$aks-wasm-migration:index:LegacyWasiPool$azure-native:containerservice:AgentPool"
        "::legacy-pool-wasipool'"
    ) in out
    assert (
        "pulumi state unprotect 'urn:pulumi:prod::aks-wasm-migration::aks-wasm-migration:index:"
        "MigrationPhase$aks-wasm-migration:index:LegacyWorkload$kubernetes:apps/v1:Deployment"
        "::shop/orders-api/legacy-deployment'"
    ) in out
    assert out.count("pulumi state unprotect '") == 4
    # The replicas patches go with their Deployments and are retained: no relinquish, no pods back.
    assert row(out, "web/hello-spin/legacy-replicas").endswith("| retained: its fields stay as they are |")


def test_stack_defaults_to_a_placeholder(capsys):
    _, out = run_diff(capsys, phase_path(Phase.CUTOVER), phase_path(Phase.DECOMMISSION))
    assert "pulumi state unprotect 'urn:pulumi:<stack>::" in out


def test_handler_change_is_a_replace_forced_by_handler(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    changed = copy.deepcopy(raw)
    changed["shim"]["handler"] = "spin-v2"
    target = write_stack(tmp_path / "handler.yaml", changed)
    _, out = run_diff(capsys, phase_path(Phase.PARALLEL, 50), target)
    assert row(out, "shim-runtime-class") == (
        "| replace | RuntimeClass wasm-spin | `shim-runtime-class` | forced by `handler` |"
    )
    assert row(out, "shim-installer").startswith("| update | DaemonSet")
    risks = out.split("#### Risks")[1]
    assert "rolls the shim installer" in risks and "deleted first, then created" in risks


def test_pool_vm_size_change_is_a_replace(tmp_path, capsys):
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["targetPools"][0]["vmSize"] = "Standard_D8s_v5"
    _, out = run_diff(capsys, phase_path(Phase.PARALLEL, 50), write_stack(tmp_path / "vm.yaml", raw))
    assert row(out, "target-pool-spinpool").endswith("| forced by `vmSize` |")
    risks = out.split("#### Risks")[1]
    assert "**Refused:** a node pool cannot change these in place" in risks
    assert "AgentPool spinpool (`target-pool-spinpool`): `vmSize`" in risks
    assert "deleted first" not in risks  # no in-place delete-then-create is planned


def test_traffic_shows_the_share_each_entry_point_gives(tmp_path, capsys):
    _, out = run_diff(capsys, phase_path(Phase.PARALLEL, 0), phase_path(Phase.PARALLEL, 50))
    lines = out.split("**Traffic to new pods:**")[1].split("#### Risks")[0].strip().splitlines()[2:]
    assert lines == [
        "- `web/hello-spin` (weight 0% → 50%): LoadBalancer web/hello-spin and ClusterIP web/hello-spin "
        "0% → 50%",
        "- `shop/orders-api` (weight 0% → 50%): Gateway gateway-system/public shop.contoso.com/orders "
        "0% → 50%; ClusterIP shop/orders-api 0% → 0% (bypasses the split of Gateway gateway-system/public "
        "shop.contoso.com/orders, which covers only requests through it; Service shop/orders-api spreads "
        "requests over 3 ready pods, 0 of them new, as kube-proxy picks a pod)",
        "- `shop/inventory` (weight 0% → 50%): ClusterIP shop/inventory 0% → 50%",
    ]
    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    raw["traffic"] = {"weight": 95}
    _, out = run_diff(capsys, phase_path(Phase.PARALLEL, 50), write_stack(tmp_path / "w.yaml", raw))
    assert (
        "- `web/hello-spin` (weight 50% → 95%): LoadBalancer web/hello-spin and ClusterIP web/hello-spin "
        "50% → 50% (Service web/hello-spin spreads requests over 4 ready pods, 2 of them new, as kube-proxy "
        "picks a pod, not a weight: the legacy pods keep serving until cutover takes them away, so new ones "
        "can only be added beside them; a \\`gateway:\\` splits exactly)"
    ) in out
    assert "Gateway gateway-system/public shop.contoso.com/orders 50% → 95%;" in out


def test_no_change(capsys):
    _, out = run_diff(capsys, phase_path(Phase.PARALLEL, 50), phase_path(Phase.PARALLEL, 50))
    assert "No resource changes." in out and "None found." in out


def many_workloads(project_dir: Path, count: int, phase: str, weight: int = 50) -> Path:
    raw = load_raw(phase_path(Phase.BASELINE))
    source = (ROOT / "manifests/legacy/web/hello-spin.yaml").read_text()
    workloads = []
    for index in range(count):
        name = f"app-{index:03d}"
        manifest = project_dir / f"{name}.yaml"
        manifest.write_text(source.replace("hello-spin", name))
        workload = copy.deepcopy(raw["workloads"][0])
        workload.update(name=name, manifest=str(manifest.relative_to(ROOT)))
        workloads.append(workload)
    # Without verification, so every changed Deployment and Service still fits one row each.
    raw.update(workloads=workloads, phase=phase, traffic={"weight": weight}, verification={"enabled": False})
    return write_stack(project_dir / f"{phase}.yaml", raw)


def test_output_stays_under_the_limit_and_says_what_was_left_out(project_dir, capsys):
    source = many_workloads(project_dir, 60, "parallel", weight=0)
    target = many_workloads(project_dir, 60, "cutover")
    code, out = run_diff(capsys, source, target)
    assert code == 0
    assert len(out) < 60_000
    assert "Left out to stay under 60,000 characters" in out
    # Every legacy patch's diff is in: they come first. The table is grouped to leave them room.
    diffs = out.split("#### Changes per resource")[1]
    for index in range(60):
        assert f"(<code>web/app-{index:03d}/legacy-replicas</code>)</summary>" in diffs
    assert "| update | DeploymentPatch | 60 | see diffs |" in out
    assert "| update | Deployment | 60 | see diffs |" in out
    assert "`web/app-059/legacy-replicas`" in out.split("#### Risks")[1]
    code, full = run_diff(capsys, source, target, "--max-chars", "0")
    assert len(full) > 60_000 and "Left out" not in full


@pytest.mark.parametrize("phase", [Phase.BASELINE, Phase.PARALLEL, Phase.CUTOVER])
def test_a_workload_whose_dashed_name_matches_another_is_never_paired_with_it(project_dir, capsys, phase):
    """`web-api/orders` and `web/api-orders` once shared every Pulumi name, so adding the second showed as
    updates of the first (`metadata.name` orders -> api-orders). Now it is only creates, and removing it
    only deletes."""
    orders = Spec("web-api", "orders", "orders", gateway=True)
    twin = Spec("web", "api-orders", "api-orders", gateway=True)
    # The alert rules' namespace lists, and the admission policy's exemptions (every legacy workload's
    # pods in cutover), would change, rightly: both are per cluster, not per workload.
    off = {"alerts": {"mode": "off"}, "admissionPolicy": {"enabled": False}}
    one = write_stack(project_dir / "one.yaml", {**raw_with(project_dir, [orders], phase), **off})
    both = write_stack(project_dir / "both.yaml", {**raw_with(project_dir, [orders, twin], phase), **off})
    for source, target, action in ((one, both, "create"), (both, one, "delete")):
        code, out = run_diff(capsys, source, target)
        assert code == 0
        rows = [line for line in out.split("#### Risks")[0].splitlines() if line.startswith("| ")][2:]
        assert rows, out
        for line in rows:
            assert line.startswith(f"| {action} |"), line
            assert "web-api" not in line, line  # nothing of the first workload moves
            assert "web/api-orders/" in line or "`verify-script-web`" in line, line


def test_bad_input(tmp_path, capsys):
    assert main(["diff", str(tmp_path / "nope.yaml"), str(phase_path(Phase.BASELINE))]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("config: [unclosed\n")
    assert main(["diff", str(phase_path(Phase.BASELINE)), str(bad)]) == 2
    assert "is not valid YAML" in capsys.readouterr().err
    raw = load_raw(phase_path(Phase.BASELINE))
    raw["phase"] = "halfway"
    assert main(["diff", str(phase_path(Phase.BASELINE)), str(write_stack(tmp_path / "p.yaml", raw))]) == 1
    assert "phase" in capsys.readouterr().err


def test_cutover_says_the_verification_gates_the_legacy_changes(capsys):
    _, out = run_diff(capsys, phase_path(Phase.PARALLEL, 50), phase_path(Phase.CUTOVER))
    risks = out.split("#### Risks")[1].split("#### Changes")[0]
    assert "Gated by verification:" in risks
    for job in ("web/hello-spin-verify", "shop/orders-api-verify", "shop/inventory-verify"):
        assert f"Job {job}" in risks
    assert row(out, "web/hello-spin/verify-job").endswith("| forced by `spec.template` |")
    assert "the old Job is deleted and the check runs again" in risks
    _, back = run_diff(capsys, phase_path(Phase.CUTOVER), phase_path(Phase.PARALLEL, 50))
    assert "Gated by verification" not in back


def _in_namespace(text: str, old: str, new: str) -> str:
    changed = text.replace(f"namespace: {old}\n", f"namespace: {new}\n")
    changed = changed.replace(f'"namespace":"{old}"', f'"namespace":"{new}"')
    changed = changed.replace(f"- {old}\n", f"- {new}\n")  # a ServiceMonitor's matchNames
    assert changed != text
    return changed


def ten_namespaces(project_dir: Path, phase: str) -> Path:
    """The reference hello-spin and orders-api (behind a Gateway) and lb50's HPA-scaled storefront, each
    in ten namespaces: thirty workloads with verification on, as a real cluster of ten teams."""
    reference = load_raw(phase_path(Phase.BASELINE))
    hello, orders = reference["workloads"][0], reference["workloads"][1]
    lb50 = ROOT / "tests/fixtures/environments/lb50"
    store = load_raw(lb50 / "Pulumi.lb50.yaml")["workloads"][0]
    workloads = []
    for index in range(10):
        namespace = f"team-{index}"
        for entry, source, old in (
            (hello, ROOT / hello["manifest"], "web"),
            (orders, ROOT / orders["manifest"], "shop"),
            (store, lb50 / store["manifest"], "checkout"),
        ):
            manifest = project_dir / f"{namespace}-{entry['name']}.yaml"
            manifest.write_text(_in_namespace(source.read_text(), old, namespace))
            workload = copy.deepcopy(entry)
            workload.update(namespace=namespace, manifest=str(manifest.relative_to(ROOT)))
            if "gateway" in workload:
                workload["gateway"]["hostnames"] = [f"{namespace}.{entry['name']}.contoso.com"]
            workloads.append(workload)
    raw = copy.deepcopy(reference)
    raw.update(workloads=workloads, phase=phase)
    raw["traffic"] = {"weight": 10, "steps": [10, 50, 90]}
    return write_stack(project_dir / f"{phase}.yaml", raw)


@pytest.mark.parametrize(
    ("before", "after", "patches"), [("prepare", "parallel", 30), ("parallel", "cutover", 30)]
)
def test_with_ten_namespaces_every_legacy_and_traffic_change_is_in_the_comment(
    project_dir, capsys, before, after, patches
):
    source, target = ten_namespaces(project_dir, before), ten_namespaces(project_dir, after)
    code, out = run_diff(capsys, source, target)
    assert code == 0 and len(out) < 60_000
    # The model: from the two desired states, what a reviewer must see. Legacy capacity and selectors
    # are the field-level patches on adopted objects; the traffic split is the HTTPRoutes' weights.
    old, new = load(source).state.by_name(), load(target).state.by_name()
    must = [
        spec
        for name, spec in new.items()
        if (spec.is_patch or spec.inputs.get("kind") == "HTTPRoute")
        and (name not in old or old[name].inputs != spec.inputs)
    ]
    # prepare -> parallel: every legacy patch starts waiting for its pods on the way back from cutover;
    # parallel -> cutover: every legacy patch takes its pods away.
    assert len([s for s in must if s.is_patch]) >= patches and len([s for s in must if not s.is_patch]) == 20
    diffs = out.split("#### Changes per resource")[1]
    for spec in must:
        assert f"(<code>{spec.name}</code>)</summary>" in diffs, spec.name
    # Every workload's traffic line, and the scripts as digest and size only.
    for index in range(10):
        for name in ("hello-spin", "orders-api", "storefront"):
            assert f"- `team-{index}/{name}` (weight " in out
    # What did not fit is named, by section.
    assert "_Left out to stay under 60,000 characters" in out and "Everything else: " in out
    # Reviewer's order: legacy before traffic before new Deployments before Services before the rest.
    headings = [line for line in diffs.splitlines() if line.startswith("##### ")]
    assert headings[:2] == ["##### Legacy capacity and selectors", "##### Traffic split"]


def test_scripts_show_as_digest_and_size_with_the_command_that_prints_them(capsys):
    source, target = phase_path(Phase.PREPARE), phase_path(Phase.PARALLEL, 10)
    _, out = run_diff(capsys, source, target, "--max-chars", "0")
    script = next(s for s in load(target).state.resources if s.name == "verify-script-web")
    text = script.inputs["data"]["verify.py"]
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    block = out.split("(<code>verify-script-web</code>)</summary>")[1].split("</details>")[0]
    assert f"verify.py: '<opaque: sha256 {digest}, {len(text.encode()):,} bytes" in block
    assert text.splitlines()[5] not in out  # no line of the script itself
    assert f"`python -m migrate render {target} --section kubernetes` prints it in full" in block


def test_only_values_holding_long_strings_or_subclasses_are_copied_to_be_written():
    """_opaque hands back what holds nothing to hide as it is, and a copy, plain and hidden, of the rest."""
    from migrate.diff import OPAQUE_CHARS, _opaque

    class Labels(dict):
        pass

    plain = {"a": [{"b": "x" * OPAQUE_CHARS}, 1.5, None], "c": "one\ntwo"}
    assert _opaque(plain) == (plain, False) and _opaque(plain)[0] is plain
    long = {"a": [{"b": "x" * (OPAQUE_CHARS + 1)}], "c": {"d": "e"}}
    hidden, found = _opaque(long)
    assert found and hidden["a"][0]["b"].startswith("<opaque: sha256 ") and hidden["c"] == {"d": "e"}
    odd = {"labels": Labels(app="x"), "items": [1]}
    copied, found = _opaque(odd)
    assert not found and copied == odd and type(copied["labels"]) is dict


COUNTS = re.compile(
    r"(?P<create>\d+) to create, (?P<update>\d+) to update, (?P<replace>\d+) to replace, "
    r"(?P<delete>\d+) to delete(, (?P<reexport>\d+) adopted read-only and re-exported)?\. "
    r"The target phase declares (?P<target>\d+) resources: (?P<new>\d+) new, (?P<changed>\d+) changed, "
    r"((?P<reexported>\d+) re-exported, )?(?P<unchanged>\d+) unchanged; (?P<deleted>\d+) of the source "
    r"phase's (?P<source>\d+) are deleted\."
)


@pytest.mark.parametrize(
    ("source", "target"),
    [*BOTH_WAYS, (phase_path(Phase.BASELINE), phase_path(Phase.CUTOVER))],
    ids=lambda p: p.stem.split(".")[1],
)
def test_header_counts_add_up(source, target, capsys):
    _, out = run_diff(capsys, source, target)
    found = COUNTS.search(out)
    assert found, out[:600]
    n = {key: int(value or 0) for key, value in found.groupdict().items()}
    assert n["target"] == len(load(target).state.resources)
    assert n["source"] == len(load(source).state.resources)
    assert n["new"] == n["create"] and n["changed"] == n["update"] + n["replace"]
    assert n["deleted"] == n["delete"] and n["reexported"] == n["reexport"]
    assert n["target"] == n["new"] + n["changed"] + n["reexported"] + n["unchanged"]
    assert n["source"] == n["target"] - n["new"] + n["deleted"]
    rows = [line for line in out.split("#### Risks")[0].splitlines() if line.startswith("| ")][2:]
    assert len(rows) == n["create"] + n["update"] + n["replace"] + n["delete"] + n["reexport"]


def test_a_skipped_phase_says_so_on_the_first_line(capsys):
    _, out = run_diff(capsys, phase_path(Phase.BASELINE), phase_path(Phase.CUTOVER))
    first = out.splitlines()[0]
    assert first.startswith("> ⚠️ Warning: **this is not one step**, and `python -m migrate check --from`")
    assert "skips prepare, parallel" in first
    assert main(["check", str(phase_path(Phase.CUTOVER)), "--from", str(phase_path(Phase.BASELINE))]) == 1


def test_the_traffic_section_fits_its_share_and_counts_the_rest():
    before, after = load(phase_path(Phase.PARALLEL, 50)).state, load(phase_path(Phase.CUTOVER)).state
    full = traffic_section(before, after)
    lines = [line for line in full.splitlines() if line.startswith("- `")]
    assert len(lines) == 3
    cut = traffic_section(before, after, limit=len(lines[0]) + 5)
    assert lines[0] in cut and lines[1] not in cut
    assert "- … and 2 more workloads, left out to fit the comment" in cut


def test_the_container_target_says_what_it_costs_and_installs_no_shim(capsys, project_dir):
    """With every workload in a Spin container, prepare creates no installer (no containerd restart) and
    the diff names each new Deployment whose pods run their own Spin."""

    def container(phase: Phase) -> dict[str, Any]:
        raw = load_raw(phase_path(phase))
        return {**raw, "target": "container", "container": {"spinImage": {"digest": "sha256:" + "cd" * 32}}}

    before = write_stack(project_dir / "Pulumi.c.1-baseline.yaml", container(Phase.BASELINE))
    after = write_stack(project_dir / "Pulumi.c.2-prepare.yaml", container(Phase.PREPARE))
    code, out = run_diff(capsys, before, after)
    assert code == 0, out
    risks = out.split("#### Risks")[1].split("#### Changes")[0]
    assert "containerd restarts" not in risks and "DaemonSet" not in out
    (item,) = [line for line in risks.splitlines() if line.startswith("- Spin in a container")]
    assert "more memory and a longer cold start" in item
    # prepare creates the canary of web/hello-spin only: it is the one named
    named = risks.split(item)[1].split("\n- ")[0]
    assert "web/hello-spin/wasm-deployment" in named and "orders-api" not in named


def test_the_aci_target_says_what_container_groups_cannot_do(capsys, project_dir):
    """Where the groups are created the diff names each and what ACI cannot do that a pod can."""

    def on_aci(phase: Phase, weight: int | None = None) -> dict[str, Any]:
        raw = load_raw(phase_path(phase, weight))
        subnet = (
            "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-prod/providers/"
            "Microsoft.Network/virtualNetworks/vnet-aks/subnets/aci"
        )
        return {
            **raw,
            "target": "aci",
            "container": {"spinImage": {"digest": "sha256:" + "cd" * 32}},
            "aci": {"location": "westeurope", "subnetId": subnet},
        }

    before = write_stack(project_dir / "Pulumi.a.3a-parallel-0.yaml", on_aci(Phase.PARALLEL, 0))
    after = write_stack(project_dir / "Pulumi.a.3c-parallel-50.yaml", on_aci(Phase.PARALLEL, 50))
    code, out = run_diff(capsys, before, after)
    assert code == 0, out
    risks = out.split("#### Risks")[1].split("#### Changes")[0]
    (item,) = [line for line in risks.splitlines() if line.startswith("- Azure Container Instances")]
    assert "no split inside a group" in item and "another IP" in item
    named = risks.split(item)[1].split("\n- ")[0]
    assert "ContainerGroup web-hello-spin-1" in named  # parallel 50% adds hello-spin's second copy
    assert row(out, "web/hello-spin/wasm-joined-0").startswith("| create | EndpointSlice web/hello-spin-aci")


def _every_leaf(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _every_leaf(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _every_leaf(item, f"{prefix}[{index}]", out)
    else:
        out[prefix] = value


def _listed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """changed_paths as it was: every leaf of both listed, whatever the inputs."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _every_leaf(before, "", old)
    _every_leaf(after, "", new)
    return sorted(path for path in old.keys() | new.keys() if old.get(path, ...) != new.get(path, ...))


_NAN = float("nan")
_LEAVES = st.sampled_from([1, 1.0, True, 0, 0.0, -0.0, _NAN, None, "1", "a", "", [], {}])
_KEYS = st.sampled_from(["a", "b", "a.b", "a[0]", "1"]) | st.sampled_from([1, True])
_TREES = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(_KEYS, _TREES, max_size=3), st.data())
def test_changed_paths_are_what_listing_every_leaf_finds(before, data):
    """The shortcut for inputs that are the same data (no leaf listed) answers what listing them does,
    for equal values of other types (1, 1.0, True), NaN (unequal to itself), -0.0, colliding dotted keys
    in another order, and a copy, the same object, or another tree."""
    after = data.draw(
        st.sampled_from([copy.deepcopy(before), before, dict(reversed(list(before.items())))])
        | st.dictionaries(_KEYS, _TREES, max_size=3)
    )
    from migrate.diff import changed_paths

    assert changed_paths(before, after) == _listed(before, after)


def test_blocks_built_while_waiting_are_built_in_order_and_are_the_blocks_asked_for_later():
    from migrate.diff import _Blocks, compute_changes, resource_diff

    before, after = load(PHASE_FILES[0]), load(PHASE_FILES[-1])
    changes = compute_changes(before.state, after.state)
    assert len(changes) > 3
    phases, files = (before.state.phase, after.state.phase), ("a.yaml", "b.yaml")
    blocks = _Blocks(changes, *phases, files)
    answers = iter([True, True, True, False])  # the other process answers after three blocks
    blocks.build_while(lambda: next(answers))
    assert sorted(blocks.built) == [0, 1, 2]
    for index, change in enumerate(changes):
        assert blocks[index] == resource_diff(change, *phases, files)


def _edge_changes() -> list[Any]:
    """Changes whose two dumps may be equal or are empty on one side: NaN on both sides and colliding
    dotted keys in another order (each a changed path that dumps alike), a type changed over the same
    inputs, a create, a delete and a plain update."""
    from components.desired.spec import ResourceSpec
    from migrate.diff import classify

    def spec(inputs: dict[str, Any], kind: str = "kubernetes:apps/v1:Deployment") -> ResourceSpec:
        return ResourceSpec(type=kind, name="web/app", component="c", inputs=inputs)

    nan = {"kind": "Deployment", "spec": {"threshold": float("nan")}}
    same = {"kind": "Deployment", "spec": {"replicas": 2}}
    dotted = {"kind": "Deployment", "a.b": 1, "a": {"b": 2}}  # two leaves named `a.b`
    changes = [
        classify(spec(nan), spec(copy.deepcopy(nan))),
        classify(spec(dotted), spec(dict(reversed(list(dotted.items()))))),  # equal data, other order
        classify(spec(same), spec(same, "kubernetes:apps/v1:DeploymentPatch")),
        classify(None, spec(same)),
        classify(spec(same), None),
        classify(spec(same), spec({"kind": "Deployment", "spec": {"replicas": 3}})),
    ]
    assert [change.action for change in changes] == [
        "update",
        "update",
        "replace",
        "create",
        "delete",
        "update",
    ]
    assert changes[1].paths == ("a.b",)  # listed as changed, yet both sides dump alike
    return changes


@pytest.mark.parametrize("pair", [*BOTH_WAYS, (PHASE_FILES[0], PHASE_FILES[-1])], ids=str)
def test_no_block_is_shorter_than_the_least_length_that_decides_it_cannot_fit(pair):
    """The comment skips, unbuilt, a block whose least length does not fit: that length must never
    exceed the block's (else a block that fits would be left out), on every step of the example stacks
    and on changes whose dumps may be equal."""
    from migrate.diff import _Blocks, compute_changes

    before, after = (load(path) for path in pair)
    for changes in (compute_changes(before.state, after.state), _edge_changes()):
        blocks = _Blocks(changes, before.state.phase, after.state.phase, ("a.yaml", "b.yaml"))
        least = [blocks.at_least(index) for index in range(len(changes))]
        built = [len(blocks[index]) for index in range(len(changes))]
        assert all(low <= length for low, length in zip(least, built, strict=True)), (least, built)


def test_a_nearly_full_comment_builds_no_block_it_has_no_room_for(monkeypatch):
    """A large step (here 60 Deployments scaled 2 -> 0, as a cutover does to legacy sides) fills the
    comment after ten blocks; with room left for half a block, no other block is built (its wrapper,
    file lines and hunk already do not fit), and the comment is the one building every block gives."""
    import migrate.diff as diff
    from components.desired.spec import ResourceSpec

    def spec(index: int, replicas: int) -> ResourceSpec:
        name = f"app-{index:02d}"
        inputs = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "web"},
        }
        return ResourceSpec(
            "kubernetes:apps/v1:Deployment", f"web/{name}", "c", {**inputs, "spec": {"replicas": replicas}}
        )

    changes = [diff.classify(spec(index, 2), spec(index, 0)) for index in range(60)]
    phases, files = ("parallel", "cutover"), ("a.yaml", "b.yaml")
    sizes = [len(diff.resource_diff(change, *phases, files)) for change in changes]
    heading = f"\n#### Changes per resource\n\n##### {diff.SECTIONS[changes[0].section]}\n\n"
    # Ten blocks fit, then room for half of one: less than any block's wrapper, file lines and hunk.
    budget = len(heading) + sum(sizes[:10]) + diff._RESERVE + sizes[10] // 2

    class Every(diff._Blocks):  # no least length: every block built to find it does not fit
        def at_least(self, index: int) -> int:
            return 0

    expected = diff._with_resource_diffs("", changes, Every(changes, *phases, files), budget, "rows")
    built: list[str] = []
    real = diff.resource_diff
    monkeypatch.setattr(diff, "resource_diff", lambda *args: built.append(args[0].name) or real(*args))
    out = diff._with_resource_diffs("", changes, diff._Blocks(changes, *phases, files), budget, "rows")
    assert out == expected and out.count("<details>") == 10
    assert built == [change.name for change in changes[:10]]


@pytest.mark.parametrize("edge", [-1, 0, 1])
def test_the_table_is_grouped_exactly_when_one_row_per_change_is_too_long(edge):
    """Grouped when the full table is over half the budget or leaves no room for the rest: decided while
    its rows are written (stopping early), and the same at the exact boundary as with the whole table."""
    from migrate.diff import _table, compute_changes, summary_table

    before, after = load(PHASE_FILES[0]), load(PHASE_FILES[-1])
    changes = compute_changes(before.state, after.state)
    full = summary_table(changes)
    assert full is not None
    for budget, rest in [(2 * len(full) + edge, 0), (10 * len(full), 10 * len(full) - len(full) - edge)]:
        grouped = len(full) > budget // 2 or len(full) + rest > budget
        assert (_table(changes, budget, rest) == full) is not grouped, (budget, rest)
