"""`--base-ref`: the "before" side of `diff` and `check --from` as it was at a git revision.
See docs/design/revision.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from components.core.config import ConfigError
from components.core.inputs import (
    MAX_FILE_BYTES,
    FileTexts,
    UnsafeInput,
    decode,
    echo,
    escape,
    relative_path,
)
from components.loading import PROJECT_ROOT, cluster_files, raw_config_from_stack_text
from migrate.state import EXIT_INPUT, InputError, Loaded, load_raw, parse_only, read_manifests, read_named

if TYPE_CHECKING:
    import subprocess

GIT_SECONDS = 60  # a local object read; only a broken repository takes longer

# `git cat-file --batch-check --follow-symlinks` answers other than `<oid> <type> <size>` (git-cat-file(1)).
_OBJECT = re.compile(r"^(?P<oid>[0-9a-f]{40,64}) (?P<kind>[a-z]+) (?P<size>[0-9]+)$")
_NOT_A_BLOB = {
    "dangling": "is a symlink to a path that does not exist",
    "notdir": "does not exist (a parent is not a directory)",
    "loop": "is a symlink loop",
    "symlink": "resolves through a symlink to outside the repository",
}


def _git(root: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    import subprocess  # here: only --base-ref runs git

    try:
        return subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, timeout=GIT_SECONDS, check=False
        )
    except FileNotFoundError:
        raise InputError(
            ["--base-ref reads the source from git, which is not installed"], EXIT_INPUT
        ) from None
    except subprocess.TimeoutExpired:
        raise InputError(
            [f"--base-ref: `git {args[0]}` did not answer within {GIT_SECONDS} s in {root}"], EXIT_INPUT
        ) from None


def _stderr(done: subprocess.CompletedProcess[bytes]) -> str:
    return escape(
        done.stderr.decode("utf-8", "replace").strip().splitlines()[-1] if done.stderr.strip() else ""
    )


@dataclass(frozen=True)
class Revision:
    """One commit of the repository holding the project."""

    ref: str  # as the user named it, for messages
    commit: str
    top: Path  # the repository's working tree
    prefix: str  # the project root's path inside it ("" at its top)

    def read(self, path: str) -> str:
        """A blob's UTF-8 text at this commit; `path` from the repository's top. UnsafeInput says why not."""
        if "\n" in path:
            raise UnsafeInput("the path holds a line break")
        done = _git(
            self.top,
            "cat-file",
            "--batch-check",
            "--follow-symlinks",
            stdin=f"{self.commit}:{path}\n".encode(),
        )
        answer = done.stdout.decode("utf-8", "replace").split("\n", 1)[0]
        found = _OBJECT.match(answer)
        if done.returncode != 0 or not found:
            first = answer.split(" ", 1)[0]
            if done.returncode == 0 and (first in _NOT_A_BLOB or answer.endswith(" missing")):
                raise UnsafeInput(f"{_NOT_A_BLOB.get(first, 'does not exist')} at {escape(self.ref)}")
            raise UnsafeInput(f"cannot be read at {escape(self.ref)}: git: {_stderr(done)}")
        oid, kind, size = found.group("oid"), found.group("kind"), int(found.group("size"))
        if kind != "blob":
            what = {"tree": "a directory", "commit": "a submodule"}.get(kind, f"a git {kind}")
            raise UnsafeInput(f"is {what} at {escape(self.ref)}, not a file; it is not read")
        if size > MAX_FILE_BYTES:
            raise UnsafeInput(
                f"is {size:,} bytes at {escape(self.ref)}, above the file size limit of "
                f"{MAX_FILE_BYTES:,} bytes"
            )
        blob = _git(self.top, "cat-file", "blob", oid)
        if blob.returncode != 0 or len(blob.stdout) != size:
            raise UnsafeInput(f"cannot be read at {escape(self.ref)}: git: {_stderr(blob)}")
        return decode(blob.stdout)

    def manifest(self, relative: str) -> str:
        """A manifest named in a config (relative to the project root), confined as in the working tree."""
        return self.read(PurePosixPath(self.prefix, relative_path(relative)).as_posix())

    def stack_file(self, path: Path) -> tuple[str, str]:
        """A stack file named by its working-tree path: where it is in the repository, and its text."""
        try:
            inside = Path(path).resolve().relative_to(self.top).as_posix()
        except ValueError:
            raise InputError(
                [f"{path}: --base-ref reads it from git, but it is outside the repository at {self.top}"],
                EXIT_INPUT,
            ) from None
        try:
            return inside, self.read(inside)
        except UnsafeInput as error:
            raise InputError([f"{self.ref}:{inside}: {error}"], EXIT_INPUT) from None


def resolve(ref: str, root: Path = PROJECT_ROOT) -> Revision:
    """The commit `ref` names in the repository holding `root`; InputError (exit 2) naming the ref."""
    if not ref or ref.startswith("-") or not ref.isprintable() or any(c.isspace() for c in ref):
        raise InputError(
            [
                f"--base-ref {echo(ref)}: not a usable git revision; name a branch, tag or commit "
                "(no leading '-', no spaces or control characters), e.g. origin/main or a commit sha"
            ],
            EXIT_INPUT,
        )
    where = _git(root, "rev-parse", "--show-toplevel", "--show-prefix")
    if where.returncode != 0:
        raise InputError([f"--base-ref: {root} is not in a git repository ({_stderr(where)})"], EXIT_INPUT)
    found = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise InputError(
            [
                f"--base-ref {echo(ref)}: not a commit of the repository at {root}; fetch it first "
                "(in CI: actions/checkout with fetch-depth: 0)"
            ],
            EXIT_INPUT,
        )
    top, prefix = [*where.stdout.decode().split("\n"), ""][:2]
    return Revision(ref, found.stdout.decode().strip(), Path(top).resolve(), prefix)


@dataclass(frozen=True)
class Source:
    """The before side at a revision: the loaded config and the text of each manifest it names."""

    loaded: Loaded
    manifests: dict[str, str]


def read_raw_at(revision: Revision, path: Path) -> tuple[Path, dict[str, Any]]:
    """The project's keys of a stack file at the revision, and the name messages give it
    (`<ref>:<path>`); InputError (exit 2) when it cannot be read or parsed there."""
    inside, text = revision.stack_file(path)
    label = Path(f"{revision.ref}:{inside}")
    try:
        return label, raw_config_from_stack_text(text, str(label))
    except ConfigError as error:
        raise InputError([f"{label}: {line}" for line in error.problems], EXIT_INPUT) from None


def load_at(revision: Revision, label: Path, raw: dict[str, Any], *, analysed: bool = True) -> Source:
    """A stack file's config with its manifests as they were at the revision, loaded as `load` loads the
    working tree's: the loader reads them, and the cluster's files the config names, from memory, as a
    project holding those files alone. `analysed=False`: the plan alone (see migrate.state.state_at)."""
    config = parse_only(label, raw)
    manifests = read_manifests(config, str(label), revision.manifest)
    named = ((key, relative) for key, relative in cluster_files(config).items() if relative is not None)
    cluster = read_named(named, str(label), revision.manifest)
    return Source(load_raw(label, raw, FileTexts.of({**cluster, **manifests}), analysed=analysed), manifests)
