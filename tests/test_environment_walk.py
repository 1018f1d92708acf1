"""Every messy cluster under tests/fixtures/clusters walked from what `migrate init` writes for it,
with the decisions its report asks a person to make, through every step of the walk and every way
back, under Pulumi mocks. What each step does is judged by models that do not use the code under test:

- the cluster as it is: the fixture's whole `kubectl get -A -o yaml` export and `node-pools.json`, read
  here (which Deployments run Wasm on a WASI pool, owner chains and what garbage collection takes with an
  object, label selectors with their expressions, the architecture of a VM size);
- what the engine does with the registrations of two steps: tests/transition_simulator.py (Ready pods
  of each entry point at every moment, pods that may exist at once, retained patches) and
  tests/traffic_simulator.py (the share of requests that reaches new pods);
- what `migrate check` says is taken as its verdict only: allowed or refused, and that it finds nothing
  wrong in any step of the walk.

A step's config is what `migrate.init.planner.step_config` writes for it (the walk a person applies); the
runs are cached per environment and step, as each takes about half a second."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.analysis.traffic import analysed_state
from components.core.config import ConfigError, Shim
from components.loading import load_migration, raw_config_from_stack_file
from migrate.__main__ import main
from migrate.check import check, transition_capacity_problems, transition_problems
from migrate.init.planner import step_config, walk
from migrate.state import Loaded
from tests.admission import admit, as_created, from_template, policy_of
from tests.conftest import ROOT
from tests.traffic_simulator import POOL, Cluster, reported
from tests.transition_simulator import JOB, STOP_GATE_SETTINGS, Transition, entries, pods_at_rest

CLUSTERS = Path(__file__).resolve().parent / "fixtures" / "clusters"
ENVIRONMENTS = sorted(path.name for path in CLUSTERS.iterdir() if path.is_dir())
# Each environment with its new copies on the shim (as init proposes), all in Spin containers (as init
# proposes when the cluster is AKS Automatic, whose Safeguards refuse the shim's installer), and mixed
# (every other workload in a container), and in Azure Container Instances where ACI can run the workload
# (the rest on the shim): `<environment>@<target>`.
AUTOMATIC = ROOT / "tests" / "fixtures" / "azure" / "aks-automatic.json"
TARGET_VARIANTS = ("container", "mixed", "aci")
SPIN_DIGEST = "sha256:" + "5e" * 32  # the walk never pulls: any well-formed index digest
VARIANTS = [*ENVIRONMENTS, *(f"{env}@{target}" for target in TARGET_VARIANTS for env in ENVIRONMENTS)]
STEPS = ("baseline", "prepare", "parallel 0%", "parallel 50%", "parallel 100%", "cutover", "decommission")
BEFORE_SERVING = ("baseline", "prepare", "parallel 0%")
SERVING_ALL = ("cutover", "decommission")
PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas"

# The transitions a person may apply, and those `migrate check` must refuse (with why it must).
FORWARD = list(pairwise(STEPS))
BACK = [(later, earlier) for earlier, later in pairwise(STEPS)]
TO_BASELINE = [(step, "baseline") for step in STEPS[2:]]
SKIPS = [("prepare", "parallel 50%"), ("parallel 50%", "prepare"), ("cutover", "parallel 50%")]
# Each refused one: why it must be, and what check's refusal says.
REFUSED = {
    ("decommission", "cutover"): (
        "the WASI pools and legacy Deployments are gone",
        "nothing to roll back to",
    ),
    ("decommission", "baseline"): (
        "the WASI pools and legacy Deployments are gone",
        "nothing to roll back to",
    ),
    # Baseline registers no replicas patch: cutover's (0, retained on delete) keeps the legacy pods at
    # 0 while the new Deployment is deleted. Walk (a): only `phase` changes, the weight stays.
    ("cutover", "baseline"): ("the legacy pods stay at 0 and the new ones are deleted", "may reach only 0"),
    ("prepare", "parallel 50%"): ("new pods are checked outside traffic first", "enters parallel at 50%"),
    ("parallel 50%", "prepare"): (
        "parallel is left for prepare from 0 %",
        "leaves parallel for prepare at 50%",
    ),
    ("cutover", "parallel 50%"): (
        "the new side is lowered before legacy pods are back",
        "returns to parallel at 50%",
    ),
}
TRANSITIONS = list(dict.fromkeys([*FORWARD, *BACK, *TO_BASELINE, *SKIPS]))

# The decisions the reports ask for, made as a person who knows these apps would make them.
PROBE_PATHS = {
    # both run spin-rust-hello (AKS doc's spin.yaml, deislabs' workload.yaml): it answers /hello, / is 404
    ("kwasm", "default/wasm-spin"): "/hello",
    ("kwasm", "legacy/wasm-spin"): "/hello",
    # no probe in its template; its team's other app, invoice-api, serves /healthz and so does this one
    ("paused", "billing/invoice-export"): "/healthz",
}


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _identity(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: matchLabels and matchExpressions all hold; an empty one selects
    everything, a missing one nothing (policy/v1 PodDisruptionBudget, apps/v1 Deployment)."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        holds = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not holds:
            return False
    return True


def service_selects(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """A Service's selector: a plain map, every pair present; an empty or missing one selects no pod
    (the endpoints controller leaves such a Service alone)."""
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


# --- the cluster as exported --------------------------------------------------------------------------


@dataclass
class ClusterExport:
    """The fixture's export and node pools, read here with PyYAML and json."""

    objects: list[dict[str, Any]]
    pools: list[dict[str, Any]]

    @classmethod
    def of(cls, env: str) -> ClusterExport:
        export = yaml.safe_load((CLUSTERS / env / "export.yaml").read_text())
        return cls(export["items"], json.loads((CLUSTERS / env / "node-pools.json").read_text()))

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    @property
    def wasi_pools(self) -> list[str]:
        return sorted(p["name"] for p in self.pools if p["workloadRuntime"] == "WasmWasi")

    @property
    def cluster(self) -> tuple[str, str, str]:
        """(subscription, resource group, cluster) from a pool's ARM id."""
        parts = self.pools[0]["id"].split("/")
        return parts[2], parts[4], parts[8]

    def nodes_of(self, pools: Iterable[str]) -> set[str]:
        wanted = set(pools)
        return {
            n["metadata"]["name"]
            for n in self.kind("Node")
            if n["metadata"]["labels"].get("kubernetes.azure.com/agentpool") in wanted
        }

    @cached_property
    def by_uid(self) -> dict[str, dict[str, Any]]:
        return {o["metadata"]["uid"]: o for o in self.objects}

    def owner(self, obj: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object's controller (the ownerReference with `controller: true`)."""
        refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")]
        return self.by_uid.get(refs[0]["uid"]) if refs else None

    def top(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The top of an object's controller chain (a Pod's Deployment, a bare Pod itself)."""
        while (up := self.owner(obj)) is not None and up["kind"] != "Node":
            obj = up
        return obj

    def nodes_matching(self, selector: Mapping[str, str]) -> set[str]:
        return {
            n["metadata"]["name"]
            for n in self.kind("Node")
            if all(n["metadata"]["labels"].get(k) == v for k, v in selector.items())
        }

    def class_nodes(self, runtime_class: Mapping[str, Any], pod: Mapping[str, Any] | None = None) -> set[str]:
        """The nodes a RuntimeClass's node selector (merged over a pod's own) lets its pods on."""
        return self.nodes_matching(
            {
                **((pod or {}).get("nodeSelector") or {}),
                **((runtime_class.get("scheduling") or {}).get("nodeSelector") or {}),
            }
        )

    def wasm_on_wasi(self) -> set[str]:
        """`namespace/name` of each Deployment whose pods run Wasm on WASI nodes only: its template's
        RuntimeClass has a Spin or SpiderLightning handler, and the nodes that class's node selector
        (with the template's own) lets in are WASI pool nodes, at least one."""
        wasi = self.nodes_of(self.wasi_pools)
        classes = {c["metadata"]["name"]: c for c in self.kind("RuntimeClass")}
        found = set()
        for deployment in self.kind("Deployment"):
            pod = deployment["spec"]["template"]["spec"]
            runtime = classes.get(pod.get("runtimeClassName", ""))
            if runtime is None or not re.match(r"^(spin|slight)\b", runtime["handler"]):
                continue
            nodes = self.class_nodes(runtime, pod)
            if nodes and nodes <= wasi:
                found.add("/".join(_key(deployment)))
        return found

    def legacy_pod_labels(self, namespace: str, name: str) -> list[dict[str, str]]:
        """The labels of a Deployment's exported Pods, and its template's (a scaled-to-zero one has no
        Pods; new legacy pods would carry the template's)."""
        deployment = next(d for d in self.kind("Deployment") if _key(d) == (namespace, name))
        found = [dict(deployment["spec"]["template"]["metadata"].get("labels") or {})]
        for pod in self.kind("Pod"):
            if pod["metadata"].get("namespace") == namespace and self.top(pod) is deployment:
                found.append(dict(pod["metadata"].get("labels") or {}))
        return found

    def scaler_selectors(self, namespace: str) -> list[tuple[str, dict[str, Any]]]:
        """Each exported HPA and ScaledObject of the namespace, with the selector of the Deployment it
        scales (the pods whose metrics it reads and whose count it sets)."""
        deployments = {_key(d): d for d in self.kind("Deployment")}
        found = []
        for scaler in [*self.kind("HorizontalPodAutoscaler"), *self.kind("ScaledObject")]:
            if scaler["metadata"]["namespace"] != namespace:
                continue
            target = deployments.get((namespace, scaler["spec"]["scaleTargetRef"]["name"]))
            if target is not None:
                found.append((f"{scaler['kind']} {scaler['metadata']['name']}", target["spec"]["selector"]))
        return found

    def garbage_collected(self, deleted: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """`deleted` and everything that goes with it: an object all of whose owners are gone
        (Kubernetes' garbage collector), a deleted pool's Nodes, and Pods bound to a gone Node."""
        gone = set(deleted)
        pools = {name for kind, _, name in deleted if kind == "AgentPool"}
        gone |= {("Node", "", node) for node in self.nodes_of(pools)}
        by_uid = {uid: _identity(o) for uid, o in self.by_uid.items()}
        changed = True
        while changed:
            changed = False
            for obj in self.objects:
                identity = _identity(obj)
                if identity in gone:
                    continue
                owners = [by_uid.get(r["uid"]) for r in obj["metadata"].get("ownerReferences") or []]
                bound = obj["kind"] == "Pod" and ("Node", "", obj["spec"].get("nodeName")) in gone
                if bound or (owners and all(owner in gone for owner in owners)):
                    gone.add(identity)
                    changed = True
        return gone


def vm_architecture(vm_size: str) -> str:
    """Azure VM size naming: a `p` among the additive features (after the vCPU count) is an Arm-based
    (Ampere Altra) size: Standard_D4ps_v5 is arm64, Standard_D4s_v5 and Standard_D4ds_v5 amd64."""
    features = re.fullmatch(r"Standard_[A-Z]+\d+([a-z]*)_v\d+", vm_size)
    assert features, vm_size
    return "arm64" if "p" in features.group(1) else "amd64"


# --- init, the decisions, the steps and their runs -----------------------------------------------------


@dataclass
class Environment:
    name: str
    cluster: ClusterExport
    out: Path  # where init wrote, inside the project
    report: dict[str, Any]
    raw: dict[str, Any]  # the decided environment file's config, manifest paths from the project root
    undecided: list[str]  # decisions the report asks for that this walk does not make
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, list[Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # the MigrationPhase's, per run
    loads: dict[str, Loaded] = field(default_factory=dict)

    def workload(self, key: str) -> dict[str, Any]:
        return next(w for w in self.raw["workloads"] if f"{w['namespace']}/{w['name']}" == key)

    @property
    def keys(self) -> list[str]:
        return [f"{w['namespace']}/{w['name']}" for w in self.raw["workloads"]]

    def legacy_replicas(self, key: str) -> int:
        namespace, name = key.split("/")
        deployment = next(d for d in self.cluster.kind("Deployment") if _key(d) == (namespace, name))
        return int(deployment["spec"].get("replicas", 1))

    def aci_can_run(self, key: str) -> bool:
        """A plain copy ACI can run: nothing autoscales it, it may run twice, no Dapr sidecar (read from
        the export: an HPA or ScaledObject aimed at it, Recreate or a writable claim, Dapr's annotation)."""
        namespace, name = key.split("/")
        deployment = next(d for d in self.cluster.kind("Deployment") if _key(d) == (namespace, name))
        scaled = any(
            s["metadata"]["namespace"] == namespace and s["spec"]["scaleTargetRef"]["name"] == name
            for s in [*self.cluster.kind("HorizontalPodAutoscaler"), *self.cluster.kind("ScaledObject")]
        )
        annotations = (deployment["spec"]["template"].get("metadata") or {}).get("annotations") or {}
        return not scaled and not self.stop_then_start(key) and annotations.get("dapr.io/enabled") != "true"

    def stop_then_start(self, key: str) -> bool:
        """Never two copies (judged here, not by the loader): a Recreate strategy, or a
        PersistentVolumeClaim volume that is not read-only and that some container mounts writable."""
        namespace, name = key.split("/")
        deployment = next(d for d in self.cluster.kind("Deployment") if _key(d) == (namespace, name))
        spec = deployment["spec"]
        pod = spec["template"]["spec"]
        writable = False
        for volume in pod.get("volumes") or []:
            claim = volume.get("persistentVolumeClaim")
            mounts = [
                m
                for c in pod["containers"]
                for m in c.get("volumeMounts") or []
                if m["name"] == volume["name"]
            ]
            if claim and not claim.get("readOnly") and any(not m.get("readOnly") for m in mounts):
                writable = True
        return (spec.get("strategy") or {}).get("type") == "Recreate" or writable


def run_init(env: str, out: Path, cluster: ClusterExport, *extra: str) -> dict[str, Any]:
    """`migrate init` as a person runs it for this cluster; its report as JSON."""
    subscription, group, name = cluster.cluster
    printed = io.StringIO()
    argv = [
        "init",
        "--kubectl-export",
        str(CLUSTERS / env / "export.yaml"),
        "--node-pools",
        str(CLUSTERS / env / "node-pools.json"),
        "--cluster",
        f"{subscription}/{group}/{name}",
        "--out",
        str(out),
        "--format",
        "json",
        *extra,
    ]
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert main(argv) == 0, env
    return json.loads(printed.getvalue())


def decide(env: str, raw: dict[str, Any], report: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The decisions the report lists, each made explicitly; and those this walk does not know how to
    make (the test of init fails on them; every other test then fails to load the step)."""
    config = copy.deepcopy(raw)
    unknown = []
    for decision in report["decisions"]:
        key = decision["key"]
        index = re.match(r"workloads\[(\d+)\]\.", key)
        workload = config["workloads"][int(index.group(1))] if index else None
        if key == "cluster.kubernetesVersion":
            # check has schemas for 1.31-1.34: the control plane goes to 1.31 first, WASI pools untouched
            config["cluster"]["kubernetesVersion"] = "1.31"
        elif workload is not None and key.endswith(".probe.path"):
            # a route the app serves (PROBE_PATHS says which and why): a guessed one never gets Ready
            path = PROBE_PATHS.get((env, f"{workload['namespace']}/{workload['name']}"))
            if path is None:
                unknown.append(key)
                continue
            workload["probe"] = {**(workload.get("probe") or {}), "path": path}
        elif workload is not None and key.endswith(".daprBeforeServing"):
            # new pods must not consume the app's messages nor take its Dapr Service before they serve
            workload["daprBeforeServing"] = "withoutSidecar"
        elif key == "container.spinImage.digest":
            # the platform team pins the Spin image it mirrored (crane digest of the index)
            config["container"] = {**(config.get("container") or {}), "spinImage": {"digest": SPIN_DIGEST}}
        elif key == "decommission.acknowledgeOtherPods":
            # the team accepts what goes with the pools: each pod the report lists, by the name it gives
            acknowledged = sorted({pod["acknowledge"] for pod in report["otherPods"]})
            config["decommission"] = {
                **(config.get("decommission") or {}),
                "acknowledgeOtherPods": acknowledged,
            }
        else:
            unknown.append(key)
    # alerts.mode stays 'off' as init wrote it: these clusters have no alerting to wire (check warns)
    return config, unknown


ACI = {
    "location": "westeurope",
    "subnetId": "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-net/providers/"
    "Microsoft.Network/virtualNetworks/vnet-aks/subnets/aci",
    "zones": ["1", "2", "3"],
}


def with_target(raw: dict[str, Any], target: str, aci_can_run: Any = None) -> dict[str, Any]:
    """The decided config with every other workload in a Spin container (`mixed`: the shim keeps the
    rest), or in ACI each workload `aci_can_run` says it can (`aci`); `shim` and `container` leave it
    as init proposed."""
    if target in ("shim", "container"):
        return raw
    raw = {**copy.deepcopy(raw), "container": {"spinImage": {"digest": SPIN_DIGEST}}}
    if target == "aci":
        raw["aci"] = ACI
    for index, workload in enumerate(raw["workloads"]):
        if target == "mixed" and index % 2 == 1:
            workload["target"] = "container"
        elif target == "aci" and aci_can_run(f"{workload['namespace']}/{workload['name']}"):
            workload["target"] = "aci"
    return raw


def prepare(variant: str, scratch: Path) -> Environment:
    env, _, target = variant.partition("@")
    cluster = ClusterExport.of(env)
    out = scratch / variant.replace("@", "-")
    extra = ("--aks-cluster", str(AUTOMATIC)) if target == "container" else ()
    report = run_init(env, out, cluster, *extra)
    raw = raw_config_from_stack_file(out / f"stacks/Pulumi.{report['stack']}.yaml")
    # init's note: its paths are relative to --out; the project root reads them under out's path.
    prefix = out.relative_to(ROOT).as_posix()
    for workload in raw["workloads"]:
        workload["manifest"] = f"{prefix}/{workload['manifest']}"
    for key in ("export", "aks", "policyAssignments"):
        if key in raw["cluster"]:
            raw["cluster"][key] = f"{prefix}/{raw['cluster'][key]}"
    decided, undecided = decide(env, raw, report)
    environment = Environment(variant, cluster, out, report, decided, undecided)
    environment.raw = with_target(decided, target or "shim", environment.aci_can_run)
    steps = walk(environment.raw)
    assert [step.label for step in steps] == list(STEPS), env
    for step in steps:
        environment.configs[step.label] = step_config(environment.raw, step)
    return environment


@pytest.fixture(scope="module")
def environments() -> Iterator[Any]:
    """env -> its Environment, each made once: init into a scratch directory inside the project (the
    manifests' paths must resolve under the project root), removed at the end."""
    parent = ROOT / "build" / "tests"
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=parent))
    made: dict[str, Environment] = {}

    def get(env: str) -> Environment:
        if env not in made:
            made[env] = prepare(env, scratch)
        return made[env]

    yield get
    shutil.rmtree(scratch, ignore_errors=True)


def _cache_key(label: str, config: dict[str, Any] | None) -> str:
    return label if config is None else f"{label} {json.dumps(config, sort_keys=True)}"


def registrations(
    environment: Environment, label: str, pulumi_run: Any, config: dict[str, Any] | None = None
) -> list[Any]:
    """What the program registers at a step (or for `config` instead of the step's), cached: custom
    resources only (no stack, providers or components)."""
    cache = _cache_key(label, config)
    if cache not in environment.runs:
        run = pulumi_run(config if config is not None else environment.configs[label])
        environment.runs[cache] = [
            r for r in run.registrations if not r.type.startswith("pulumi:") and ":index:" not in r.type
        ]
        (environment.outputs[cache],) = [
            outputs
            for urn, outputs in run.monitor.outputs.items()
            if urn.endswith("MigrationPhase::migration")
        ]
    return environment.runs[cache]


def loaded(environment: Environment, label: str, config: dict[str, Any] | None = None) -> Loaded:
    """The step's config as `migrate check` loads it (cached)."""
    cache = _cache_key(label, config)
    if cache not in environment.loads:
        raw = config if config is not None else environment.configs[label]
        migration = load_migration(raw)
        state = analysed_state(migration)
        environment.loads[cache] = Loaded(Path(f"{environment.name}/{label}.yaml"), raw, migration, state)
    return environment.loads[cache]


def identity(registration: Any) -> tuple[str, str, str] | None:
    """The cluster object (or AKS pool) a registration stands for: kind, namespace, name."""
    if registration.type == POOL:
        return "AgentPool", "", registration.inputs["agentPoolName"]
    if not registration.type.startswith("kubernetes:"):
        return None
    metadata = registration.inputs.get("metadata") or {}
    kind = registration.type.rsplit(":", 1)[1].removesuffix("Patch")
    return kind, metadata.get("namespace", ""), metadata["name"]


def pre_existing(environment: Environment) -> set[tuple[str, str, str]]:
    objects = {_identity(o) for o in environment.cluster.objects}
    return objects | {("AgentPool", "", p["name"]) for p in environment.cluster.pools}


def new_deployments(regs: list[Any]) -> dict[tuple[str, str], Any]:
    return {_key(r.inputs): r for r in regs if r.type == "kubernetes:apps/v1:Deployment" and not r.import_id}


# --- 1. init, decided: every workload planned, check clean ------------------------------------------------


@pytest.mark.parametrize("env", VARIANTS)
def test_init_and_the_decisions_plan_every_wasm_workload_in_every_step(environments, env):
    environment = environments(env)
    # The stack migrates exactly the Deployments that run Wasm on WASI nodes, by the export's own facts.
    assert set(environment.keys) == environment.cluster.wasm_on_wasi()
    assert environment.undecided == [], "the report asks for decisions this walk does not make"
    # On AKS Automatic init proposes Spin containers, and says why; elsewhere the shim.
    proposed = "container" if env.endswith("@container") else "shim"
    assert environment.report["notes"][0].startswith(f"target {proposed}:"), environment.report["notes"]
    assert sorted(p["name"] for p in environment.raw["legacyPools"]) == environment.cluster.wasi_pools
    for label in STEPS:
        try:
            migration = loaded(environment, label).migration
        except ConfigError as error:
            raise AssertionError(f"{env} {label}: not planned: {error.problems}") from None
        assert [w.config.key for w in migration.workloads] == environment.keys, (env, label)
    # The decommission step confirms the cluster and every WASI pool, by name.
    _, _, cluster = environment.cluster.cluster
    pools = ",".join(p["name"] for p in environment.raw["legacyPools"])
    assert environment.configs["decommission"]["decommission"]["confirm"] == f"{cluster}/{pools}"


@pytest.mark.parametrize("env", VARIANTS)
def test_check_reports_no_problem_in_any_step(environments, env):
    environment = environments(env)
    memo: dict[Any, Any] = {}
    for label in STEPS:
        assert check(loaded(environment, label), memo=memo) == [], (env, label)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_exports_init_wrote_hold_every_service_in_front_of_the_pods(environments, env):
    """The simulators' entry points come from the manifests init wrote: they must be every Service of
    the cluster that selects the workload's legacy pods, or capacity would go unchecked through one."""
    environment = environments(env)
    for workload in environment.raw["workloads"]:
        namespace, name = workload["namespace"], workload["name"]
        pods = environment.cluster.legacy_pod_labels(namespace, name)
        expected = {
            f"Service {namespace}/{s['metadata']['name']}"
            for s in environment.cluster.kind("Service")
            if s["metadata"]["namespace"] == namespace
            and any(service_selects(s["spec"].get("selector"), labels) for labels in pods)
        }
        assert expected and {e.label for e in entries(workload, ROOT)} == expected, (env, name)


# --- 2. at rest in every step ---------------------------------------------------------------------------


def _pods(environment: Environment, regs: list[Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(workload, side, labels) of every pod that runs at rest: the legacy side with the labels its
    exported Pods carry (the program never changes them), the new side with its template's."""
    counts = pods_at_rest(regs)
    found = []
    for key in environment.keys:
        namespace, name = key.split("/")
        legacy = counts.get((namespace, name))
        if legacy is not None and legacy.count > 0:
            found += [
                (key, "legacy", labels) for labels in environment.cluster.legacy_pod_labels(namespace, name)
            ]
        new = counts.get((namespace, f"{name}-spin"))
        if new is not None and new.count > 0:
            found.append((key, "new", dict(new.labels)))
    return found


def _template(registration: Any) -> dict[str, str]:
    return dict(registration.inputs["spec"]["template"]["metadata"].get("labels") or {})


def _pdbs(environment: Environment, regs: Iterable[Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, name, selector) of every PodDisruptionBudget: the exported ones and the registered."""
    found = {
        (
            p["metadata"]["namespace"],
            p["metadata"]["name"],
            json.dumps(p["spec"].get("selector"), sort_keys=True),
        )
        for p in environment.cluster.kind("PodDisruptionBudget")
    }
    for r in regs:
        if r.type == "kubernetes:policy/v1:PodDisruptionBudget":
            found.add((*_key(r.inputs), json.dumps(r.inputs["spec"].get("selector"), sort_keys=True)))
    return [(namespace, name, json.loads(selector)) for namespace, name, selector in sorted(found)]


def double_budgets(
    environment: Environment, pods: Iterable[tuple[str, str, dict[str, str]]], regs: Iterable[Any]
) -> list[str]:
    """Pods two PodDisruptionBudgets select (the eviction API refuses to evict them)."""
    budgets = _pdbs(environment, regs)
    problems = []
    for key, side, labels in pods:
        namespace = key.split("/")[0]
        names = {name for ns, name, selector in budgets if ns == namespace and selects(selector, labels)}
        if len(names) > 1:
            problems.append(f"{key} {side} pod {labels}: selected by PDBs {sorted(names)}")
    return problems


def selecting_new_pods(environment: Environment, regs: list[Any]) -> list[str]:
    """Exported Services, PDBs and autoscalers (through the Deployment they scale) that select a new
    pod of this step."""
    found = []
    for (namespace, name), deployment in new_deployments(regs).items():
        labels = _template(deployment)
        for service in environment.cluster.kind("Service"):
            if service["metadata"]["namespace"] == namespace and service_selects(
                service["spec"].get("selector"), labels
            ):
                found.append(f"{name}: Service {service['metadata']['name']}")
        for pdb in environment.cluster.kind("PodDisruptionBudget"):
            if pdb["metadata"]["namespace"] == namespace and selects(pdb["spec"].get("selector"), labels):
                found.append(f"{name}: PodDisruptionBudget {pdb['metadata']['name']}")
        for scaler, selector in environment.cluster.scaler_selectors(namespace):
            if selects(selector, labels):
                found.append(f"{name}: {scaler}")
    return found


def _share_problems(environment: Environment, cluster: Cluster, label: str) -> list[str]:
    """Entry points sending new pods another share than the step promises."""
    problems = []
    for workload in environment.raw["workloads"]:
        key = f"{workload['namespace']}/{workload['name']}"
        for entry, share in cluster.entry_points(workload).items():
            if label in BEFORE_SERVING:  # no request reaches a new pod before parallel > 0
                wanted = share == (0, 0)
            elif label in SERVING_ALL:  # every request does (where the workload runs at all)
                wanted = share == (100, 100) or not _reached(cluster, workload, entry)
            else:  # a single-copy workload has no new pod before cutover
                wanted = share == (0, 0) or not environment.stop_then_start(key)
            if not wanted:
                problems.append(f"share: {key} {entry} {share}")
    return problems


def _adoption_problems(regs: list[Any], existing: set[Any]) -> list[str]:
    """A pre-existing object is adopted read-only and protected, never created over; a patch is only on
    a pre-existing object, and retained."""
    problems = []
    for r in regs:
        adopted = r.import_id and r.protect and r.ignore_changes == ["*"]
        if identity(r) in existing and not r.type.endswith("Patch") and not adopted:
            problems.append(f"adoption: {r.name} is not adopted read-only and protected")
        if r.type.endswith("Patch") and not (identity(r) in existing and r.retain_on_delete):
            problems.append(f"adoption: patch {r.name} is not on a pre-existing object, retained")
    return problems


@pytest.mark.parametrize("env", VARIANTS)
def test_at_rest_in_every_step(environments, pulumi_run, env):
    """Traffic, disruption budgets, isolation and adoption, step by step (every problem of a step at once)."""
    environment = environments(env)
    existing = pre_existing(environment)
    for label in STEPS:
        regs = registrations(environment, label, pulumi_run)
        cluster = Cluster(regs, environment.configs[label], ROOT)
        problems = _share_problems(environment, cluster, label)
        # What the stack's `traffic` output tells an operator is what the simulation finds.
        simulated = {
            f"{w['namespace']}/{w['name']}": cluster.entry_points(w) for w in environment.raw["workloads"]
        }
        if reported(environment.outputs[label]) != simulated:
            problems.append(f"traffic output: {reported(environment.outputs[label])} != {simulated}")
        # The eviction API refuses a pod two PDBs select.
        problems += [f"pdb: {line}" for line in double_budgets(environment, _pods(environment, regs), regs)]
        # Before the new pods serve, nothing of the export selects them.
        if label in BEFORE_SERVING:
            problems += [f"isolation: {line}" for line in selecting_new_pods(environment, regs)]
        problems += _adoption_problems(regs, existing)
        assert problems == [], (env, label)


def _privileged(registration: Any) -> bool:
    """A registration that grants privilege: a privileged, hostPID or hostPath pod template, or a
    namespace labelled for privileged pods."""
    inputs = registration.inputs
    if registration.type.startswith("kubernetes:core/v1:Namespace"):
        return "privileged" in ((inputs.get("metadata") or {}).get("labels") or {}).values()
    pod = ((inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    return bool(
        pod.get("hostPID")
        or any("hostPath" in v for v in pod.get("volumes") or [])
        or any((c.get("securityContext") or {}).get("privileged") for c in containers)
    )


@pytest.mark.parametrize("env", [v for v in VARIANTS if "@" in v])
def test_each_new_copy_runs_where_its_target_says_in_every_step(environments, pulumi_run, env):
    """A container workload's new pods run the pinned Spin image with no RuntimeClass; a shim one's use
    the shim's class; with no workload on the shim nothing privileged is registered in any step."""
    environment = environments(env)
    default = environment.raw.get("target", "shim")
    targets = {
        f"{w['namespace']}/{w['name']}": w.get("target", default) for w in environment.raw["workloads"]
    }
    spin = f"ghcr.io/spinframework/spin:v3.6.3-distroless@{SPIN_DIGEST}"
    runtime_class = (environment.raw.get("shim") or {}).get("runtimeClassName", Shim().runtime_class_name)
    problems = []
    for label in STEPS:
        regs = registrations(environment, label, pulumi_run)
        for (namespace, name), deployment in new_deployments(regs).items():
            key = f"{namespace}/{name.removesuffix('-spin')}"
            if targets[key] == "aci":
                problems.append(f"{label}: {key} on aci has a new Deployment")
                continue
            pod = deployment.inputs["spec"]["template"]["spec"]
            runs = (pod.get("runtimeClassName"), pod["containers"][0]["image"] == spin)
            wanted = (None, True) if targets[key] == "container" else (runtime_class, False)
            if runs != wanted:
                problems.append(f"{label}: {key} runs {runs}, its target {targets[key]} wants {wanted}")
        on_aci = {
            r.inputs["tags"]["aks-wasm-migration-workload"]
            for r in regs
            if r.type.endswith(":ContainerGroup")
        }
        problems += [
            f"{label}: {key} on {targets[key]} has container groups"
            for key in on_aci
            if targets[key] != "aci"
        ]
        if label in SERVING_ALL:  # every copy of a workload that runs at all (one at 0 has none)
            problems += [
                f"{label}: {k} has no container group"
                for k, t in targets.items()
                if t == "aci" and k not in on_aci and environment.legacy_replicas(k) > 0
            ]
        if "shim" not in targets.values():
            problems += [f"{label}: {r.name} is privileged" for r in regs if _privileged(r)]
    assert problems == [], env


def _reached(cluster: Cluster, workload: dict[str, Any], entry: str) -> bool:
    """Whether the Service behind an entry point reaches any backend at all (pods, slices' endpoints)."""
    _, _, where = entry.partition(" ")
    namespace, name = where.split("/")
    return bool(cluster.backends(namespace, name))


# --- 3. every transition --------------------------------------------------------------------------------


def _transition_config(environment: Environment, source: str, target: str) -> dict[str, Any]:
    """The target's config; back to baseline from cutover as walk (a) does it: only `phase` changes."""
    config = environment.configs[target]
    if (source, target) == ("cutover", "baseline"):
        config = {**config, "traffic": environment.configs[source]["traffic"]}
    return config


def verdict(environment: Environment, source: str, target: str) -> list[str]:
    """What `migrate check --from` refuses the transition for (its problems; empty: allowed)."""
    before = environment.configs[source]
    after = _transition_config(environment, source, target)
    problems, what = transition_problems(before, after)
    return problems + transition_capacity_problems(
        loaded(environment, source), loaded(environment, target, after), what
    )


def deleted_objects(
    environment: Environment, source: list[Any], target: list[Any]
) -> tuple[set[tuple[str, str, str]], list[str]]:
    """What a transition deletes of what existed before the migration, garbage collection included (a
    registration of a pre-existing object the target no longer has, not retained on delete: the engine
    deletes it, pulumi/pulumi step.go DeleteStep), and the patches on pre-existing objects it
    relinquishes (a removed patch not retained: pulumi-kubernetes gives its fields up, ssa.Relinquish, so
    `replicas` falls back to the default and a selector goes)."""
    existing = pre_existing(environment)
    kept = {(r.type, r.name) for r in target}
    direct, relinquished = set(), []
    for r in source:
        if (r.type, r.name) in kept or identity(r) not in existing or r.retain_on_delete:
            continue
        if r.type.endswith("Patch"):
            relinquished.append(r.name)
        else:
            direct.add(identity(r))
    return environment.cluster.garbage_collected(direct), relinquished


def allowed_at_decommission(environment: Environment) -> tuple[set, set]:
    """(may go, must go) in decommission: the legacy Deployments, their autoscalers (HPA, ScaledObject)
    and the WASI pools must; with them whatever garbage collection takes, except Pods on WASI nodes that
    are neither a DaemonSet's, a migrated workload's nor acknowledged."""
    cluster = environment.cluster
    legacy = {("Deployment", *key.split("/")) for key in environment.keys}
    scalers = {
        _identity(s)
        for s in [*cluster.kind("HorizontalPodAutoscaler"), *cluster.kind("ScaledObject")]
        if ("Deployment", s["metadata"]["namespace"], s["spec"]["scaleTargetRef"]["name"]) in legacy
        and not s["metadata"].get("ownerReferences")
    }
    pools = {("AgentPool", "", name) for name in cluster.wasi_pools}
    must = legacy | scalers | pools
    may = cluster.garbage_collected(must)
    acknowledged = set(environment.raw.get("decommission", {}).get("acknowledgeOtherPods") or [])
    for pod in cluster.kind("Pod"):
        top = cluster.top(pod)
        key = f"{top['metadata'].get('namespace', '')}/{top['metadata']['name']}"
        ours = top["kind"] == "DaemonSet" or ("Deployment", *_key(top)) in legacy
        if _identity(pod) in may and not ours and key not in acknowledged:
            may.discard(_identity(pod))
    return may, must


def _assert_dark(environment: Environment, at_baseline: Transition, transition: Transition, env: str) -> None:
    """The refusal of cutover -> baseline is right: the independent model sees every entry point that
    had pods go dark, and stay dark (the retained replicas patch), not only for a moment."""
    dark = []
    for workload in environment.raw["workloads"]:
        floor = {label: reach[0] for label, reach in at_baseline.worst(workload).items()}
        for label, (_, end, lowest) in transition.worst(workload).items():
            if floor[label] > 0:
                dark.append(end == lowest == 0)
    assert dark and all(dark), env


def _policy(regs: list[Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    return policy_of([r.inputs for r in regs if r.type.startswith("kubernetes:")])


def _created(template: Mapping[str, Any], namespace: str, owner: str, classes: Mapping[str, Any]) -> dict:
    """A pod a ReplicaSet creates from `template`, after the RuntimeClass admission plugin merged its
    class's scheduling.nodeSelector in (a mutating plugin: it runs before any validating policy)."""
    pod = from_template(template, namespace, "ReplicaSet", f"{owner}-5d9c4f7b8")
    runtime = classes.get(pod["spec"].get("runtimeClassName", ""))
    if runtime is not None:
        scheduling = (runtime.get("scheduling") or {}).get("nodeSelector") or {}
        pod["spec"]["nodeSelector"] = {**(pod["spec"].get("nodeSelector") or {}), **scheduling}
    return pod


def _classes(environment: Environment, ends: tuple[list[Any], list[Any]]) -> dict[str, Mapping[str, Any]]:
    """Every RuntimeClass by name: the exported ones and those the program registers."""
    classes: dict[str, Mapping[str, Any]] = {
        c["metadata"]["name"]: c for c in environment.cluster.kind("RuntimeClass")
    }
    for regs in ends:
        classes |= {r.inputs["metadata"]["name"]: r.inputs for r in regs if r.type.endswith(":RuntimeClass")}
    return classes


def _legacy_pods(environment: Environment, classes: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The pod each legacy Deployment's ReplicaSet would create (one scaled to 0 has no exported Pod)."""
    found = {}
    for key in environment.keys:
        namespace, name = key.split("/")
        deployment = next(d for d in environment.cluster.kind("Deployment") if _key(d) == (namespace, name))
        found[key] = _created(deployment["spec"]["template"], namespace, name, classes)
    return found


def _to_admit(
    environment: Environment, ends: tuple[list[Any], list[Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """The pods that may be created while the transition runs or after it: every exported Pod that is
    not a migrated workload's (DaemonSets', the other pods on the WASI pools, the system's); the legacy
    pods while either end runs the legacy side (the way back from cutover recreates them while cutover's
    policy is still in force); the pods of every Deployment the program creates."""
    classes = _classes(environment, ends)
    running = {
        f"{ns}/{name}" for regs in ends for (ns, name), pods in pods_at_rest(regs).items() if pods.count
    }
    pods = []
    for pod in environment.cluster.kind("Pod"):
        top = environment.cluster.top(pod)
        key = f"{top['metadata'].get('namespace')}/{top['metadata']['name']}"
        if top["kind"] != "Deployment" or key not in environment.keys or key in running:
            pods.append(
                (f"exported Pod {pod['metadata']['namespace']}/{pod['metadata']['name']}", as_created(pod))
            )
    pods += [(f"legacy pod of {k}", p) for k, p in _legacy_pods(environment, classes).items() if k in running]
    for r in [
        r for regs in ends for r in regs if r.type == "kubernetes:apps/v1:Deployment" and r.import_id is None
    ]:
        metadata = r.inputs["metadata"]
        pod = _created(r.inputs["spec"]["template"], metadata["namespace"], metadata["name"], classes)
        pods.append((f"new pod of {metadata['namespace']}/{metadata['name']}", pod))
    return pods


def admission_problems(
    environment: Environment, before: list[Any], after: list[Any], target: str
) -> list[str]:
    """Every pod that may be created during or after a transition passes each admission policy in force
    meanwhile (the source's until the engine deletes or updates it at the end, the target's once
    created). And once the new side serves all, the policy is no formality: a legacy pod outside its
    Deployment's namespace is refused."""
    ends = (before, after)
    problems = [
        f"{what}: refused: {verdict.message}"
        for policy, binding in [found for found in map(_policy, ends) if found is not None]
        for what, pod in _to_admit(environment, ends)
        if not (verdict := admit(policy, binding, pod)).allowed
    ]
    if target not in SERVING_ALL:
        return problems
    found = _policy(after)
    if found is None:
        return [*problems, f"no admission policy in {target}"]
    for pod in _legacy_pods(environment, _classes(environment, ends)).values():
        pod["metadata"]["namespace"] = "elsewhere"
        if admit(*found, pod).allowed:
            problems.append(f"a legacy pod in another namespace is admitted in {target}")
    return problems


def _assert_capacity(
    environment: Environment, at_baseline: Transition, transition: Transition, step: tuple[str, str, str]
) -> None:
    """No entry point below its baseline at the end, nor at any moment unless a single-copy workload
    stops in its cutover (and back); a single-copy workload never runs two copies."""
    env, source, target = step
    stop_step = {source, target} == {"parallel 100%", "cutover"}
    for workload in environment.raw["workloads"]:
        key = f"{workload['namespace']}/{workload['name']}"
        floor = {label: reach[0] for label, reach in at_baseline.worst(workload).items()}
        stopping = environment.stop_then_start(key)
        for label, (_, end, lowest) in transition.worst(workload).items():
            assert end >= floor[label], (env, source, target, key, label, end, floor[label])
            if not (stopping and stop_step):  # only a single-copy workload's cutover (and back) may stop
                assert lowest >= floor[label], (env, source, target, key, label, lowest, floor[label])
        if stopping:  # never two copies at once
            assert transition.copies(workload) == 0, (env, source, target, key)


def _assert_nothing_preexisting_goes(
    environment: Environment, before: list[Any], after: list[Any], step: tuple[str, str, str]
) -> None:
    """Nothing that existed before the migration goes, except in decommission what the README says."""
    env, source, target = step
    gone, relinquished = deleted_objects(environment, before, after)
    assert relinquished == [], (env, source, target)
    if target == "decommission":
        may, must = allowed_at_decommission(environment)
        assert must <= gone, (env, sorted(must - gone))
        assert gone <= may, (env, sorted(gone - may))
    else:
        assert gone == set(), (env, source, target, sorted(gone))


@pytest.mark.parametrize("env", VARIANTS)
@pytest.mark.parametrize(
    ("source", "target"), TRANSITIONS, ids=lambda step: step.replace(" ", "").replace("%", "")
)
def test_every_transition(environments, pulumi_run, env, source, target):
    environment = environments(env)
    refused = verdict(environment, source, target)
    config = _transition_config(environment, source, target)
    before = registrations(environment, source, pulumi_run)
    after = registrations(
        environment, target, pulumi_run, None if config is environment.configs[target] else config
    )
    baseline_regs = registrations(environment, "baseline", pulumi_run)
    at_baseline = Transition(baseline_regs, baseline_regs, environment.configs["baseline"], ROOT)
    transition = Transition(before, after, config, ROOT)
    if (source, target) in REFUSED:
        why, said = REFUSED[(source, target)]
        assert any(said in line for line in refused), (env, f"must be refused: {why}", refused)
        if (source, target) == ("cutover", "baseline"):
            _assert_dark(environment, at_baseline, transition, env)
        return
    # What the independent models find, before what check says: check must allow what they find safe.
    _assert_capacity(environment, at_baseline, transition, (env, source, target))
    # No pod under two disruption budgets at any moment: either end's pod labels, either end's PDBs.
    pods = _pods(environment, before) + _pods(environment, after)
    assert double_budgets(environment, pods, [*before, *after]) == [], (env, source, target)
    _assert_nothing_preexisting_goes(environment, before, after, (env, source, target))
    assert admission_problems(environment, before, after, target) == [], (env, source, target)
    assert refused == [], (env, source, target)


# --- 4. what each environment is about ------------------------------------------------------------------


def _annotations(registration: Any) -> dict[str, str]:
    return dict((registration.inputs.get("metadata") or {}).get("annotations") or {})


def test_keda_pauses_the_legacy_scaled_object_only_in_cutover_and_never_touches_kedas_hpa(
    environments, pulumi_run
):
    """The program registers KEDA workloads at all (WasmWorkload took a ScaledObject for no autoscaler
    before the fix), translates the ScaledObject and pauses the legacy one at 0 in cutover only."""
    environment = environments("keda")
    cluster = environment.cluster
    (legacy,) = cluster.kind("ScaledObject")
    keda_hpas = {_identity(h) for h in cluster.kind("HorizontalPodAutoscaler") if cluster.owner(h) is legacy}
    assert keda_hpas == {("HorizontalPodAutoscaler", "orders", "keda-hpa-order-worker")}
    for label in STEPS:
        regs = registrations(environment, label, pulumi_run)
        assert not [r.name for r in regs if identity(r) in keda_hpas], label
        on_legacy = [r for r in regs if identity(r) == _identity(legacy)]
        paused = {_annotations(r).get(PAUSED_REPLICAS) for r in on_legacy} - {None}
        assert paused == ({"0"} if label == "cutover" else set()), label
        assert bool(on_legacy) == (label != "decommission"), label
        new = [
            r
            for r in regs
            if r.type == "kubernetes:keda.sh/v1alpha1:ScaledObject"
            and r.inputs["spec"]["scaleTargetRef"]["name"] == "order-worker-spin"
        ]
        if label not in ("baseline", "prepare"):
            (scaled,) = new
            assert scaled.inputs["spec"]["triggers"] == legacy["spec"]["triggers"], label


def test_paused_new_pods_run_the_serving_replicaset_not_the_staged_template(environments, pulumi_run):
    environment = environments("paused")
    cluster = environment.cluster
    deployment = next(d for d in cluster.kind("Deployment") if d["metadata"]["name"] == "invoice-api")
    revision = deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    (serving,) = [
        rs
        for rs in cluster.kind("ReplicaSet")
        if cluster.owner(rs) is deployment
        and rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == revision
    ]
    images = lambda template: [c["image"] for c in template["spec"]["containers"]]  # noqa: E731
    assert images(serving["spec"]["template"]) != images(deployment["spec"]["template"])
    seen = 0
    for label in STEPS:
        new = new_deployments(registrations(environment, label, pulumi_run)).get(
            ("billing", "invoice-api-spin")
        )
        if new is not None:
            seen += 1
            assert images(new.inputs["spec"]["template"]) == images(serving["spec"]["template"]), label
    assert seen == 5  # parallel at 0, 50 and 100 %, cutover, decommission


def test_stateful_guestbook_stops_before_it_starts_with_a_gate(environments, pulumi_run):
    environment = environments("stateful")
    assert environment.stop_then_start("notes/guestbook")
    assert not environment.stop_then_start("notes/archive-reader")
    for label in STEPS:
        regs = registrations(environment, label, pulumi_run)
        gates = {
            json.loads(env["value"])["side"]: r.inputs["metadata"]["namespace"]
            for r in regs
            if r.type == JOB
            for env in r.inputs["spec"]["template"]["spec"]["containers"][0].get("env") or []
            if env["name"] == STOP_GATE_SETTINGS
        }
        expected = {"cutover": {"legacy": "notes"}, "decommission": {}, "baseline": {}, "prepare": {}}
        assert gates == expected.get(label, {"new": "notes"}), label
        new = new_deployments(regs).get(("notes", "guestbook-spin"))
        if label in ("cutover", "decommission"):
            assert (
                new.inputs["spec"]["replicas"] == 1 and new.inputs["spec"]["strategy"]["type"] == "Recreate"
            )
        elif new is not None:
            assert new.inputs["spec"]["replicas"] == 0, label


def test_kwasm_class_is_left_alone_and_ours_takes_the_proposed_free_name(environments, pulumi_run):
    environment = environments("kwasm")
    cluster = environment.cluster
    wasi = cluster.nodes_of(cluster.wasi_pools)
    # KWasm's class: a Spin handler whose scheduling lands off the WASI pools.
    kwasm = [
        c
        for c in cluster.kind("RuntimeClass")
        if c["handler"] == "spin" and cluster.class_nodes(c) and not cluster.class_nodes(c) & wasi
    ]
    assert [c["metadata"]["name"] for c in kwasm] == [Shim.model_fields["runtime_class_name"].default]
    ours = environment.raw["shim"]["runtimeClassName"]
    assert ours not in {c["metadata"]["name"] for c in cluster.kind("RuntimeClass")}
    assert any(ours in note for note in environment.report["notes"])
    hello = ("Deployment", "apps", "hello-kwasm")  # already on the shim, off the WASI pool
    for label in STEPS:
        regs = registrations(environment, label, pulumi_run)
        assert not [r.name for r in regs if identity(r) in {_identity(kwasm[0]), hello}], label
        classes = [
            r.inputs["metadata"]["name"] for r in regs if r.type == "kubernetes:node.k8s.io/v1:RuntimeClass"
        ]
        assert classes == ([] if label == "baseline" else [ours]), label
        for new in new_deployments(regs).values():
            assert new.inputs["spec"]["template"]["spec"]["runtimeClassName"] == ours, label


def test_two_pools_both_adopted_deleted_in_decommission_one_target_per_architecture(environments, pulumi_run):
    environment = environments("two-pools")
    cluster = environment.cluster
    arch = {}
    for node in cluster.kind("Node"):
        labels = node["metadata"]["labels"]
        arch.setdefault(labels["kubernetes.azure.com/agentpool"], set()).add(labels["kubernetes.io/arch"])
    wasi_arches = sorted({a for pool in cluster.wasi_pools for a in arch[pool]})
    assert wasi_arches == ["amd64", "arm64"]
    for label in STEPS:
        regs = registrations(environment, label, pulumi_run)
        adopted = sorted(r.inputs["agentPoolName"] for r in regs if r.type == POOL and r.import_id)
        assert adopted == ([] if label == "decommission" else cluster.wasi_pools), label
        targets = [r.inputs["vmSize"] for r in regs if r.type == POOL and not r.import_id]
        if label != "baseline":
            assert sorted(vm_architecture(size) for size in targets) == wasi_arches, (label, targets)


def test_mixed_wasi_pool_decommission_needs_the_other_pods_acknowledged(environments, pulumi_run):
    environment = environments("mixed-wasi-pool")
    cluster = environment.cluster
    on_wasi = cluster.nodes_of(cluster.wasi_pools)
    others = set()
    for pod in cluster.kind("Pod"):
        top = cluster.top(pod)
        migrated = f"{top['metadata'].get('namespace')}/{top['metadata']['name']}" in environment.keys
        if pod["spec"].get("nodeName") in on_wasi and top["kind"] != "DaemonSet" and not migrated:
            others.add(f"{top['metadata']['namespace']}/{top['metadata']['name']}")
    assert others == {"default/netshoot", "edge/edge-proxy"}
    assert environment.raw["decommission"]["acknowledgeOtherPods"] == sorted(others)
    config = copy.deepcopy(environment.configs["decommission"])
    del config["decommission"]["acknowledgeOtherPods"]
    with pytest.raises(ConfigError) as refused:
        load_migration(config)
    (line,) = refused.value.problems
    assert line.startswith("decommission.acknowledgeOtherPods: ") and all(o in line for o in others)
    with pytest.raises(pulumi.RunError):
        pulumi_run(config)
    assert verdict(environment, "cutover", "decommission") == []
    assert check(loaded(environment, "decommission")) == []


def test_dapr_mesh_new_pods_run_without_the_sidecar_until_they_serve(environments, pulumi_run):
    environment = environments("dapr-mesh")
    workload = environment.workload("orders/order-processor")
    assert workload["daprBeforeServing"] == "withoutSidecar"
    legacy = next(
        d for d in environment.cluster.kind("Deployment") if d["metadata"]["name"] == "order-processor"
    )
    assert legacy["spec"]["template"]["metadata"]["annotations"]["dapr.io/enabled"] == "true"
    sidecar = {}
    for label in STEPS:
        regs = registrations(environment, label, pulumi_run)
        new = new_deployments(regs).get(("orders", "order-processor-spin"))
        if new is None:
            continue
        serving = any(
            share != (0, 0)
            for share in Cluster(regs, environment.configs[label], ROOT).entry_points(workload).values()
        )
        enabled = (new.inputs["spec"]["template"]["metadata"].get("annotations") or {}).get("dapr.io/enabled")
        sidecar[label] = enabled == "true"
        assert sidecar[label] == serving, (label, enabled, serving)
    assert sidecar == {
        "parallel 0%": False,
        "parallel 50%": True,
        "parallel 100%": True,
        "cutover": True,
        "decommission": True,
    }
