"""Parity and performance check of one workload: the same requests to its legacy (WASI) pods and to its
new (shim) pods, compared against thresholds. Runs as a Kubernetes Job with the standard library only.

Pods are found through the API, not through the Services: during the default split the legacy Service
selects legacy and new pods alike, so only the pod list can tell the sides apart (label selectors plus
each pod's runtimeClassName). Requests go straight to the pod IPs. Memory comes from metrics.k8s.io
when metrics-server serves it. The summary goes to the log, to the result ConfigMap and, on failure,
to the termination message, which pulumi-kubernetes shows when the Job fails.

Usage: python verify.py [SETTINGS_JSON_FILE]   (default: $VERIFY_SETTINGS; exit 0 pass, 1 fail,
2 could not run)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import ssl
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import datetime

SERVICE_ACCOUNT = os.environ.get("VERIFY_SERVICEACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
API = os.environ.get("KUBERNETES_API", "https://kubernetes.default.svc")
TERMINATION_LOG = os.environ.get("VERIFY_TERMINATION_LOG", "/dev/termination-log")
_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "m": 1e-3}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def _api_request(method: str, path: str, body: dict | None = None, content_type: str = "") -> dict:
    headers = {"Accept": "application/json"}
    token_file = os.path.join(SERVICE_ACCOUNT, "token")
    if os.path.exists(token_file):
        with open(token_file) as handle:
            headers["Authorization"] = f"Bearer {handle.read().strip()}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = content_type or "application/json"
    context = None
    ca_file = os.path.join(SERVICE_ACCOUNT, "ca.crt")
    if API.startswith("https://"):
        context = ssl.create_default_context(cafile=ca_file if os.path.exists(ca_file) else None)
    request = urllib.request.Request(API + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise ApiError(error.code, error.read().decode(errors="replace")[:300]) from None


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _port(pod: dict, port: int | str) -> int | None:
    if isinstance(port, int):
        return port
    for container in pod["spec"].get("containers", []):
        for declared in container.get("ports") or []:
            if declared.get("name") == port:
                return int(declared["containerPort"])
    return None


def _ready(pod: dict) -> dict | None:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return condition
    return None


def find_pods(namespace: str, side: dict, port: int | str) -> list[dict]:
    """Ready pods of one side with their address and cold start (pod start to Ready, from status)."""
    query = urllib.parse.urlencode({"labelSelector": side["selector"]})
    items = _api_request("GET", f"/api/v1/namespaces/{namespace}/pods?{query}").get("items", [])
    pods = []
    for pod in items:
        runtime_class = pod["spec"].get("runtimeClassName")
        if "runtimeClass" in side and runtime_class != side["runtimeClass"]:
            continue
        if "runtimeClassNot" in side and runtime_class == side["runtimeClassNot"]:
            continue
        ready = _ready(pod)
        address = pod.get("status", {}).get("podIP")
        resolved = _port(pod, port)
        if pod["metadata"].get("deletionTimestamp") or not ready or not address or resolved is None:
            continue
        started = _timestamp(pod["status"].get("startTime"))
        became_ready = _timestamp(ready.get("lastTransitionTime"))
        cold_start = became_ready - started if started and became_ready and became_ready >= started else None
        pods.append(
            {
                "name": pod["metadata"]["name"],
                "url": f"http://{address}:{resolved}",
                "coldStartSeconds": cold_start,
            }
        )
    return sorted(pods, key=lambda p: p["name"])


def find_endpoints(namespace: str, side: dict, port: int) -> list[dict]:
    """The ready endpoints of the EndpointSlices of a Service without pods (the aci target's container
    groups): each as a 'pod' with its address; their cold start and memory are not Kubernetes' to tell."""
    query = urllib.parse.urlencode({"labelSelector": f"kubernetes.io/service-name={side['endpointsOf']}"})
    path = f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices?{query}"
    found = []
    for endpoint_slice in _api_request("GET", path).get("items", []):
        for endpoint in endpoint_slice.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            for address in endpoint.get("addresses") or []:
                found.append({"name": address, "url": f"http://{address}:{port}", "coldStartSeconds": None})
    return sorted(found, key=lambda p: p["name"])


def _side(namespace: str, side: dict) -> list[dict]:
    if "endpointsOf" in side:
        return find_endpoints(namespace, side, side["port"])
    return find_pods(namespace, side, side["port"])


def _quantity_bytes(value: str) -> float:
    match = _QUANTITY.match(value)
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"unknown quantity {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def memory_by_pod(namespace: str, selector: str) -> dict[str, float] | None:
    """Working-set bytes per pod from metrics-server; None when the cluster does not serve metrics."""
    query = urllib.parse.urlencode({"labelSelector": selector})
    try:
        items = _api_request("GET", f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods?{query}")
    except (ApiError, OSError):
        return None
    return {
        item["metadata"]["name"]: sum(
            _quantity_bytes(c["usage"]["memory"]) for c in item.get("containers", [])
        )
        for item in items.get("items", [])
    }


def send(url: str, timeout: float) -> dict:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body = error.read()
        status = error.code
    except (OSError, ValueError) as error:
        return {"status": None, "seconds": time.monotonic() - started, "error": str(error), "body": ""}
    digest = hashlib.sha256(body).hexdigest()
    return {"status": status, "seconds": time.monotonic() - started, "error": None, "body": digest}


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _failed(result: dict) -> bool:
    return result["status"] is None or result["status"] >= 500


def compare(config: dict, legacy: list[dict], new: list[dict]) -> dict:
    """Paired requests, legacy then new, at the configured rate; bounded by requestsPerPath."""
    timeout = float(config["requestTimeoutSeconds"])
    interval = 1.0 / float(config["requestsPerSecond"])
    sides = {"legacy": legacy, "new": new}
    latencies: dict[str, list[float]] = {"legacy": [], "new": []}
    failures = {"legacy": 0, "new": 0}
    first: dict[str, list[float]] = {"legacy": [], "new": []}
    mismatched_status: list[str] = []
    mismatched_body: list[str] = []
    for side, pods in sides.items():  # the first request each pod gets from this check
        for pod in pods:
            result = send(pod["url"] + config["paths"][0], timeout)
            first[side].append(result["seconds"])
    total = 0
    for path in config["paths"]:
        for index in range(int(config["requestsPerPath"])):
            tick = time.monotonic()
            pair = {}
            for side, pods in sides.items():
                result = send(pods[index % len(pods)]["url"] + path, timeout)
                pair[side] = result
                latencies[side].append(result["seconds"])
                failures[side] += _failed(result)
            total += 1
            if pair["legacy"]["status"] != pair["new"]["status"]:
                mismatched_status.append(
                    f"{path}: legacy {pair['legacy']['status'] or pair['legacy']['error']}, "
                    f"new {pair['new']['status'] or pair['new']['error']}"
                )
            elif config.get("compareBodies") and pair["legacy"]["body"] != pair["new"]["body"]:
                mismatched_body.append(path)
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    return {
        "requests": total,
        "errorRate": {side: failures[side] / total for side in sides},
        "p50Seconds": {side: percentile(latencies[side], 0.5) for side in sides},
        "p95Seconds": {side: percentile(latencies[side], 0.95) for side in sides},
        "firstRequestSeconds": {side: _median(first[side]) for side in sides},
        "coldStartSeconds": {side: _median([p["coldStartSeconds"] for p in sides[side]]) for side in sides},
        "statusMismatches": mismatched_status,
        "bodyMismatches": sorted(set(mismatched_body)),
    }


# Latencies below this count as this much in ratios: differences of a few milliseconds are network and
# scheduling noise, not a slower runtime.
LATENCY_FLOOR_SECONDS = 0.025


def _ratio(new: float | None, legacy: float | None, floor: float = 0.0) -> float | None:
    if new is None or legacy is None:
        return None
    return max(new, floor) / max(legacy, floor, 1e-9)


def verdict(config: dict, measured: dict, memory: dict | None) -> list[str]:
    """Every threshold the new side misses, in words; empty means pass."""
    limits = config["thresholds"]
    reasons = []
    if measured["errorRate"]["new"] > limits["maxErrorRate"]:
        reasons.append(
            f"error rate of new pods {measured['errorRate']['new']:.1%} is above maxErrorRate "
            f"{limits['maxErrorRate']:.1%}"
        )
    if measured["statusMismatches"]:
        reasons.append(
            f"{len(measured['statusMismatches'])} of {measured['requests']} paired requests got different "
            f"status codes (first: {measured['statusMismatches'][0]})"
        )
    if measured["bodyMismatches"]:
        reasons.append(f"bodies differ on {', '.join(measured['bodyMismatches'])}")
    checks = [
        (
            "p95 latency",
            _ratio(measured["p95Seconds"]["new"], measured["p95Seconds"]["legacy"], LATENCY_FLOOR_SECONDS),
            "maxP95Ratio",
        ),
        (
            "cold start (pod start to Ready)",
            _ratio(measured["coldStartSeconds"]["new"], measured["coldStartSeconds"]["legacy"]),
            "maxColdStartRatio",
        ),
    ]
    if memory is not None:
        checks.append(("memory", _ratio(memory["new"], memory["legacy"]), "maxMemoryRatio"))
    for what, ratio, key in checks:
        if ratio is not None and ratio > limits[key]:
            reasons.append(
                f"{what} of new pods is {ratio:.2f}x legacy, above {key} {limits[key]}{_cost(config, key)}"
            )
    return reasons


# Why a Spin container costs more than the shim, where it shows: the runtime runs in every pod and
# pulls the app at start, where the shim is one binary per node and containerd pulls the app.
CONTAINER_COSTS = {
    "maxMemoryRatio": "each pod carries its own Spin runtime",
    "maxColdStartRatio": "each pod starts Spin and pulls the app before it is Ready",
    "maxP95Ratio": "requests pass through a full Spin process per pod",
}


def _cost(config: dict, key: str) -> str:
    if "container" not in config["new"]:
        return ""
    return (
        f" (the new pods run Spin in a container: {CONTAINER_COSTS[key]}; raise {key} on purpose, or "
        "choose target shim where the cluster allows the installer)"
    )


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f} ms"


def _new_side(side: dict) -> str:
    if "endpointsOf" in side:
        return f"Azure Container Instances behind Service {side['endpointsOf']} ({side['container']})"
    if "container" in side:
        return f"Spin in a container ({side['container']})"
    return f"RuntimeClass {side.get('runtimeClass')}"


def summary(config: dict, legacy: list, new: list, measured: dict, memory: dict | None, reasons: list) -> str:
    lines = [
        f"verification of {config['workload']}: {'PASS' if not reasons else 'FAIL'}",
        f"pods: {len(legacy)} legacy ({', '.join(p['name'] for p in legacy)}), "
        f"{len(new)} new ({', '.join(p['name'] for p in new)})",
        "new side: " + _new_side(config["new"]),
        f"requests: {measured['requests']} paired on {', '.join(config['paths'])} at "
        f"{config['requestsPerSecond']}/s per side",
    ]
    for label, key, shown in (
        ("error rate", "errorRate", lambda v: f"{v:.1%}"),
        ("p50", "p50Seconds", _seconds),
        ("p95", "p95Seconds", _seconds),
        ("first request per pod (median)", "firstRequestSeconds", _seconds),
        ("cold start, pod start to Ready (median)", "coldStartSeconds", _seconds),
    ):
        lines.append(f"{label}: legacy {shown(measured[key]['legacy'])}, new {shown(measured[key]['new'])}")
    lines.append(f"status mismatches: {len(measured['statusMismatches'])}")
    if config.get("compareBodies"):
        lines.append(f"body mismatches: {', '.join(measured['bodyMismatches']) or 'none'}")
    if memory is None and "endpointsOf" in config["new"]:
        lines.append("memory: not measured (container groups are outside metrics.k8s.io; see Azure Monitor)")
    elif memory is None:
        lines.append("memory: not measured (metrics.k8s.io is not served; install metrics-server)")
    else:
        lines.append(
            f"memory per pod: legacy {memory['legacy'] / 2**20:.1f} MiB, new {memory['new'] / 2**20:.1f} MiB"
        )
    lines += [f"failed: {reason}" for reason in reasons]
    return "\n".join(lines)


def _memory(config: dict, legacy: list, new: list) -> dict | None:
    if "endpointsOf" in config["new"]:  # container groups: metrics-server does not see them
        return None
    means = {}
    for side, pods in (("legacy", legacy), ("new", new)):
        usage = memory_by_pod(config["namespace"], config[side]["selector"])
        measured = [usage[p["name"]] for p in pods if usage and p["name"] in usage]
        if not measured:
            return None
        means[side] = statistics.mean(measured)
    return means


def publish(config: dict, text: str, result: dict, passed: bool) -> None:
    print(text, flush=True)
    if not passed:
        try:
            with open(TERMINATION_LOG, "w") as handle:
                handle.write(text[-4000:])
        except OSError:
            pass
    name = config.get("resultConfigMap")
    if not name:
        return
    patch = {
        "data": {"summary": text, "result.json": json.dumps(result, indent=2), "passed": str(passed).lower()}
    }
    try:
        _api_request(
            "PATCH",
            f"/api/v1/namespaces/{config['namespace']}/configmaps/{name}",
            patch,
            "application/merge-patch+json",
        )
    except (ApiError, OSError) as error:
        print(f"warning: could not write ConfigMap {config['namespace']}/{name}: {error}", flush=True)


def run(config: dict) -> int:
    namespace = config["namespace"]
    try:
        legacy = _side(namespace, config["legacy"])
        new = _side(namespace, config["new"])
    except (ApiError, OSError) as error:
        publish(config, f"verification of {config['workload']}: cannot list pods: {error}", {}, False)
        return 2
    missing = [
        f"no ready {side} pods match {config[side]['selector']}"
        for side, pods in (("legacy", legacy), ("new", new))
        if not pods
    ]
    if missing:
        text = f"verification of {config['workload']}: FAIL\n" + "\n".join(f"failed: {m}" for m in missing)
        publish(config, text, {"failed": missing}, False)
        return 1
    measured = compare(config, legacy, new)
    memory = _memory(config, legacy, new)
    reasons = verdict(config, measured, memory)
    result = {**measured, "memoryBytes": memory, "failed": reasons}
    publish(config, summary(config, legacy, new, measured, memory, reasons), result, not reasons)
    return 0 if not reasons else 1


def main(argv: list[str]) -> int:
    """Settings from the file named on the command line, else from $VERIFY_SETTINGS (the Job's way)."""
    if len(argv) > 2:
        print("usage: verify.py [SETTINGS_JSON_FILE]  (default: $VERIFY_SETTINGS)", file=sys.stderr)
        return 2
    if len(argv) == 2:
        with open(argv[1]) as handle:
            return run(json.load(handle))
    settings = os.environ.get("VERIFY_SETTINGS")
    if not settings:
        print("verify.py: no settings: pass a file or set VERIFY_SETTINGS", file=sys.stderr)
        return 2
    return run(json.loads(settings))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
