"""What bench_migrate.py and bench_init.py share: run a command in its own child, measure it and its
floor (floor.py) the same way, take medians and print one table row per command with its verdict.

This process stays small on purpose: a child's max RSS starts at its parent's (Linux keeps the
high-water mark across fork and exec), so inputs are generated and outputs parsed back in children."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = Path(__file__).resolve().parent / "floor.py"
FLOOR_REPORT = "floor-report.json"


@dataclass(frozen=True)
class Command:
    """One measured command line (after `python`), the files it reads and where it writes: its stdout
    (YAML or text) and, when `writes_files`, the files under `--out DIR` (a fresh DIR per run)."""

    label: str
    argv: list[str]
    inputs: list[Path]
    stdout: str = "text"
    writes_files: bool = False


@dataclass(frozen=True)
class Output:
    """A file a command wrote: YAML (emitted by the floor as documents) or text (written as it is);
    `relative` is its path under --out, None for the stdout."""

    kind: str
    path: Path
    relative: Path | None


@dataclass(frozen=True)
class Usage:
    """One child's wall and CPU seconds (user + system), max RSS and exit code."""

    wall: float
    cpu: float
    rss_mb: float
    code: int


@dataclass(frozen=True)
class Limits:
    """A command misses its target above any of these (None: no target, as in --smoke)."""

    seconds: float | None
    mb: float | None
    floor_ratio: float | None


@dataclass(frozen=True)
class Measured:
    """Medians over the runs of a command and of its floor, and how much the command wrote."""

    command: Usage
    floor: Usage | None
    output_bytes: int
    produced: bool


def run_python(argv: list[str], stdout: Path) -> Usage:
    """`python ...argv` from the project root, its stdout into a file; measured from its own rusage
    (os.wait4), so the figures are this child's alone."""
    with stdout.open("wb") as out, stdout.with_suffix(".err").open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(stdout.with_suffix(".err").read_text(errors="replace")[-2000:])
    return Usage(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code)


def median(usages: list[Usage]) -> Usage:
    """Each figure's median over the runs; the exit code of the first failing run, if any."""
    codes = [u.code for u in usages if u.code != 0]
    return Usage(
        statistics.median(u.wall for u in usages),
        statistics.median(u.cpu for u in usages),
        statistics.median(u.rss_mb for u in usages),
        codes[0] if codes else 0,
    )


def _outputs(command: Command, stdout: Path, out_dir: Path) -> list[Output]:
    """The command's stdout, then every file it wrote under --out (YAML ones as documents)."""
    found = [Output(command.stdout, stdout, None)]
    if command.writes_files and out_dir.is_dir():
        for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
            kind = "yaml" if path.suffix in (".yaml", ".yml") else "text"
            found.append(Output(kind, path, path.relative_to(out_dir)))
    return found


def _run_command(command: Command, scratch: Path) -> tuple[Usage, list[Output]]:
    out_dir = scratch / "out"
    shutil.rmtree(out_dir, ignore_errors=True)
    argv = [*command.argv, *(["--out", str(out_dir)] if command.writes_files else [])]
    stdout = scratch / "command.stdout"
    return run_python(argv, stdout), _outputs(command, stdout, out_dir)


def _produced(command: Command, outputs: list[Output]) -> bool:
    """Whether the command wrote what it is for: a file under --out, or else something on stdout."""
    wanted = [o.path for o in outputs if o.relative is not None or not command.writes_files]
    return any(path.stat().st_size for path in wanted)


def _floor_spec(command: Command, outputs: list[Output], scratch: Path) -> Path:
    """Parse the command's outputs back (in a child, outside every timer) and write the floor's spec:
    the same inputs, the same outputs, each written where the command wrote it (stdout, or a file)."""
    received = scratch / "received.pickle"
    wanted = [f"{o.kind}:{o.path}" for o in outputs]
    subprocess.run([sys.executable, str(FLOOR), "--parse-back", str(received), *wanted], check=True)
    floor_out = scratch / "floor-out"
    for output in outputs:
        if output.relative is not None:
            (floor_out / output.relative).parent.mkdir(parents=True, exist_ok=True)
    spec = {
        "inputs": [str(path) for path in command.inputs],
        "outputs": [
            {"kind": o.kind, "to": "-" if o.relative is None else str(floor_out / o.relative)}
            for o in outputs
        ],
        "received": str(received),
        "report": str(scratch / FLOOR_REPORT),
    }
    path = scratch / "floor-spec.json"
    path.write_text(json.dumps(spec))
    return path


def _run_floor(spec: Path, scratch: Path) -> Usage:
    """The floor child, less the time it took to unpickle the outputs it was handed."""
    usage = run_python([str(FLOOR), str(spec)], scratch / "floor.stdout")
    if usage.code != 0:
        return usage
    received = json.loads((scratch / FLOOR_REPORT).read_text())
    return Usage(usage.wall - received["wall"], usage.cpu - received["cpu"], usage.rss_mb, usage.code)


def measure(command: Command, scratch: Path, runs: int) -> Measured:
    """The command and its floor, alternately, `runs` times each (so that a change in the machine's
    load touches both); stops at the first failing run of the command."""
    scratch.mkdir(parents=True, exist_ok=True)
    commands: list[Usage] = []
    floors: list[Usage] = []
    spec, output_bytes, produced = None, 0, False
    for _ in range(runs):
        usage, outputs = _run_command(command, scratch)
        commands.append(usage)
        if usage.code != 0:
            break
        if spec is None:
            output_bytes = sum(o.path.stat().st_size for o in outputs)
            produced = _produced(command, outputs)
            spec = _floor_spec(command, outputs, scratch)
        floors.append(_run_floor(spec, scratch))
    shutil.rmtree(scratch, ignore_errors=True)
    return Measured(median(commands), median(floors) if floors else None, output_bytes, produced)


def misses(measured: Measured, limits: Limits) -> list[str]:
    """Why a command misses: it failed or wrote nothing (always), or a target (unless None)."""
    command, floor = measured.command, measured.floor
    if command.code != 0:
        return [f"exit {command.code}"]
    found = [] if measured.produced else ["no output"]
    if floor is None or floor.code != 0:
        return [*found, "floor failed"]
    if limits.seconds is not None and command.wall > limits.seconds:
        found.append(f"wall > {limits.seconds:g} s")
    if limits.mb is not None and command.rss_mb > limits.mb:
        found.append(f"RSS > {limits.mb:g} MB")
    if limits.floor_ratio is not None and command.wall > limits.floor_ratio * floor.wall:
        found.append(f"> {limits.floor_ratio:g}x floor")
    return found


LABEL_WIDTH = 36
HEADER = (
    f"{'command':{LABEL_WIDTH}} {'wall s':>7} {'CPU s':>6} {'RSS MB':>6} | {'floor wall':>10} {'CPU':>5} "
    f"| {'x wall':>6} {'x CPU':>6} | {'out KB':>7}  verdict"
)


def row(label: str, measured: Measured, missed: list[str]) -> str:
    """One line of the table: the command's medians, its floor's, their ratios, what it wrote."""
    command, floor = measured.command, measured.floor
    figures = f"{command.wall:7.2f} {command.cpu:6.2f} {command.rss_mb:6.0f}"
    if floor is not None and floor.code == 0:
        ratios = f"{command.wall / floor.wall:6.1f} {command.cpu / floor.cpu:6.1f}"
        floors = f"{floor.wall:10.2f} {floor.cpu:5.2f} | {ratios}"
    else:
        floors = f"{'-':>10} {'-':>5} | {'-':>6} {'-':>6}"
    verdict = "MISSED: " + ", ".join(missed) if missed else "ok"
    return f"{label:{LABEL_WIDTH}} {figures} | {floors} | {measured.output_bytes / 1024:7.1f}  {verdict}"


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: figures taken under load are not idle ones."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


PACKAGES = ("components", "migrate")


def compile_project() -> None:
    """Byte-compile the project's packages first, as installing them or any earlier run does: with
    PYTHONDONTWRITEBYTECODE set (as on this project's CI machines) every child would otherwise compile
    the sources it imports again, about 0.13 s of each `render`, which no user pays twice."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=ROOT, check=True)


def measure_all(commands: list[Command], scratch: Path, runs: int, limits: Limits) -> bool:
    """Print the table for these commands between two load averages; True when every command is ok."""
    compile_project()
    print(f"load average before: {load_average()}")
    print(HEADER)
    ok = True
    for index, command in enumerate(commands):
        measured = measure(command, scratch / f"command-{index}", runs)
        missed = misses(measured, limits)
        ok &= not missed
        print(row(command.label, measured, missed), flush=True)
    print(f"load average after:  {load_average()}")
    return ok
