"""Stop gate of a workload that must never run two copies: waits until no pod of one side exists any
more (terminating ones included: a pod in its grace period may still be writing), so the other side
starts only then. Runs as a Kubernetes Job with the standard library only, beside verify.py (whose API
client it uses), and exits 0 once the side is gone, 1 when it is not gone in time, 2 when it could not
ask.

A Deployment's `status.replicas` leaves out terminating pods (the ReplicaSet controller counts active
pods only), so no await on the Deployment itself can say this; the pod list can.

Usage: python stop_gate.py   (settings JSON in $STOP_GATE_SETTINGS: namespace, selector, timeoutSeconds)
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.parse

# verify.py sits beside this script in the same ConfigMap, so the interpreter finds it on sys.path[0].
from verify import TERMINATION_LOG, ApiError, _api_request  # type: ignore[import-not-found]

SETTINGS_ENV = "STOP_GATE_SETTINGS"
POLL_SECONDS = 2.0


def remaining(namespace: str, selector: str) -> list[str]:
    """Names of the pods the selector matches, terminating ones included."""
    query = urllib.parse.urlencode({"labelSelector": selector})
    items = _api_request("GET", f"/api/v1/namespaces/{namespace}/pods?{query}").get("items", [])
    return sorted(pod["metadata"]["name"] for pod in items)


def _say(message: str) -> None:
    print(message, flush=True)
    try:
        with open(TERMINATION_LOG, "w") as handle:
            handle.write(message[:4000])
    except OSError:
        pass


def wait(namespace: str, selector: str, timeout: float, clock=time.monotonic, sleep=time.sleep) -> int:
    deadline = clock() + timeout
    while True:
        try:
            pods = remaining(namespace, selector)
        except (ApiError, OSError) as error:
            _say(f"could not list pods {selector} in {namespace}: {error}")
            return 2
        if not pods:
            _say(f"no pod {selector} left in {namespace}: the other side may start")
            return 0
        if clock() >= deadline:
            _say(
                f"{len(pods)} pod(s) {selector} still exist in {namespace} after {timeout:.0f} s "
                f"({', '.join(pods[:5])}): the other side does not start while they may still write"
            )
            return 1
        print(f"waiting for {len(pods)} pod(s) {selector} to be gone: {', '.join(pods[:5])}", flush=True)
        sleep(POLL_SECONDS)


def main() -> int:
    settings = json.loads(os.environ[SETTINGS_ENV])
    return wait(settings["namespace"], settings["selector"], float(settings["timeoutSeconds"]))


if __name__ == "__main__":
    sys.exit(main())
