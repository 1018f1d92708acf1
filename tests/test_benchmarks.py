"""The benchmarks keep running: each script's `--smoke` mode (a few workloads, one run, no timing
targets) exits 0 and prints a row for every command it measures. No figure is asserted (CI machines
differ); a script that no longer runs, or a command that fails or writes nothing, fails here."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Each script's commands, as its table names them: a row is the label, then figures, then the verdict.
MIGRATE_COMMANDS = [
    "render parallel-100",
    "render parallel-100 --out",
    "check parallel-0 --from prepare",
    "check cutover --from parallel-100",
    "diff parallel-100 cutover",
]
INIT_COMMANDS = ["read + inventory", "init (text)", "init --format json"]
PROGRAM_RUNS = ["program under mocks", "bare program"]


def smoke(script: str) -> str:
    """The script's stdout in --smoke mode, run as a person runs it; its stderr shown on failure."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"{script} --smoke exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout


def rows(stdout: str, labels: list[str], verdict: str) -> dict[str, str]:
    """Each label's row: the label alone on the left, figures after it, `verdict` at the end."""
    found = {}
    for label in labels:
        pattern = rf"^{re.escape(label)} +\d+\.\d\d .*{verdict}$"
        found[label] = "\n".join(re.findall(pattern, stdout, re.M))
    return found


@pytest.mark.parametrize(
    ("script", "commands"),
    [("bench_migrate.py", MIGRATE_COMMANDS), ("bench_init.py", INIT_COMMANDS)],
)
def test_command_benchmarks_run_every_command_beside_its_floor(script: str, commands: list[str]) -> None:
    stdout = smoke(script)
    missing = [label for label, row in rows(stdout, commands, r" ok").items() if not row]
    assert not missing, f"no ok row for {missing} in:\n{stdout}"
    assert "floor wall" in stdout
    assert "load average before:" in stdout
    assert "load average after:" in stdout


def test_program_benchmark_registers_what_the_bare_program_does() -> None:
    stdout = smoke("bench_program.py")
    missing = [label for label, row in rows(stdout, PROGRAM_RUNS, r"\d").items() if not row]
    assert not missing, f"no row for {missing} in:\n{stdout}"
    counts = {re.split(r" {2,}", row)[-1] for row in rows(stdout, PROGRAM_RUNS, r"\d").values()}
    assert len(counts) == 1, stdout
