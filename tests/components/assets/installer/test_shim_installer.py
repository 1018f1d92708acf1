"""Runs components/assets/installer/shim-installer.sh under `busybox sh` against a fake node root.

PATH holds only busybox applets, a recording fake `nsenter` and a fake `uname` naming the fake
node's CPU, so the script can neither reach the real host nor lean on a tool the busybox-based
installer image lacks.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[4] / "components/assets/installer/shim-installer.sh"
FIXTURES = Path(__file__).parent / "fixtures"
BUSYBOX = shutil.which("busybox")
CONTAINERD = Path("/usr/bin/containerd")
# Every external command the script runs; a missing one fails the tests like it would on the node.
APPLETS = (
    "awk",
    "cat",
    "chmod",
    "cut",
    "date",
    "grep",
    "mkdir",
    "mktemp",
    "mv",
    "od",
    "rm",
    "sha256sum",
    "sleep",
    "stat",
    "tail",
)
# Run by the script too, but faked here; the installer image's busybox must still have them.
FAKED = ("nsenter", "uname")
DEST = "/usr/local/bin/containerd-shim-spin-v2"
RESTART = "-t 1 -m -- systemctl restart containerd"
CTR_VERSION = re.compile(r"^-t 1 -m -- ctr --address /run/containerd/containerd\.sock .* version$")
GRPC = "io.containerd.grpc.v1.cri"
CRI_RUNTIME = "io.containerd.cri.v1.runtime"
FIXTURE_PLUGINS = {
    "containerd17-ubuntu2204.toml": GRPC,
    "containerd2-version2-header.toml": CRI_RUNTIME,
    "containerd2-version3-single-quoted.toml": CRI_RUNTIME,
    "containerd2-version4.toml": CRI_RUNTIME,
}

# Records its argv and never runs the host command. `ctr ... version` fails for the first
# $CTR_FAILURES calls, so tests can simulate a slow or dead containerd.
FAKE_NSENTER = """#!{busybox} sh
printf '%s\\n' "$*" >>"$NSENTER_LOG"
case " $* " in
*" ctr "*" version "*)
	n=0
	while IFS= read -r line; do case " $line " in *" ctr "*) n=$((n + 1)) ;; esac; done <"$NSENTER_LOG"
	[ "$n" -gt "${{CTR_FAILURES:-0}}" ] ;;
esac
"""

# The node's `uname -m`; anything else the script asks uname is a test failure.
FAKE_UNAME = """#!{busybox} sh
[ "$*" = -m ] || {{ echo "fake uname: unexpected arguments: $*" >&2; exit 2; }}
echo {machine}
"""
# ELF e_machine values, and the CPU each `uname -m` spelling the script accepts stands for.
MACHINES = {"x86_64": 62, "aarch64": 183}
CPU = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def elf(machine: int, payload: bytes = b"", *, elf_class: int = 2, data: int = 1) -> bytes:
    """An ELF64 header (64 bytes: e_ident, then e_type ET_DYN, e_machine, ...), then `payload`."""
    ident = b"\x7fELF" + bytes([elf_class, data, 1]) + bytes(9)
    order = "<" if data == 1 else ">"
    fields = struct.pack(f"{order}HHIQQQIHHHHHH", 3, machine, 1, 0x1000, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    return ident + fields + payload


def shim(cpu: str, version: str = "v1") -> bytes:
    """A fake shim binary built for `cpu` (x86_64 or aarch64)."""
    return elf(MACHINES[cpu], f"fake spin shim {version}\n".encode())


@dataclass
class Node:
    root: Path
    bin: Path
    log: Path
    src: Path

    @property
    def config(self) -> Path:
        return self.root / "etc/containerd/config.toml"

    @property
    def backup(self) -> Path:
        return self.root / "etc/containerd/config.toml.pre-wasm-shim"

    @property
    def shim(self) -> Path:
        return self.root / DEST.lstrip("/")

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {
            "PATH": str(self.bin),
            "HOST_ROOT": str(self.root),
            "SHIM_SRC": str(self.src),
            "NSENTER_LOG": str(self.log),
            "RESTART_TIMEOUT": "5",  # a broken wait loop fails fast instead of after 60s
        }
        return subprocess.run(
            [BUSYBOX, "sh", str(SCRIPT), *args],
            env={**base, **env},
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )

    def ok(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, **env)
        assert result.returncode == 0, result.stderr
        return result

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def restarts(self) -> int:
        return self.calls().count(RESTART)


@pytest.fixture
def make_node(tmp_path: Path):
    if BUSYBOX is None:
        pytest.fail("busybox is required: the installer runs under busybox sh")
    listing = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True)
    available = set(listing.stdout.split())
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for applet in APPLETS:
        assert applet in available, f"busybox lacks {applet}"
        (bindir / applet).symlink_to(BUSYBOX)
    for command in FAKED:
        assert command in available, f"busybox lacks {command}"
    nsenter = bindir / "nsenter"
    nsenter.write_text(FAKE_NSENTER.format(busybox=BUSYBOX))
    nsenter.chmod(0o755)
    src = tmp_path / "assets/containerd-shim-spin-v2"
    src.parent.mkdir()

    def make(config: str | bytes, machine: str = "x86_64", shim_bytes: bytes | None = None) -> Node:
        """A node whose config is the named fixture, or the given bytes, whose `uname -m` prints
        `machine`, and whose image ships `shim_bytes` (default: a shim for the node's CPU)."""
        uname = bindir / "uname"
        uname.unlink(missing_ok=True)  # never write through a symlink to busybox
        uname.write_text(FAKE_UNAME.format(busybox=BUSYBOX, machine=machine))
        uname.chmod(0o755)
        src.write_bytes(shim(CPU[machine]) if shim_bytes is None else shim_bytes)
        node = Node(tmp_path / "host", bindir, tmp_path / "nsenter.log", src)
        node.config.parent.mkdir(parents=True)
        if isinstance(config, str):
            config = (FIXTURES / config).read_bytes()
        node.config.write_bytes(config)
        node.config.chmod(0o644)
        return node

    return make


def block(plugin: str, runtime_type: str = DEST, tag: str = "") -> str:
    return (
        f"# BEGIN aks-wasm-migration shim spin{tag}\n"
        f'[plugins."{plugin}".containerd.runtimes.spin]\n'
        f'  runtime_type = "{runtime_type}"\n'
        f'[plugins."{plugin}".containerd.runtimes.spin.options]\n'
        "  SystemdCgroup = true\n"
        "# END aks-wasm-migration shim spin\n"
    )


def runtimes(doc: dict, plugin: str) -> dict:
    cri = doc.get("plugins", {}).get(plugin, {})
    return cri.get("containerd", {}).get("runtimes", {})


def spin_headers(text: str) -> list[str]:
    headers = re.findall(r"^\s*\[([^\]]+)\]", text, re.MULTILINE)
    spin = re.compile(r"\.runtimes\.['\"]?spin['\"]?(\.options)?\s*$")
    return [h for h in headers if spin.search(h)]


def ctr_calls(node: Node) -> int:
    return sum(bool(CTR_VERSION.match(line)) for line in node.calls())


def is_subset(small: object, big: object) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and is_subset(v, big[k]) for k, v in small.items())
    return small == big


def snapshot(root: Path) -> dict[str, tuple]:
    """Bytes, mode, inode and mtime of every file: any write, rename or stray temp file shows."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file())
    return {
        str(p.relative_to(root)): (p.read_bytes(), (s := p.stat()).st_mode, s.st_ino, s.st_mtime_ns)
        for p in files
    }


def test_script_parses_under_busybox_sh():
    result = subprocess.run([BUSYBOX, "sh", "-n", str(SCRIPT)], check=False, capture_output=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("fixture", FIXTURE_PLUGINS)
def test_install_appends_one_runtime_under_the_files_plugin_id(make_node, fixture):
    node = make_node(fixture)
    original = node.config.read_bytes()
    inode = node.config.stat().st_ino
    plugin = FIXTURE_PLUGINS[fixture]
    wrong = GRPC if plugin == CRI_RUNTIME else CRI_RUNTIME

    result = node.ok()

    text = node.config.read_text()
    assert text == original.decode() + block(plugin)
    doc = tomllib.loads(text)
    assert is_subset(tomllib.loads(original.decode()), doc)
    spin = {"runtime_type": DEST, "options": {"SystemdCgroup": True}}
    assert runtimes(doc, plugin)["spin"] == spin
    assert "spin" not in runtimes(doc, wrong)
    assert len(spin_headers(text)) == 2  # the runtime table and its options, once each
    assert node.backup.read_bytes() == original
    assert node.shim.read_bytes() == node.src.read_bytes()
    assert node.shim.stat().st_mode & 0o777 == 0o755
    assert node.config.stat().st_mode & 0o777 == 0o644
    assert node.config.stat().st_ino != inode  # renamed into place, never edited in place
    assert sorted(os.listdir(node.config.parent)) == [node.config.name, node.backup.name]
    assert os.listdir(node.shim.parent) == ["containerd-shim-spin-v2"]
    calls = node.calls()
    assert calls[0] == RESTART and len(calls) == 2 and CTR_VERSION.match(calls[1])
    assert all(line.startswith("shim-installer: ") for line in result.stdout.splitlines())


def test_second_run_writes_nothing_and_restarts_nothing(make_node):
    node = make_node("containerd2-version4.toml")
    node.ok()
    before = snapshot(node.root)

    node.ok()

    assert snapshot(node.root) == before
    assert node.restarts() == 1


def test_run_after_revert_restores_block_with_one_restart(make_node):
    node = make_node("containerd17-ubuntu2204.toml")
    original = node.config.read_bytes()
    node.ok()
    installed = node.config.read_bytes()
    backup_stat = node.backup.stat()
    node.config.write_bytes(original)  # reimage: AgentBaker rewrites the config

    node.ok()

    assert node.config.read_bytes() == installed
    assert node.restarts() == 2
    assert node.backup.stat().st_ino == backup_stat.st_ino
    assert node.backup.read_bytes() == original


def test_outdated_block_is_replaced_in_place(make_node):
    node = make_node("containerd2-version2-header.toml")
    original = node.config.read_text()
    node.ok()
    trailer = '[debug]\n  level = "info"\n'  # added after our block by someone else
    node.config.write_text(node.config.read_text() + trailer)

    moved = "/opt/spin/containerd-shim-spin-v2"
    node.ok(SHIM_DEST=moved)

    text = node.config.read_text()
    assert text == original + block(CRI_RUNTIME, moved) + trailer
    assert runtimes(tomllib.loads(text), CRI_RUNTIME)["spin"]["runtime_type"] == moved
    assert (node.root / moved.lstrip("/")).read_bytes() == node.src.read_bytes()
    assert node.restarts() == 2
    assert node.backup.read_text() == original


def test_runtime_type_mode_name(make_node):
    node = make_node("containerd2-version3-single-quoted.toml")
    original = node.config.read_text()

    node.ok(RUNTIME_TYPE_MODE="name")

    assert node.config.read_text() == original + block(CRI_RUNTIME, "io.containerd.spin.v2")
    doc = tomllib.loads(node.config.read_text())
    assert runtimes(doc, CRI_RUNTIME)["spin"]["runtime_type"] == "io.containerd.spin.v2"
    # This file also has a grpc.v1.cri table (streaming settings); it must stay runtime-free.
    assert "spin" not in runtimes(doc, GRPC)


def test_shim_is_copied_only_when_its_sha_differs(make_node):
    node = make_node("containerd17-ubuntu2204.toml")
    node.ok()
    first = node.shim.stat()

    node.ok()
    again = node.shim.stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)

    node.src.write_bytes(shim("x86_64", "v2"))
    node.ok()
    assert node.shim.read_bytes() == node.src.read_bytes()
    assert node.shim.stat().st_ino != first.st_ino  # renamed into place, not rewritten
    assert node.shim.stat().st_mode & 0o777 == 0o755
    assert node.restarts() == 1  # new sandboxes exec the new binary; no restart needed


@pytest.mark.parametrize(
    "fixture", ["containerd17-ubuntu2204.toml", "containerd2-version3-single-quoted.toml"]
)
def test_uninstall_restores_original_bytes_and_removes_shim(make_node, fixture):
    node = make_node(fixture)
    original = node.config.read_bytes()
    node.ok()

    node.ok("uninstall")

    assert node.config.read_bytes() == original
    assert not node.shim.exists()
    assert node.restarts() == 2
    assert node.backup.read_bytes() == original  # kept for the operator

    node.ok("uninstall")
    assert node.restarts() == 2
    assert node.config.read_bytes() == original


def test_config_without_final_newline_round_trips(make_node):
    # aks-node-controller writes the config without a trailing newline.
    original = (FIXTURES / "containerd17-ubuntu2204.toml").read_bytes().rstrip(b"\n")
    node = make_node(original)

    node.ok()
    text = node.config.read_text()
    tag = " (original had no final newline)"
    assert text == original.decode() + "\n" + block(GRPC, tag=tag)
    assert runtimes(tomllib.loads(text), GRPC)["spin"]["runtime_type"] == DEST
    before = snapshot(node.root)
    node.ok()
    assert snapshot(node.root) == before

    node.ok("uninstall")
    assert node.config.read_bytes() == original
    assert node.restarts() == 2


@pytest.mark.parametrize(
    ("fixture", "header"),
    [
        (
            "containerd17-ubuntu2204.toml",
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.spin]',
        ),
        (
            "containerd2-version3-single-quoted.toml",
            "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.spin]",
        ),
        # Only an options table, indented, under the other plugin id: still a clash.
        (
            "containerd2-version4.toml",
            '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.spin.options]',
        ),
        (
            "containerd2-version2-header.toml",
            '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes."spin"]',
        ),
    ],
    ids=["kwasm-double-quoted", "single-quoted", "options-under-other-id", "quoted-key"],
)
def test_foreign_handler_table_is_refused_untouched(make_node, fixture, header):
    foreign = f'{header}\n  runtime_type = "io.containerd.spin.v2"\n'
    node = make_node((FIXTURES / fixture).read_bytes() + foreign.encode())
    before = snapshot(node.root)

    result = node.run()

    assert result.returncode == 3
    assert "outside our markers" in result.stderr
    assert snapshot(node.root) == before  # no config edit, no backup, no shim
    assert node.calls() == []


def test_similar_names_and_comments_are_not_foreign_tables(make_node):
    extra = (
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.spin-legacy]\n'
        '  runtime_type = "io.containerd.spin.v1"\n'
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.spinkube]\n'
        '  runtime_type = "io.containerd.spin.v2"\n'
        '# [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.spin]\n'
        '# containerd 2 would read [plugins."io.containerd.cri.v1.runtime"]\n'
    )
    node = make_node((FIXTURES / "containerd17-ubuntu2204.toml").read_bytes() + extra.encode())

    node.ok()

    doc = tomllib.loads(node.config.read_text())
    assert {"spin", "spin-legacy", "spinkube"} <= runtimes(doc, GRPC).keys()
    assert "spin" not in runtimes(doc, CRI_RUNTIME)  # the plugin id in a comment is ignored
    assert node.restarts() == 1


@pytest.mark.parametrize(
    ("applet", "pattern"),
    [
        ("mv", "*/containerd-shim-spin-v2"),  # e.g. read-only /usr/local on the node
        ("mv", "*/config.toml"),  # after the shim and the backup went in
        ("cat", "*/config.toml"),  # the content for the backup cannot be produced
    ],
)
def test_failed_write_changes_no_config_and_leaves_no_temp_file(make_node, applet, pattern):
    node = make_node("containerd17-ubuntu2204.toml")
    original = node.config.read_bytes()
    wrapper = node.bin / applet  # fails when an argument matches, else the real applet
    wrapper.unlink()
    wrapper.write_text(
        f"#!{BUSYBOX} sh\n"
        f"for a; do case $a in {pattern}) exit 1 ;; esac; done\n"
        f'exec {BUSYBOX} {applet} "$@"\n'
    )
    wrapper.chmod(0o755)

    result = node.run()

    assert result.returncode != 0
    assert node.config.read_bytes() == original
    names = {p.name for p in node.root.rglob("*") if p.is_file()}
    assert names <= {node.config.name, node.backup.name, node.shim.name}
    assert node.calls() == []


def test_restart_waits_until_containerd_answers(make_node):
    node = make_node("containerd17-ubuntu2204.toml")

    node.ok(CTR_FAILURES="1", RESTART_TIMEOUT="30")

    assert ctr_calls(node) == 2


def test_restart_timeout_fails(make_node):
    node = make_node("containerd17-ubuntu2204.toml")

    # The deadline counts whole seconds of `date +%s`: 3 leave room for a retry however the first
    # call falls within its second.
    result = node.run(CTR_FAILURES="1000", RESTART_TIMEOUT="3")

    assert result.returncode == 1
    assert "did not answer within 3s" in result.stderr
    assert node.restarts() == 1
    assert ctr_calls(node) >= 2  # it retried before giving up


def test_check_passes_only_for_a_complete_install(make_node):
    node = make_node("containerd2-version4.toml")

    def check(**env: str) -> int:
        before, calls = snapshot(node.root), node.calls()
        result = node.run("check", **env)
        assert snapshot(node.root) == before  # read-only
        assert node.calls() == calls  # no nsenter
        return result.returncode

    assert check() != 0
    node.ok()
    assert check() == 0
    assert check(SHIM_SRC="/nonexistent") == 0  # nothing to compare: existence suffices

    installed = node.config.read_bytes()
    node.config.write_bytes((FIXTURES / "containerd2-version4.toml").read_bytes())
    assert check() != 0
    node.config.write_bytes(installed[: -len("# END aks-wasm-migration shim spin\n")])
    assert check() != 0  # BEGIN without END is not a complete block
    node.config.write_bytes(installed)

    node.src.write_bytes(shim("x86_64", "v2"))
    assert check() != 0
    node.shim.chmod(0o644)
    assert check(SHIM_SRC="/nonexistent") != 0
    node.shim.unlink()
    assert check(SHIM_SRC="/nonexistent") != 0


def test_existing_backup_is_never_overwritten(make_node):
    node = make_node("containerd17-ubuntu2204.toml")
    node.backup.write_bytes(b"# backup from an earlier install\n")

    node.ok()

    assert node.backup.read_bytes() == b"# backup from an earlier install\n"


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("frobnicate",), {}),
        ((), {"RUNTIME_HANDLER": "Spin_1"}),
        ((), {"SHIM_DEST": "usr/local/bin/containerd-shim-spin-v2"}),
        ((), {"SHIM_DEST": '/opt/"spin"'}),
        ((), {"RUNTIME_TYPE_MODE": "binary"}),
        ((), {"RESTART_TIMEOUT": "1m"}),
    ],
    ids=[
        "unknown-action",
        "handler-not-dns-label",
        "relative-dest",
        "quote-in-dest",
        "bad-mode",
        "bad-timeout",
    ],
)
def test_bad_arguments_exit_2_without_touching_anything(make_node, args, env):
    node = make_node("containerd17-ubuntu2204.toml")
    before = snapshot(node.root)

    result = node.run(*args, **env)

    assert result.returncode == 2, result.stderr
    assert snapshot(node.root) == before
    assert node.calls() == []


@pytest.mark.parametrize(
    ("machine", "cpu"),
    [
        pytest.param("x86_64", "x86_64", id="x86_64-on-x86_64"),
        pytest.param("amd64", "x86_64", id="x86_64-on-amd64"),
        pytest.param("aarch64", "aarch64", id="aarch64-on-aarch64"),
        pytest.param("arm64", "aarch64", id="aarch64-on-arm64"),
    ],
)
def test_shim_for_the_nodes_cpu_installs(make_node, machine, cpu):
    node = make_node("containerd2-version4.toml", machine=machine, shim_bytes=shim(cpu))
    original = node.config.read_text()

    node.ok()

    assert node.config.read_text() == original + block(CRI_RUNTIME)
    assert node.shim.read_bytes() == shim(cpu)
    assert node.shim.stat().st_mode & 0o777 == 0o755
    assert node.restarts() == 1
    node.ok("check")


@pytest.mark.parametrize(
    ("machine", "shim_bytes", "what"),
    [
        pytest.param("aarch64", shim("x86_64"), "is an x86_64 binary", id="x86_64-on-aarch64"),
        pytest.param("arm64", shim("x86_64"), "is an x86_64 binary", id="x86_64-on-arm64"),
        pytest.param("x86_64", shim("aarch64"), "is an aarch64 binary", id="aarch64-on-x86_64"),
        pytest.param("x86_64", b"#!/bin/sh\nexec true\n", "is not an ELF file", id="shell-script"),
        pytest.param("x86_64", b"", "is not an ELF file", id="empty"),
        pytest.param("x86_64", shim("x86_64")[:18], "is not an ELF file", id="truncated-header"),
        pytest.param(
            "x86_64",
            elf(MACHINES["x86_64"], data=2),
            "is not a 64-bit little-endian ELF file",
            id="big-endian",
        ),
        pytest.param(
            "x86_64",
            elf(MACHINES["x86_64"], elf_class=1),
            "is not a 64-bit little-endian ELF file",
            id="elf32-x32",
        ),
        pytest.param("x86_64", elf(243), "is an ELF file for machine 243", id="riscv64"),
        pytest.param("s390x", shim("x86_64"), "is an x86_64 binary", id="unknown-node-cpu"),
    ],
)
def test_shim_not_built_for_the_nodes_cpu_exits_4_untouched(make_node, machine, shim_bytes, what):
    node = make_node("containerd17-ubuntu2204.toml", machine=machine, shim_bytes=shim_bytes)
    before = snapshot(node.root)

    result = node.run()

    assert result.returncode == 4, result.stderr
    assert snapshot(node.root) == before  # no backup, no shim, no config write
    assert node.calls() == []  # no restart, no nsenter at all
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"shim-installer: error: {node.src} {what} but this node is {CPU.get(machine, machine)};"
    )
    assert "multi-arch index digest" in line
    assert "mirror every architecture" in line
    assert line.endswith("Nothing was changed.")


def test_new_shim_for_another_cpu_leaves_the_installed_one_alone(make_node):
    # An image re-pinned by a single-platform digest on a node that already runs the shim.
    node = make_node("containerd2-version4.toml", machine="aarch64")
    node.ok()
    before = snapshot(node.root)
    node.src.write_bytes(shim("x86_64", "v2"))

    result = node.run()

    assert result.returncode == 4, result.stderr
    assert snapshot(node.root) == before
    assert node.shim.read_bytes() == shim("aarch64")
    assert node.restarts() == 1


@pytest.mark.parametrize(
    ("machine", "installed", "what"),
    [
        pytest.param("aarch64", shim("x86_64"), "is an x86_64 binary", id="x86_64-on-aarch64"),
        pytest.param("x86_64", shim("aarch64"), "is an aarch64 binary", id="aarch64-on-x86_64"),
        pytest.param("x86_64", b"#!/bin/sh\nexec true\n", "is not an ELF file", id="not-elf"),
    ],
)
def test_check_fails_for_an_installed_shim_not_built_for_the_nodes_cpu(make_node, machine, installed, what):
    # E.g. installed by an installer without this check from a single-platform image.
    node = make_node("containerd2-version4.toml", machine=machine)
    node.ok()
    node.shim.write_bytes(installed)
    node.src.write_bytes(installed)  # same sha256: only the CPU check can catch it
    before, calls = snapshot(node.root), node.calls()

    for env in ({}, {"SHIM_SRC": "/nonexistent"}):
        result = node.run("check", **env)

        assert result.returncode == 1, result.stderr
        assert f"check: {node.shim} {what} but this node is {machine}" in result.stderr
        assert snapshot(node.root) == before  # read-only
        assert node.calls() == calls  # no nsenter


@pytest.mark.skipif(not CONTAINERD.exists(), reason="needs /usr/bin/containerd (CI installs Debian's)")
def test_containerd_accepts_the_result(make_node):
    node = make_node("containerd17-ubuntu2204.toml")
    node.ok()

    dump = subprocess.run(
        [str(CONTAINERD), "--config", str(node.config), "config", "dump"],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert dump.returncode == 0, dump.stderr
    effective = runtimes(tomllib.loads(dump.stdout), GRPC)
    assert effective["spin"]["runtime_type"] == DEST
    assert effective["spin"]["options"] == {"SystemdCgroup": True}
    assert effective["runc"]["options"]["SystemdCgroup"] is True
