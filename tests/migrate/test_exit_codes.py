"""One exit-code rule for every command (migrate/__main__.py EXIT_RULE, docs/offline-review.md "Exit
codes"): 2 when the command cannot act on what it was given, 1 when what it read has problems, 0
otherwise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.core.config import PROJECT, Phase
from migrate.__main__ import EXIT_RULE, main
from migrate.exits import EXIT_INPUT, EXIT_STDOUT_CLOSED
from tests.conftest import ROOT, load_raw, phase_path, run_bounded
from tests.migrate.init.test_end_to_end import CLUSTER, EXPORT, POOLS

GOOD = phase_path(Phase.PARALLEL, 10)


def _stack(directory: Path, name: str, **changes) -> Path:
    raw = {**load_raw(GOOD), **changes}
    path = directory / name
    path.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in raw.items()}}))
    return path


@pytest.fixture
def files(project_dir) -> dict[str, Path]:
    workloads = load_raw(GOOD)["workloads"]
    missing = [{**workloads[0], "manifest": "manifests/legacy/web/nope.yaml"}, *workloads[1:]]
    return {
        "good": GOOD,
        "missing manifest": _stack(project_dir, "Pulumi.missing.yaml", workloads=missing),
        "invalid config": _stack(project_dir, "Pulumi.invalid.yaml", phase="halfway"),
        "absent": project_dir / "absent.yaml",
        "not yaml": project_dir / "bad.yaml",
    }


INIT = ["init", "--cluster", CLUSTER, "--out", "{absent}.out"]
CASES = [
    # (argv with {file} placeholders, expected exit code)
    (["render", "{good}"], 0),
    (["check", "{good}", "--kubernetes-version", "1.33"], 0),
    (["diff", "{good}", "{good}"], 0),
    (["render", "{missing manifest}"], 1),
    (["check", "{missing manifest}", "--kubernetes-version", "1.33"], 1),
    (["diff", "{good}", "{missing manifest}"], 1),
    (["phases", "{missing manifest}"], 1),
    (["render", "{invalid config}"], 1),
    (["check", "{invalid config}"], 1),
    (["render", "{absent}"], 2),
    (["check", "{absent}"], 2),
    (["diff", "{absent}", "{good}"], 2),
    (["phases", "{absent}"], 2),
    (["render", "{not yaml}"], 2),
    (["check", "{not yaml}"], 2),
    (["render", "{good}", "--section", "nope"], 2),
    (["check", "{good}", "--kubernetes-version", "1.20"], 2),
    (["diff", "{good}", "{good}", "--max-chars", "-1"], 2),
    (
        [
            "init",
            "--kubectl-export",
            "{absent}",
            "--node-pools",
            str(POOLS),
            "--cluster",
            CLUSTER,
            "--out",
            "x",
        ],
        2,
    ),
    (
        [
            "init",
            "--kubectl-export",
            str(EXPORT),
            "--node-pools",
            "{not yaml}",
            "--cluster",
            CLUSTER,
            "--out",
            "x",
        ],
        2,
    ),
]


@pytest.mark.parametrize(("argv", "code"), CASES, ids=[" ".join(argv[:2]) for argv, _ in CASES])
def test_every_command_follows_the_rule(files, argv, code):
    files["not yaml"].write_text("config: [unclosed\n")
    answer = run_bounded([re.sub(r"\{(.+?)\}", lambda m: str(files[m.group(1)]), arg) for arg in argv])
    assert answer.code == code, answer.err + answer.out[-2000:]
    assert "Traceback" not in answer.err + answer.out
    if code:
        assert answer.err.strip() or answer.out.strip()  # says why


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_docs_state_the_same_rule():
    readme = _words((ROOT / "docs" / "offline-review.md").read_text())
    for code, meaning in EXIT_RULE.items():
        assert f"{code}: {_words(meaning)}" in readme, code


def _process(argv: list[str], **options) -> subprocess.Popen:
    """`python -m migrate *argv` as a user runs it: `run`, with the interpreter's own exit."""
    return subprocess.Popen([sys.executable, "-m", "migrate", *argv], cwd=ROOT, **options)


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path):
    """`render ... | head`: the rest cannot be delivered; exit 141 with nothing on stderr, as a C tool
    that SIGPIPE ends (the render is larger than a pipe's buffer, so the write meets the closed end)."""
    child = _process(["render", str(GOOD)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.read(100)
    child.stdout.close()
    err = child.stderr.read()
    assert child.wait(timeout=60) == EXIT_STDOUT_CLOSED == 141
    assert first.startswith(b"# ===== kubernetes.yaml =====")
    assert err == b""


def test_everything_printed_reaches_a_file_before_the_process_leaves(tmp_path, capsys):
    """The process leaves without the interpreter's teardown (`os._exit`), which would have flushed
    stdout: a file (block-buffered, unlike a terminal) still gets every byte, the same as in-process."""
    assert main(["render", str(GOOD)]) == 0
    expected = capsys.readouterr().out.encode()
    with (tmp_path / "out").open("wb") as out:
        assert _process(["render", str(GOOD)], stdout=out).wait(timeout=60) == 0
    assert (tmp_path / "out").read_bytes() == expected
    argv = ["check", str(GOOD), "--kubernetes-version", "1.33"]
    assert main(argv) == 0
    expected = capsys.readouterr().out.encode()
    with (tmp_path / "check").open("wb") as out:
        assert _process(argv, stdout=out).wait(timeout=60) == 0
    assert (tmp_path / "check").read_bytes() == expected


@pytest.mark.parametrize(
    "argv",
    [["render", str(GOOD)], ["check", str(GOOD), "--kubernetes-version", "1.33"]],
    ids=["render", "check"],
)
def test_a_full_disk_under_stdout_is_one_line(argv):
    """What cannot be written to stdout redirected to a full device is said, not a traceback: a render
    (written in chunks) and check's lines (printed) alike."""
    with open("/dev/full", "wb") as full:
        child = _process(argv, stdout=full, stderr=subprocess.PIPE)
        _, err = child.communicate(timeout=60)
    assert child.returncode == EXIT_INPUT
    assert err.decode().splitlines() == ["cannot write the standard output: No space left on device"]
