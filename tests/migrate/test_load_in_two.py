"""migrate.state.load_in_two: half of the legacy workloads loaded in a forked child gives the same answers,
in the same order, as loading them one after another; a load the child cannot hand over (a manifest that
cannot be read, one kept deep-copied) is worked out here, and a second load of the same manifests forks
nothing. Each case runs in a fresh interpreter: pytest's workers have threads, where nothing forks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

WORKLOADS = 40

_SCRIPT = """
import dataclasses, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from components.export import workload
from components.loading import load_each, load_migration, raw_config_from_stack_file
from components.core.config import parse_config
import migrate.state as state

forks = []
real = state.Background
def counting(work):
    job = real(work)
    forks.append(job.forked)
    return job
state.Background = counting

mode, stack = sys.argv[1], Path(sys.argv[2])
config = parse_config(raw_config_from_stack_file(stack))
loader = state.load_in_two if mode == "two" else load_each
first = loader(config, Path.cwd())
again = loader(config, Path.cwd())

def shown(load):
    legacy, problems = load
    if legacy is None:
        return {"problems": problems}
    fields = {f.name: getattr(legacy, f.name) for f in dataclasses.fields(legacy) if f.name != "config"}
    shared = legacy.services[0] is legacy.service and any(o is legacy.deployment for o in legacy.exported)
    return {"problems": problems, "config": legacy.config.model_dump(), "fields": fields, "shared": shared}

print(json.dumps({"first": [shown(l) for l in first], "again": [shown(l) for l in again], "forks": forks},
                 sort_keys=True, default=repr))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project root with a generated walk of 40 workloads: one manifest removed, one holding text
    that reads like YAML's NaN (so its load is kept deep-copied and never handed over)."""
    root = tmp_path_factory.mktemp("two")
    (root / "generated").mkdir()
    generate = (
        "import pathlib, sys; sys.path.insert(0, sys.argv[1]); import bench_migrate; "
        "bench_migrate.generate(pathlib.Path(sys.argv[2]), int(sys.argv[3]), root=pathlib.Path(sys.argv[4]))"
    )
    argv = [str(ROOT / "benchmarks"), str(root / "generated"), str(WORKLOADS), str(root)]
    subprocess.run([sys.executable, "-c", generate, *argv], check=True, cwd=ROOT)
    manifests = {path.stem: path for path in (root / "generated").rglob("app-*.yaml")}
    assert len(manifests) == WORKLOADS
    manifests["app-0003"].unlink()
    nan_like, revision = manifests["app-0035"], 'deployment.kubernetes.io/revision: "1"\n'
    nan_like.write_text(nan_like.read_text().replace(revision, f"{revision}      note: served.nanoservice\n"))
    return root


def _run(project: Path, mode: str) -> dict:
    """Both loads of the parallel stack file's workloads, in a fresh interpreter whose imports are this
    checkout's and whose project root is `project`."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode, "generated/bench.parallel-100.yaml", str(ROOT)],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_loading_in_two_gives_every_answer_loading_one_by_one_gives(project: Path) -> None:
    one_by_one, in_two = _run(project, "each"), _run(project, "two")
    assert in_two["forks"] == [True]  # the first load forked; the second found every load kept
    assert in_two["first"] == one_by_one["first"] == in_two["again"] == one_by_one["again"]
    answers = in_two["first"]
    assert len(answers) == WORKLOADS
    refused = [i for i, answer in enumerate(answers) if "fields" not in answer]
    assert refused == [3] and "cannot read file" in answers[3]["problems"][0]
    assert "served.nanoservice" in json.dumps(answers[35])
    assert all(answer["shared"] for answer in answers if "fields" in answer)
