"""Writing generated files under one output root: nothing followed, atomic, all or nothing up front.
See docs/design/writes.md."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path, PurePosixPath

from components.core.inputs import escape

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeWrite(Exception):
    """A write refused before anything was written; the message names the path and why."""


def _parts(relative: str) -> tuple[str, ...]:
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or any(part in ("..", ".", "") for part in path.parts):
        raise UnsafeWrite(f"{escape(relative)}: not a plain path inside the output directory")
    return path.parts


def _open_directory(parent: int, name: str, shown: Path, create: bool) -> int | None:
    """The directory `name` under descriptor `parent`, never through a symlink; None when it does not
    exist and `create` is false."""
    try:
        status = os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            return None
        with contextlib.suppress(FileExistsError):  # another writer thread made it: checked below as well
            os.mkdir(name, 0o777, dir_fd=parent)
        status = os.lstat(name, dir_fd=parent)
    if stat.S_ISLNK(status.st_mode):
        target = os.readlink(name, dir_fd=parent)
        raise UnsafeWrite(
            f"{escape(str(shown))} is a symlink (to {escape(target)}); writes never follow symlinks: "
            "remove it or choose another output directory"
        )
    if not stat.S_ISDIR(status.st_mode):
        raise UnsafeWrite(f"{escape(str(shown))} is in the way: not a directory")
    return os.open(name, _DIRECTORY, dir_fd=parent)


def _check_target(directory: int | None, name: str, shown: Path, force: bool) -> bool:
    """Whether the file exists; UnsafeWrite when it is a symlink or not a regular file."""
    if directory is None:
        return False
    try:
        status = os.lstat(name, dir_fd=directory)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(status.st_mode):
        target = os.readlink(name, dir_fd=directory)
        raise UnsafeWrite(
            f"{escape(str(shown))} is a symlink (to {escape(target)}); writes never follow symlinks, "
            "--force neither: remove it"
        )
    if not stat.S_ISREG(status.st_mode):
        raise UnsafeWrite(f"{escape(str(shown))} is in the way: not a regular file")
    return True


def _walk(root: int, parts: tuple[str, ...], base: Path, create: bool) -> int | None:
    """The descriptor of the directory holding `parts[-1]`, or None when a level is missing."""
    current = os.dup(root)
    shown = base
    for name in parts[:-1]:
        shown = shown / name
        try:
            child = _open_directory(current, name, shown, create)
        finally:
            os.close(current)
        if child is None:
            return None
        current = child
    return current


def _write_atomically(directory: int, name: str, text: str) -> None:
    temporary = f".{name}.{os.getpid()}.tmp"
    descriptor = os.open(
        temporary,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        0o666,
        dir_fd=directory,
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.rename(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=directory)
        raise


_SYNCING = 8


def _write(
    base: int, root: Path, item: tuple[str, tuple[str, ...]], files: dict[str, str], force: bool
) -> Path:
    """One file: its directory opened without following a link (made if missing), the name checked again,
    the file written atomically."""
    relative, parts = item
    directory = _walk(base, parts, root, create=True)
    assert directory is not None
    try:
        _check_target(directory, parts[-1], root / relative, force)  # again: nothing swapped in
        _write_atomically(directory, parts[-1], files[relative])
    finally:
        os.close(directory)
    return root / relative


def write_files(root: Path, files: dict[str, str], *, force: bool) -> list[Path]:
    """Write `files` (relative path -> text) under `root`, creating directories; returns what was written.
    UnsafeWrite (nothing written) for a symlink in the way, a path out of the root, or an existing file
    without `force`; OSError from the system as it comes."""
    root.mkdir(parents=True, exist_ok=True)
    base = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        plan = [(relative, _parts(relative)) for relative in files]
        existing = []
        for relative, parts in plan:  # check everything before writing anything
            directory = _walk(base, parts, root, create=False)
            try:
                if _check_target(directory, parts[-1], root / relative, force):
                    existing.append(root / relative)
            finally:
                if directory is not None:
                    os.close(directory)
        existing.sort(key=str)
        if existing and not force:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise UnsafeWrite(f"{existing[0]} exists{more}; nothing was written; pass --force to overwrite")
        # Each file's fsync waits for the disk; syncing many files one after another (init writes one
        # per legacy workload: about 1 ms each here, 1 s for 1,000) is most of the time, while
        # concurrent fsyncs share the journal's commits (0.2 s for 1,000 with 8 threads).
        from concurrent.futures import ThreadPoolExecutor  # here: `check` and `diff` write nothing

        with ThreadPoolExecutor(max_workers=_SYNCING) as pool:
            return list(pool.map(lambda item: _write(base, root, item, files, force), plan))
    finally:
        os.close(base)
