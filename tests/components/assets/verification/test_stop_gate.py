"""The stop gate's script, run for real against a fake Kubernetes API on 127.0.0.1: it exits 0 only once
no pod of the stopped side is listed any more (a terminating one still counts), 1 when they outlive its
time, and 2 when it cannot ask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from components.desired.verification import STOP_GATE_SCRIPT
from tests.components.assets.verification.test_verify import serve


def _run(api_port: int, settings: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "KUBERNETES_API": f"http://127.0.0.1:{api_port}",
        "VERIFY_SERVICEACCOUNT_DIR": str(tmp_path / "no-service-account"),
        "VERIFY_TERMINATION_LOG": str(tmp_path / "termination-log"),
        "STOP_GATE_SETTINGS": json.dumps(settings),
    }
    return subprocess.run(
        [sys.executable, str(STOP_GATE_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def _pod(name: str, terminating: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-03T12:00:00Z"
    return {"metadata": metadata}


def test_waits_until_the_last_pod_is_gone_terminating_ones_included(tmp_path):
    lists = iter([[_pod("guestbook-1"), _pod("guestbook-2", True)], [_pod("guestbook-2", True)], []])
    asked: list[str] = []

    def reply(handler):
        asked.append(urllib.parse.unquote(handler.path))
        return 200, json.dumps({"items": next(lists, [])}).encode()

    with serve(reply) as (port, _):
        done = _run(
            port, {"namespace": "notes", "selector": "app=guestbook,!x/y", "timeoutSeconds": 60}, tmp_path
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert asked[0] == "/api/v1/namespaces/notes/pods?labelSelector=app=guestbook,!x/y"
    assert len(asked) == 3  # asked until the list was empty
    assert "no pod app=guestbook,!x/y left in notes" in (tmp_path / "termination-log").read_text()


def test_pods_that_outlive_the_gate_fail_it_with_their_names(tmp_path):
    def reply(handler):
        return 200, json.dumps({"items": [_pod("guestbook-1", True)]}).encode()

    with serve(reply) as (port, _):
        done = _run(port, {"namespace": "notes", "selector": "app=guestbook", "timeoutSeconds": 0}, tmp_path)
    assert done.returncode == 1
    assert "guestbook-1" in (tmp_path / "termination-log").read_text()


def test_an_api_it_cannot_ask_is_exit_2(tmp_path):
    def reply(handler):
        return 403, b'{"message": "forbidden"}'

    with serve(reply) as (port, _):
        done = _run(port, {"namespace": "notes", "selector": "app=guestbook", "timeoutSeconds": 5}, tmp_path)
    assert done.returncode == 2
    assert "HTTP 403" in (tmp_path / "termination-log").read_text()
