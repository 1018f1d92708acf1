"""The verification script, run for real: a fake Kubernetes API on 127.0.0.1 lists pods whose IPs and
named ports point at local HTTP servers (a healthy legacy pod, a slow and a failing new pod), and the
script must find the right pods, measure them and report every failure."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from components.core.config import Phase
from components.desired.verification import SCRIPT, script_settings
from components.loading import load_migration
from tests.conftest import load_raw, phase_path

Reply = tuple[int, bytes]


@contextmanager
def serve(reply: Callable[[BaseHTTPRequestHandler], Reply]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """An HTTP server on 127.0.0.1 (random port) in a thread; yields its port and the requests seen."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            status, payload = reply(self)
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PATCH = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def healthy(_: BaseHTTPRequestHandler) -> Reply:
    return 200, b"Hello world from Spin!"


def slow(_: BaseHTTPRequestHandler) -> Reply:
    time.sleep(0.15)
    return 200, b"Hello world from Spin!"


def failing(_: BaseHTTPRequestHandler) -> Reply:
    return 500, b"wasm trap: unreachable"


def pod(name: str, port: int, runtime_class: str, *, ready: bool = True, cold_start: int = 2) -> dict:
    """A pod as `kubectl get pod -o json` shows it (trimmed to what the script reads, plus noise)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "web",
            "uid": f"uid-{name}",
            "resourceVersion": "4711",
            "labels": {"app": "hello-spin", "pod-template-hash": "7c9f8d6b5"},
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}],
        },
        "spec": {
            "runtimeClassName": runtime_class,
            "containers": [{"name": "hello-spin", "ports": [{"name": "http", "containerPort": port}]}],
        },
        "status": {
            "phase": "Running",
            "podIP": "127.0.0.1",
            "startTime": "2026-11-21T10:00:00Z",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-21T09:59:59Z"},
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": f"2026-11-21T10:00:{cold_start:02d}Z",
                },
            ],
        },
    }


def settings(tmp_path: Path, **overrides: Any) -> Path:
    """The settings the builder writes into the ConfigMap for web/hello-spin, with a short run."""
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    result = script_settings(migration.config, migration.workloads[0])
    result["legacy"]["port"] = result["new"]["port"] = "http"  # the fake pods' named port
    result.update(requestsPerPath=12, requestsPerSecond=100, requestTimeoutSeconds=3, **overrides)
    path = tmp_path / "verification.json"
    path.write_text(json.dumps(result))
    return path


@contextmanager
def fake_api(
    legacy: list[dict], new: list[dict], memory: dict[str, str] | None
) -> Iterator[tuple[int, list]]:
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    expected = script_settings(migration.config, migration.workloads[0])

    def reply(handler: BaseHTTPRequestHandler) -> Reply:
        url = urllib.parse.urlparse(handler.path)
        selector = urllib.parse.parse_qs(url.query).get("labelSelector", [""])[0]
        pods = {expected["legacy"]["selector"]: legacy, expected["new"]["selector"]: new}.get(selector)
        if pods is None:
            return 400, b"unexpected labelSelector " + selector.encode()
        if url.path == "/api/v1/namespaces/web/pods":
            return 200, json.dumps({"kind": "PodList", "apiVersion": "v1", "items": pods}).encode()
        if url.path == "/apis/metrics.k8s.io/v1beta1/namespaces/web/pods":
            if memory is None:
                return 404, b'{"kind":"Status","reason":"NotFound"}'
            items = [
                {
                    "metadata": {"name": p["metadata"]["name"]},
                    "containers": [{"usage": {"memory": memory[p["metadata"]["name"]], "cpu": "1m"}}],
                }
                for p in pods
                if p["metadata"]["name"] in memory
            ]
            return 200, json.dumps({"kind": "PodMetricsList", "items": items}).encode()
        return 404, b"not found"

    def route(handler: BaseHTTPRequestHandler) -> Reply:
        if handler.command == "PATCH":
            return 200, b"{}"
        return reply(handler)

    with serve(route) as (port, seen):
        yield port, seen


def run_script(tmp_path: Path, api_port: int, config: Path) -> subprocess.CompletedProcess:
    account = tmp_path / "serviceaccount"
    account.mkdir(exist_ok=True)
    (account / "token").write_text("test-token\n")
    env = {
        "KUBERNETES_API": f"http://127.0.0.1:{api_port}",
        "VERIFY_SERVICEACCOUNT_DIR": str(account),
        "VERIFY_TERMINATION_LOG": str(tmp_path / "termination-log"),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_a_slow_and_a_failing_new_pod_are_both_reported(tmp_path):
    with (
        serve(healthy) as (legacy_port, legacy_seen),
        serve(slow) as (slow_port, slow_seen),
        serve(failing) as (failing_port, failing_seen),
    ):
        legacy = [
            pod("hello-spin-6d4f9-abcde", legacy_port, "wasmtime-spin-v2"),
            pod("hello-spin-6d4f9-unready", legacy_port, "wasmtime-spin-v2", ready=False),
            # Matches the legacy labels but runs on the shim: the runtime class tells it apart.
            pod("hello-spin-spin-stray", failing_port, "wasm-spin"),
        ]
        new = [
            pod("hello-spin-spin-5b7c8-slow1", slow_port, "wasm-spin", cold_start=3),
            pod("hello-spin-spin-5b7c8-fail2", failing_port, "wasm-spin", cold_start=3),
        ]
        memory = {
            "hello-spin-6d4f9-abcde": "20Mi",
            "hello-spin-spin-5b7c8-slow1": "12Mi",
            "hello-spin-spin-5b7c8-fail2": "14Mi",
        }
        with fake_api(legacy, new, memory) as (api_port, api_seen):
            result = run_script(tmp_path, api_port, settings(tmp_path))

    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith("verification of web/hello-spin: FAIL\n")
    assert (
        "pods: 1 legacy (hello-spin-6d4f9-abcde), "
        "2 new (hello-spin-spin-5b7c8-fail2, hello-spin-spin-5b7c8-slow1)" in out
    )
    # The failing pod: half of the new side's requests are 500s and differ from legacy's 200s.
    assert "failed: error rate of new pods 50.0% is above maxErrorRate 0.0%" in out
    assert (
        "failed: 6 of 12 paired requests got different status codes (first: /hello: legacy 200, new 500)"
        in out
    )
    # The slow pod: p95 far above 1.5x legacy.
    assert "failed: p95 latency of new pods is" in out and "x legacy, above maxP95Ratio 1.5" in out
    assert "cold start, pod start to Ready (median): legacy 2000 ms, new 3000 ms" in out
    assert "memory per pod: legacy 20.0 MiB, new 13.0 MiB" in out
    # Exactly the intended pods got requests: the first request per pod, then 12 paired ones.
    assert len(legacy_seen) == 1 + 12
    assert len(slow_seen) == 1 + 6 and len(failing_seen) == 1 + 6
    assert {r["path"] for r in legacy_seen + slow_seen + failing_seen} == {"/hello"}
    # The API was called with the service account token, and the summary landed in the result ConfigMap.
    assert all(r["headers"]["Authorization"] == "Bearer test-token" for r in api_seen)
    (patch,) = [r for r in api_seen if r["method"] == "PATCH"]
    assert patch["path"] == "/api/v1/namespaces/web/configmaps/hello-spin-verification"
    assert patch["headers"]["Content-Type"] == "application/merge-patch+json"
    data = json.loads(patch["body"])["data"]
    assert data["passed"] == "false" and data["summary"] == out.rstrip("\n")
    assert json.loads(data["result.json"])["errorRate"]["new"] == 0.5
    # pulumi-kubernetes shows the termination message when the Job fails.
    assert "failed: error rate of new pods" in (tmp_path / "termination-log").read_text()


def steady(_: BaseHTTPRequestHandler) -> Reply:
    time.sleep(0.03)
    return 200, b"Hello world from Spin!"


def test_equal_sides_pass_and_missing_metrics_are_said_not_failed(tmp_path):
    with serve(steady) as (legacy_port, _), serve(steady) as (new_port, new_seen):
        legacy = [pod("hello-spin-6d4f9-abcde", legacy_port, "wasmtime-spin-v2")]
        new = [pod("hello-spin-spin-5b7c8-x1", new_port, "wasm-spin")]
        with fake_api(legacy, new, memory=None) as (api_port, api_seen):
            result = run_script(tmp_path, api_port, settings(tmp_path, paths=["/hello", "/"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("verification of web/hello-spin: PASS\n")
    assert "memory: not measured (metrics.k8s.io is not served; install metrics-server)" in result.stdout
    assert "body mismatches: none" in result.stdout
    assert "failed:" not in result.stdout
    assert {r["path"] for r in new_seen} == {"/hello", "/"}
    assert not (tmp_path / "termination-log").exists()
    (patch,) = [r for r in api_seen if r["method"] == "PATCH"]
    assert json.loads(patch["body"])["data"]["passed"] == "true"


def test_different_bodies_fail_when_asked_to_compare_them(tmp_path):
    def other(_: BaseHTTPRequestHandler) -> Reply:
        return 200, b"Hello from somewhere else"

    with serve(healthy) as (legacy_port, _), serve(other) as (new_port, _):
        legacy = [pod("hello-spin-6d4f9-abcde", legacy_port, "wasmtime-spin-v2")]
        new = [pod("hello-spin-spin-5b7c8-x1", new_port, "wasm-spin")]
        with fake_api(legacy, new, memory=None) as (api_port, _):
            result = run_script(tmp_path, api_port, settings(tmp_path, compareBodies=True))
            ignored = run_script(tmp_path, api_port, settings(tmp_path, compareBodies=False))
    assert result.returncode == 1 and "failed: bodies differ on /hello" in result.stdout
    assert ignored.returncode == 0, ignored.stdout


@pytest.mark.parametrize("side", ["legacy", "new"])
def test_no_ready_pods_on_a_side_is_a_failure_that_names_the_selector(tmp_path, side):
    with serve(healthy) as (port, _):
        pods = {
            "legacy": [pod("hello-spin-6d4f9-abcde", port, "wasmtime-spin-v2")],
            "new": [pod("hello-spin-spin-x", port, "wasm-spin")],
        }
        pods[side] = [dict(pods[side][0], status={**pods[side][0]["status"], "podIP": None})]
        with fake_api(pods["legacy"], pods["new"], memory=None) as (api_port, _):
            result = run_script(tmp_path, api_port, settings(tmp_path))
    assert result.returncode == 1
    assert f"failed: no ready {side} pods match " in result.stdout


def test_an_unreachable_api_exits_2_with_a_reason(tmp_path):
    with serve(healthy) as (port, _):
        pass  # closed again: nothing listens on this port any more
    result = run_script(tmp_path, port, settings(tmp_path))
    assert result.returncode == 2
    assert "cannot list pods" in result.stdout


def test_container_groups_are_reached_through_their_endpoint_slices(tmp_path):
    """Target aci: the new side has no pods; the script reads the Service's EndpointSlices (ready
    endpoints only) and says what it cannot measure there."""
    with serve(steady) as (legacy_port, _), serve(steady) as (group_port, group_seen):
        legacy = [pod("hello-spin-6d4f9-abcde", legacy_port, "wasmtime-spin-v2")]
        slices = {
            "kind": "EndpointSliceList",
            "apiVersion": "discovery.k8s.io/v1",
            "items": [
                {
                    "metadata": {"name": "hello-spin-spin-aci", "namespace": "web"},
                    "addressType": "IPv4",
                    "endpoints": [
                        {"addresses": ["127.0.0.1"], "conditions": {"ready": True}},
                        {"addresses": ["127.0.0.2"], "conditions": {"ready": False}},  # never asked
                    ],
                }
            ],
        }
        asked: list[str] = []

        def reply(handler: BaseHTTPRequestHandler) -> Reply:
            url = urllib.parse.urlparse(handler.path)
            selector = urllib.parse.parse_qs(url.query).get("labelSelector", [""])[0]
            asked.append(f"{url.path}?{selector}")
            if handler.command == "PATCH":
                return 200, b"{}"
            if url.path == "/apis/discovery.k8s.io/v1/namespaces/web/endpointslices":
                if selector != "kubernetes.io/service-name=hello-spin-spin":
                    return 400, b"unexpected selector"
                return 200, json.dumps(slices).encode()
            if url.path == "/api/v1/namespaces/web/pods":
                return 200, json.dumps({"kind": "PodList", "items": legacy}).encode()
            return 404, b'{"kind":"Status","reason":"NotFound"}'

        new_side = {
            "selector": "aks-wasm-migration/instance=hello-spin-spin",
            "port": group_port,
            "endpointsOf": "hello-spin-spin",
            "container": "ghcr.io/spinframework/spin:v3.6.3-distroless@sha256:" + "ab" * 32,
        }
        with serve(reply) as (api_port, _):
            config = settings(tmp_path, new=new_side)
            result = run_script(tmp_path, api_port, config)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith("verification of web/hello-spin: PASS\n")
    assert "new side: Azure Container Instances behind Service hello-spin-spin" in out
    assert "2 new" not in out and "1 new (127.0.0.1)" in out
    assert "memory: not measured (container groups are outside metrics.k8s.io" in out
    assert len(group_seen) == 1 + 12  # the first request, then 12 paired ones; 127.0.0.2 never
    assert (
        "/apis/metrics.k8s.io/v1beta1/namespaces/web/pods?aks-wasm-migration/instance=hello-spin-spin"
        not in asked
    )
