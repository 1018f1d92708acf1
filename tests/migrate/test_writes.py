"""migrate/writes.py through `init`: writes never follow a symlink, never leave --out, and replace
files atomically; a refusal writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migrate.writes import UnsafeWrite, write_files
from tests.migrate.init.test_end_to_end import run_init


def _tree(path: Path) -> dict[str, str]:
    """Every file and symlink under `path` (symlinks not followed), with its content or target."""
    found = {}
    for item in sorted(path.rglob("*")):
        if item.is_symlink():
            found[str(item.relative_to(path))] = f"-> {os.readlink(item)}"
        elif item.is_file():
            found[str(item.relative_to(path))] = item.read_text()
    return found


@pytest.fixture
def outside(tmp_path) -> Path:
    target = tmp_path / "outside"
    target.mkdir()
    (target / "hello-spin.yaml").write_text("precious\n")
    return target


@pytest.mark.parametrize("force", [False, True])
def test_a_symlinked_namespace_directory_is_refused(tmp_path, outside, capsys, force):
    out = tmp_path / "project"
    (out / "manifests/legacy").mkdir(parents=True)
    (out / "manifests/legacy/web").symlink_to(outside)
    before, outside_before = _tree(out), _tree(outside)
    code, _, err = run_init(capsys, out, *(["--force"] if force else []))
    assert code == 2
    assert err.startswith(f"migrate init: {out / 'manifests/legacy/web'} is a symlink (to {outside})")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _tree(out) == before and _tree(outside) == outside_before  # nothing written anywhere


def test_with_force_a_file_symlink_is_refused_not_written_through(tmp_path, outside, capsys):
    out = tmp_path / "project"
    code, _, _ = run_init(capsys, out)
    assert code == 0
    report = out / "migration-report.md"
    report.unlink()
    report.symlink_to(outside / "hello-spin.yaml")
    code, _, err = run_init(capsys, out, "--force")
    assert code == 2 and "migration-report.md is a symlink" in err and "--force neither" in err
    assert (outside / "hello-spin.yaml").read_text() == "precious\n"
    assert report.is_symlink()


def test_force_replaces_files_atomically_and_leaves_no_temporary(tmp_path, capsys):
    out = tmp_path / "project"
    assert run_init(capsys, out)[0] == 0
    report = out / "migration-report.md"
    inode = report.stat().st_ino
    report.write_text("old\n")
    assert run_init(capsys, out, "--force")[0] == 0
    assert report.read_text().startswith("# Migration readiness")
    assert report.stat().st_ino != inode  # a new file renamed over the name, not rewritten in place
    assert not [p for p in out.rglob(".*.tmp")]


@pytest.mark.parametrize("relative", ["../escape.yaml", "/etc/passwd", "a/../../b", "", "./../x"])
def test_paths_out_of_the_root_are_refused(tmp_path, relative):
    with pytest.raises(UnsafeWrite, match="not a plain path"):
        write_files(tmp_path / "root", {relative: "x"}, force=True)
    assert not (tmp_path / "escape.yaml").exists()


def test_a_file_where_a_directory_goes_is_named(tmp_path):
    (tmp_path / "stacks").write_text("x")
    with pytest.raises(UnsafeWrite, match="stacks is in the way: not a directory"):
        write_files(tmp_path, {"stacks/Pulumi.prod.yaml": "x"}, force=True)


def test_phases_never_writes_through_a_symlinked_phase_file(tmp_path, capsys):
    from migrate.__main__ import main
    from tests.conftest import ROOT

    stacks = tmp_path / "stacks"
    stacks.mkdir()
    environment = stacks / "Pulumi.prod.yaml"
    environment.write_text((ROOT / "stacks/Pulumi.prod.yaml").read_text())
    victim = tmp_path / "victim.yaml"
    # A generated-looking file elsewhere, so that only the symlink check stands in the way.
    victim.write_text((ROOT / "stacks/prod.2-prepare.yaml").read_text().replace("canaryReplicas: 1", "x: 1"))
    (stacks / "prod.2-prepare.yaml").symlink_to(victim)
    before = victim.read_text()
    assert main(["phases", str(environment)]) == 2
    assert "prod.2-prepare.yaml is a symlink" in capsys.readouterr().err
    assert victim.read_text() == before


def test_many_files_in_new_nested_directories_are_all_written_whole(tmp_path):
    """Writer threads making the same new directories at once: every file lands with its text, once."""
    files = {
        f"manifests/legacy/ns-{i % 7}/sub-{i % 3}/app-{i:03d}.yaml": f"name: app-{i}\n" * (i + 1)
        for i in range(150)
    }
    written = write_files(tmp_path, files, force=False)
    assert written == [tmp_path / relative for relative in files]
    found = {str(p.relative_to(tmp_path)): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert found == files


def test_init_writes_only_the_files_it_leaves_in_out_each_synced(tmp_path, capsys, monkeypatch):
    """The files --out keeps are each synced before their rename, and init writes no other file: the
    planner reads the generated project from memory, not from a scratch directory."""
    synced: list[Path] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    monkeypatch.setattr("migrate.writes.os.fsync", recording_fsync)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    out = tmp_path / "out"
    code, _, err = run_init(capsys, out)
    assert code == 0, err
    kept = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert len(kept) > 3
    assert all(path.is_relative_to(out) for path in synced), synced
    # Synced under its temporary name `.<name>.<pid>.tmp`, renamed over <name> afterwards.
    named = {path.relative_to(out).with_name(path.name[1:].rsplit(".", 2)[0]) for path in synced}
    assert named == kept and len(synced) == len(kept)
    assert not any(scratch.iterdir())
