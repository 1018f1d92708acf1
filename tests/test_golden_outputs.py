"""Every byte the CLI prints and writes, over every stack file of the project and its test environments,
equal to what was recorded (tests/golden_outputs.py says what runs and how to record again)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.golden_outputs import RECORD, ROOT, record


def test_every_output_is_byte_identical_to_the_record() -> None:
    recorded = json.loads(RECORD.read_text())
    now = record()
    assert sorted(now) == sorted(recorded), (
        "the cases changed: record again (python -m tests.golden_outputs --write)"
    )
    changed = [case for case in recorded if now[case] != recorded[case]]
    assert not changed, f"{len(changed)} outputs changed, e.g. {changed[:5]}"


def test_the_record_covers_every_stack_file_and_cluster() -> None:
    recorded = json.loads(RECORD.read_text())
    root = Path(__file__).resolve().parent.parent
    for stack in sorted((root / "stacks").glob("prod.*.yaml")):
        assert f"stacks render stacks/{stack.name}" in recorded
    environments = root / "tests/fixtures/environments"
    for environment in sorted(p for p in environments.iterdir() if p.is_dir()):
        assert any(case.startswith(f"{environment.name} render ") for case in recorded), environment.name
    for cluster in sorted(p for p in (root / "tests/fixtures/clusters").iterdir() if p.is_dir()):
        assert f"init {cluster.name}" in recorded


def test_every_output_is_byte_identical_with_the_forked_children_at_work() -> None:
    """The same cases in a fresh interpreter, as a user's command runs: with no other thread, check and
    diff fork their independent analyses and a large config's workloads load in two processes
    (migrate/background.py), which never happens inside pytest's threaded workers."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.golden_outputs"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    now, recorded = json.loads(done.stdout), json.loads(RECORD.read_text())
    changed = [case for case in recorded if now.get(case) != recorded[case]]
    assert sorted(now) == sorted(recorded) and not changed, f"{len(changed)} outputs changed: {changed[:5]}"
