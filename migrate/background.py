"""Work handed to a forked child while the command goes on: on a machine with two cores, `check`
validates every object's schema (a pure function of the loaded state whose answer is a few lines)
while it proves capacity and the transition.

The child shares the parent's memory as it was at the fork (copy on write) and sends back only the
answer, pickled, through a pipe; it leaves with `os._exit`, so nothing of the parent's (atexit handlers,
buffered stdout) runs twice. The work runs in this process instead where there is no `fork`, one core,
or another thread (a child forked from a threaded process may inherit a lock another thread held, and
hang), and again here when the child fails, so an error is raised where it would have been."""

from __future__ import annotations

import os
import pickle
import select
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def _may_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and threading.active_count() == 1


class Background(Generic[T]):
    """`work()` started now, in a child where that can help; `result()` waits for its answer."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._child: tuple[int, int] | None = None
        if _may_fork():
            self._child = _start(work)

    @property
    def forked(self) -> bool:
        return self._child is not None

    def waiting(self) -> bool:
        """Whether a child is still working: result() would wait for it (False once it has written its
        answer or is gone, and where no child runs: result() then does the work itself)."""
        if self._child is None:
            return False
        readable, _, _ = select.select([self._child[1]], [], [], 0)
        return not readable

    def result(self) -> T:
        if self._child is None:
            return self._work()
        pid, read = self._child
        self._child = None
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()  # before waiting: a child blocked on a full pipe never exits
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return self._work()
        answer: T = pickle.loads(data)
        return answer


def _start(work: Callable[[], object]) -> tuple[int, int]:
    """Fork a child that runs `work` and writes its pickled answer; the child's pid and the pipe's end."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read)
        status = 1
        try:
            data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    return pid, read
