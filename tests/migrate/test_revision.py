"""`--base-ref`: `diff` and `check --from` read the source stack file and its legacy manifests at a git
revision, so a re-exported manifest (new image, 5 replicas) shows as rows; bad revisions and paths are
refused with one line naming them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from components.core.config import Phase
from components.core.inputs import UnsafeInput
from migrate import revision as revision_module
from migrate.__main__ import main
from migrate.revision import resolve
from tests.conftest import HELLO_MANIFEST, ROOT, load_raw, phase_path, reexported
from tests.migrate.test_diff import row, write_stack

IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@t")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def committed(project_dir, tmp_path, monkeypatch):
    """A `prepare` stack file whose hello-spin manifest is a copy in `project_dir`, committed to a scratch
    repository laid over the project's tree (GIT_DIR, GIT_WORK_TREE), so the project's own repository is
    never written; returns (stack file, manifest, the manifest's path in the config)."""
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(ROOT))
    manifest = project_dir / "hello-spin.yaml"
    shutil.copy(ROOT / HELLO_MANIFEST, manifest)
    relative = str(manifest.relative_to(ROOT))
    raw = load_raw(phase_path(Phase.PREPARE))
    raw["workloads"][0]["manifest"] = relative
    stack = write_stack(project_dir / "stack.yaml", raw)
    git(ROOT, "init", "-q")
    git(ROOT, "add", "-f", str(stack), str(manifest), "manifests/legacy")
    git(ROOT, *IDENTITY, "commit", "-q", "-m", "base")
    manifest.write_text(reexported(manifest.read_text()))
    return stack, relative


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([*map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_diff_shows_a_reexported_manifest_only_with_its_base_revision(committed, capsys):
    stack, _ = committed
    code, out, _ = run(capsys, "diff", stack, stack)
    assert code == 0 and "No resource changes." in out  # both sides read today's export
    assert "Legacy manifests: both sides from the working tree" in out
    code, out, _ = run(capsys, "diff", stack, stack, "--base-ref", "HEAD")
    assert code == 0
    assert out.startswith(f"### `HEAD:{stack.relative_to(ROOT)}` → `{stack}`")
    assert "Legacy manifests: each side's own: the source's at `HEAD` (" in out
    # The adopted Deployment is read-only (ignore_changes *): shown, never applied. What the program
    # derives from it changes: the new pods' image, and the replicas patch that keeps legacy at its count.
    assert row(out, "web/hello-spin/legacy-deployment").startswith(
        "| re-export | Deployment web/hello-spin | `web/hello-spin/legacy-deployment` | export changed, "
        "adopted read-only so nothing is applied: `spec.replicas`: 2 → 5; "
    )
    assert row(out, "web/hello-spin/legacy-replicas") == (
        "| update | Deployment web/hello-spin (patch) | `web/hello-spin/legacy-replicas` | "
        "`spec.replicas`: 2 → 5 |"
    )
    assert row(out, "web/hello-spin/wasm-deployment").endswith(
        "`spec.template.spec.containers[0].image`: `ghcr.io/spinkube/c...-rust-hello:v0.15.1` → "
        "`ghcr.io/spinkube/c...-rust-hello:v0.16.0` |"
    )
    assert "2 to update, 0 to replace, 0 to delete, 1 adopted read-only and re-exported" in out
    risks = out.split("#### Risks")[1].split("#### Changes")[0]
    assert "Legacy exports changed" in risks and "Replicas drop" not in risks


def test_check_from_base_ref_refuses_a_reexport_in_a_phase_step(committed, project_dir, capsys):
    stack, relative = committed
    code, out, _ = run(
        capsys, "check", stack, "--from", stack, "--base-ref", "HEAD", "--kubernetes-version", "1.33"
    )
    assert code == 0
    assert out.splitlines()[-1].endswith(
        f"transition no phase change (prepare); legacy manifests changed since HEAD: {relative}"
    )
    raw = load_raw(stack)
    raw["phase"] = "parallel"
    step = write_stack(project_dir / "parallel.yaml", raw)
    argv = ("check", step, "--from", stack, "--kubernetes-version", "1.33")
    code, out, _ = run(capsys, *argv)
    assert code == 0  # without the revision both sides read today's export: the step looks clean
    code, out, _ = run(capsys, *argv, "--base-ref", "HEAD")
    assert code == 1
    assert [line for line in out.splitlines() if not line.startswith("warning: ")] == [
        f"transition prepare → parallel at 0%: legacy manifest {relative} changes together with the "
        "phase; ship the re-export in its own change (no phase step) and the step after it"
    ]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("--output=/tmp/x", "--base-ref '--output=/tmp/x': not a usable git revision; name a branch"),
        ("HEAD main", "--base-ref 'HEAD main': not a usable git revision"),
        ("no-such-branch", "--base-ref 'no-such-branch': not a commit of the repository at"),
        ("HEAD:stacks", "--base-ref 'HEAD:stacks': not a commit of the repository at"),
    ],
)
def test_bad_refs_are_refused(committed, capsys, ref, message):
    stack, _ = committed
    code, out, err = run(capsys, "diff", stack, stack, f"--base-ref={ref}")
    assert (code, out) == (2, "")
    assert err.startswith(message) and err.count("\n") == 1


def test_sources_that_are_not_in_the_revision(committed, project_dir, tmp_path, capsys):
    stack, relative = committed
    code, _, err = run(capsys, "check", stack, "--base-ref", "HEAD")
    assert (code, err) == (2, "--base-ref names the revision of the --from stack file; pass --from too\n")
    new = write_stack(project_dir / "new.yaml", load_raw(stack))
    code, _, err = run(capsys, "diff", new, stack, "--base-ref", "HEAD")
    assert (code, err) == (2, f"HEAD:{new.relative_to(ROOT)}: does not exist at HEAD\n")
    outside = write_stack(tmp_path / "outside.yaml", load_raw(stack))
    code, _, err = run(capsys, "diff", outside, stack, "--base-ref", "HEAD")
    assert (code, err) == (
        2,
        f"{outside}: --base-ref reads it from git, but it is outside the repository at {ROOT}\n",
    )
    raw = load_raw(stack)
    raw["workloads"][0]["manifest"] = relative.replace("hello-spin", "other")
    git(ROOT, "add", "-f", str(write_stack(stack, raw)))
    git(ROOT, *IDENTITY, "commit", "-q", "-m", "manifest not committed")
    code, out, _ = run(capsys, "check", stack, "--from", stack, "--base-ref", "HEAD")
    assert code == 1
    missing = f"(got '{raw['workloads'][0]['manifest']}')"
    assert out.splitlines() == [  # neither side has it: the target in the working tree, the source at HEAD
        f"{stack}: workloads[0].manifest: cannot read file: No such file or directory {missing}",
        f"(source) HEAD:{stack.relative_to(ROOT)}: workloads[0].manifest: does not exist at HEAD {missing}",
    ]


@pytest.fixture
def repository(tmp_path):
    """A small repository: a project root one level down, a file, a directory, symlinks in and out."""
    top = tmp_path / "repo"
    (top / "project" / "dir").mkdir(parents=True)
    (top / "project" / "ok.yaml").write_text("kind: List\n")
    (top / "project" / "dir" / "inner.yaml").write_text("kind: List\n")
    (top / "project" / "latin1.yaml").write_bytes(b"caf\xe9\n")
    (top / "project" / "big.yaml").write_text("x" * 65)
    (top / "outside.yaml").write_text("outside the project, inside the repository\n")
    (top / "project" / "in").symlink_to("ok.yaml")
    (top / "project" / "out").symlink_to("../../../etc/passwd")
    git(top, "init", "-q")
    git(top, "add", ".")
    git(top, *IDENTITY, "commit", "-q", "-m", "x")
    return resolve("HEAD", top / "project")


def test_blobs_are_read_within_the_limits(repository, monkeypatch):
    assert repository.prefix == "project/"
    assert repository.manifest("ok.yaml") == repository.manifest("in") == "kind: List\n"
    assert repository.manifest("dir/../ok.yaml") == "kind: List\n"
    monkeypatch.setattr(revision_module, "MAX_FILE_BYTES", 64)
    refused = {
        "big.yaml": "is 65 bytes at HEAD, above the file size limit of 64 bytes",
        "latin1.yaml": "is not UTF-8 text: byte 0xe9 at byte offset 3 (invalid continuation byte)",
        "dir": "is a directory at HEAD, not a file; it is not read",
        "gone.yaml": "does not exist at HEAD",
        "ok.yaml/x": "does not exist (a parent is not a directory) at HEAD",
        "out": "resolves through a symlink to outside the repository at HEAD",
        "../outside.yaml": "leads outside the project root through '..'; keep manifests inside the project",
        "/etc/passwd": "must be a path relative to the project root; absolute paths are refused",
        "a\nb": "the path holds a line break",
    }
    for path, message in refused.items():
        with pytest.raises(UnsafeInput) as error:
            repository.manifest(path)
        assert str(error.value) == message, path


def test_a_base_revision_shares_the_manifests_it_did_not_change(committed, capsys, monkeypatch):
    """Each manifest text is parsed once, whichever side and revision names it (components/export/
    workload.py keeps each load): here every manifest once, and hello-spin once more as it was at HEAD."""
    from components.export import workload

    monkeypatch.setattr(workload, "_KEPT", {})
    parsed: list[str] = []
    documents = workload._documents
    monkeypatch.setattr(workload, "_documents", lambda text: parsed.append(text) or documents(text))
    stack, _ = committed
    code, _, _ = run(capsys, "check", stack, "--from", stack, "--base-ref", "HEAD")
    assert code == 0  # no phase step: a re-export alone is fine
    manifests = {workload["manifest"] for workload in load_raw(stack)["workloads"]}
    assert len(parsed) == len(set(parsed)) == len(manifests) + 1


def test_the_cluster_files_a_stack_names_are_read_at_the_revision(committed, project_dir, capsys):
    """A stack init generated names its cluster export (cluster.export): the source side at --base-ref
    reads it, as the legacy manifests, from the revision; before, it was looked for among the manifests
    alone and every such stack's source was refused ("cannot read file")."""
    import yaml

    stack, _ = committed
    cluster = project_dir / "cluster.yaml"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}
    cluster.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [namespace]}))
    raw = load_raw(stack)
    raw["cluster"]["export"] = str(cluster.relative_to(ROOT))
    git(ROOT, "add", "-f", str(write_stack(stack, raw)), str(cluster))
    git(ROOT, *IDENTITY, "commit", "-q", "-m", "with the cluster's export")
    code, out, err = run(capsys, "diff", stack, stack, "--base-ref", "HEAD")
    assert code == 0, out + err
    assert "cannot read" not in out + err
    code, out, err = run(capsys, "check", stack, "--from", stack, "--base-ref", "HEAD")
    assert "cluster.export" not in out + err
    cluster.unlink()  # in the working tree only: the target says so, the source reads the revision's
    code, out, _ = run(capsys, "check", stack, "--from", stack, "--base-ref", "HEAD")
    assert code == 1
    assert [line for line in out.splitlines() if "cluster.export" in line] == [
        f"{stack}: cluster.export: cannot read file: No such file or directory "
        f"(got '{cluster.relative_to(ROOT)}')"
    ]
    git(ROOT, "rm", "-q", "--cached", str(cluster))
    git(ROOT, *IDENTITY, "commit", "-q", "-m", "export removed")
    code, out, _ = run(capsys, "check", stack, "--from", stack, "--base-ref", "HEAD")
    assert f"(source) HEAD:{stack.relative_to(ROOT)}: cluster.export: does not exist at HEAD" in out
