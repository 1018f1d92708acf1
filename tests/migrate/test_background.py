"""migrate/background.py: the work runs in a forked child when that can help, its answer comes back
whole, a failing child's work runs again here, and a threaded process never forks. Each case runs in a
fresh interpreter: pytest's own workers have threads, where the module rightly never forks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

_PRELUDE = """
import json, os, sys, threading
from migrate.background import Background
parent = os.getpid()
"""


def _run(body: str) -> dict:
    script = _PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_the_work_runs_in_a_child_and_its_whole_answer_comes_back() -> None:
    answer = _run("""
        big = [{"line": f"problem {i}", "pid": None} for i in range(200_000)]  # past any pipe buffer
        job = Background(lambda: (os.getpid(), big))
        forked = job.forked
        pid, lines = job.result()
        print(json.dumps({"forked": forked, "child": pid != parent, "same": lines == big}))
    """)
    assert answer == {"forked": True, "child": True, "same": True}


def test_a_failing_child_runs_the_work_again_here() -> None:
    answer = _run("""
        def work():
            if os.getpid() != parent:
                raise RuntimeError("only in the child")
            return os.getpid()
        print(json.dumps({"ran_here": Background(work).result() == parent}))
    """)
    assert answer == {"ran_here": True}


def test_a_process_with_another_thread_never_forks() -> None:
    answer = _run("""
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        job = Background(os.getpid)
        print(json.dumps({"forked": job.forked, "ran_here": job.result() == parent}))
        stop.set()
    """)
    assert answer == {"forked": False, "ran_here": True}


def test_the_child_prints_nothing_of_the_parents() -> None:
    """Buffered stdout is not flushed twice: the child leaves with os._exit."""
    script = _PRELUDE + "print('once', end=' ')\nBackground(lambda: 1).result()\nprint('done')\n"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout == "once done\n"


def test_waiting_is_true_until_the_child_has_answered_and_false_where_none_runs() -> None:
    answer = _run("""
        import time
        gate_read, gate_write = os.pipe()
        def work():
            os.read(gate_read, 1)  # the child answers only once the parent lets it
            return "answer"
        job = Background(work)
        before = job.waiting()
        os.write(gate_write, b"x")
        deadline = time.monotonic() + 30
        while job.waiting() and time.monotonic() < deadline:
            time.sleep(0.01)
        after = job.waiting()
        result = job.result()
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        here = Background(lambda: "here")  # a threaded process: nothing forked, nothing to wait for
        print(json.dumps({"before": before, "after": after, "result": result,
                          "here": [here.forked, here.waiting(), here.result()]}))
        stop.set()
    """)
    assert answer == {"before": True, "after": False, "result": "answer", "here": [False, False, "here"]}
