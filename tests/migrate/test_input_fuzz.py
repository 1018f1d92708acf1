"""Property: whatever damage is done to the reference stack files and manifests, every `migrate` command
answers with exit 0, 1 or 2, without a traceback and without an unescaped control character, within a
time bound that the harness enforces by killing the command (run_bounded), not a timed assertion."""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.core.config import PROJECT
from tests.conftest import PHASE_FILES, ROOT, load_raw, run_bounded
from tests.migrate.test_input_safety import ALIAS_BOMB, plain

HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"
TIME_BOUND_SECONDS = 20.0

DAMAGE = st.sampled_from(
    [
        b"\xff",
        b"\xe9",
        b"\x00",
        b"\x1b[2J",
        b"\xef\xbb\xbf",
        b"\t",
        b"\r",
        b"{",
        b"[",
        b"'",
        b": ",
        b"- ",
        b"&a ",
        b"*a",
        b"&w [*w]",
        b" &x {<<: *x}",
        b"<<: *a\n",
        b"!!python/object/apply:os.system ",
        b"!!binary ",
        b"\n" + ALIAS_BOMB.encode(),
        b"[" * 2000,
        b"- " * 2000,
        b"99999999999999999999999999999999999999",
        b"2024-13-45",
    ]
) | st.binary(min_size=1, max_size=6)

# Values that keep the YAML well-formed, so the damage reaches the composer, the limits and the config
# model; four levels of the alias bomb (anchors a..d, 10,000 strings) head every such damaged file.
SMALL_BOMB = "".join(ALIAS_BOMB.splitlines(keepends=True)[:4]).encode()
VALUES = st.sampled_from(
    [
        "&w [*w]",
        "&m {<<: *m}",
        "*d",
        "[*d, *d, *d]",
        "[" + ", ".join(["*d"] * 60) + "]",
        "{<<: *b}",
        "[" * 3000 + "]" * 3000,
        "- " * 3000 + "x",
        "'" + "x" * 200_000 + "'",
        '"\\0\\x1b[31m\\u202e"',
        "!!binary AAAA",
        "!!python/name:os.system",
        "2024-13-45",
        "1" * 5000,
        "-1",
        "true",
        "~",
        ".nan",
        "{}",
        "[]",
    ]
)
VALUE_LINE = re.compile(rb"^( *(?:- )?[A-Za-z0-9_.:/-]+: ).+$", re.MULTILINE)

ODD_PATHS = st.sampled_from(
    [
        "/dev/zero",
        "/dev/stdin",
        "/proc/self/environ",
        "/etc/passwd",
        "../../../../etc/passwd",
        "manifests/legacy/../../../outside.yaml",
        "manifests",
        ".",
        "",
        "~/.ssh/id_rsa",
        "x" * 5000,
        "a\x00b.yaml",
        "\u202ecod.yaml",
        "manifests/legacy/web/hello-spin.yaml/..",
        "SCRATCH/fifo.yaml",
        "SCRATCH/out-link.yaml",
        "SCRATCH/dev-link.yaml",
        "SCRATCH/in-link.yaml",
    ]
)


@pytest.fixture(scope="module")
def scratch() -> Path:
    """A directory inside the project with a FIFO, symlinks out of and inside the project."""
    parent = ROOT / "build" / "tests"
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=parent))
    os.mkfifo(path / "fifo.yaml")
    (path / "out-link.yaml").symlink_to("/etc/passwd")
    (path / "dev-link.yaml").symlink_to("/dev/zero")
    (path / "in-link.yaml").symlink_to(HELLO)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def damaged(data: bytes, draw) -> bytes:
    """Random bytes inserted anywhere, or well-formed but hostile values put in place of real ones."""
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(DAMAGE) + data[at:]
        return data
    lines = list(VALUE_LINE.finditer(data))
    for _ in range(draw(st.integers(1, 2))):
        line = lines[draw(st.integers(0, len(lines) - 1))]
        data = data[: line.start()] + line.group(1) + draw(VALUES).encode() + data[line.end() :]
        lines = list(VALUE_LINE.finditer(data))
    return SMALL_BOMB + data


@st.composite
def cases(draw, scratch: Path) -> list[str]:
    """argv of one command whose input is damaged in one of three ways."""
    stack_path, manifest_path = scratch / "stack.yaml", scratch / "manifest.yaml"
    source = draw(st.sampled_from(PHASE_FILES))
    what = draw(st.sampled_from(["stack bytes", "manifest bytes", "manifest path"]))
    if what == "stack bytes":
        stack_path.write_bytes(damaged(plain(source).encode(), draw))
    else:
        raw = copy.deepcopy(load_raw(source))
        index = draw(st.integers(0, len(raw["workloads"]) - 1))
        if what == "manifest bytes":
            manifest_path.write_bytes(damaged(HELLO.read_bytes(), draw))
            manifest = str(manifest_path.relative_to(ROOT))
        else:
            manifest = draw(ODD_PATHS).replace("SCRATCH", str(scratch.relative_to(ROOT)))
        raw["workloads"][index]["manifest"] = manifest
        stack_path.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in raw.items()}}))
    command = draw(st.sampled_from(["check", "render", "diff", "check --from"]))
    return {
        "check": ["check", str(stack_path), "--kubernetes-version", "1.33"],
        "render": ["render", str(stack_path), "--section", "lifecycle"],
        "diff": ["diff", str(source), str(stack_path), "--max-chars", "20000"],
        "check --from": ["check", str(source), "--from", str(stack_path), "--kubernetes-version", "1.33"],
    }[command]


@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,  # the time bound is run_bounded's kill, per example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_damaged_input_gets_an_answer_never_a_traceback(scratch, data):
    argv = data.draw(cases(scratch))
    answer = run_bounded(argv, TIME_BOUND_SECONDS)
    assert answer.code is not None, f"no answer within {TIME_BOUND_SECONDS} s: {argv}"
    assert answer.code in (0, 1, 2), (argv, answer.code, answer.err[-3000:])
    assert "Traceback" not in answer.err
    messages = answer.err + (answer.out if argv[0] == "check" else "")  # check prints problems to stdout
    assert not any(c in messages for c in "\x00\x1b\r"), messages[-3000:]
    assert max(map(len, messages.splitlines()), default=0) < 2000
