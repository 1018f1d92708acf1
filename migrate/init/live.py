"""Reading the cluster live and read-only (`init --kubeconfig`): the objects docs/real-clusters.md's
`kubectl get <kinds> -A -o yaml` lists, through the official client and in the shape kubectl prints.
Reading needs only `list` on these kinds; nothing is written to the cluster."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from migrate.init.errors import InventoryError

# What docs/real-clusters.md's `kubectl get <kinds> -A -o yaml` lists, in the order kubectl prints
# the types (the order of `kubectl api-resources`): (API class, list method, apiVersion, kind).
LIVE_LISTS = (
    ("CoreV1Api", "list_namespace", "v1", "Namespace"),
    ("CoreV1Api", "list_node", "v1", "Node"),
    ("CoreV1Api", "list_pod_for_all_namespaces", "v1", "Pod"),
    ("CoreV1Api", "list_service_for_all_namespaces", "v1", "Service"),
    ("AppsV1Api", "list_daemon_set_for_all_namespaces", "apps/v1", "DaemonSet"),
    ("AppsV1Api", "list_deployment_for_all_namespaces", "apps/v1", "Deployment"),
    ("AppsV1Api", "list_replica_set_for_all_namespaces", "apps/v1", "ReplicaSet"),
    ("AppsV1Api", "list_stateful_set_for_all_namespaces", "apps/v1", "StatefulSet"),
    (
        "AutoscalingV2Api",
        "list_horizontal_pod_autoscaler_for_all_namespaces",
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
    ),
    ("BatchV1Api", "list_cron_job_for_all_namespaces", "batch/v1", "CronJob"),
    ("BatchV1Api", "list_job_for_all_namespaces", "batch/v1", "Job"),
    ("NetworkingV1Api", "list_ingress_for_all_namespaces", "networking.k8s.io/v1", "Ingress"),
    ("NetworkingV1Api", "list_network_policy_for_all_namespaces", "networking.k8s.io/v1", "NetworkPolicy"),
    ("PolicyV1Api", "list_pod_disruption_budget_for_all_namespaces", "policy/v1", "PodDisruptionBudget"),
    ("NodeV1Api", "list_runtime_class", "node.k8s.io/v1", "RuntimeClass"),
)
# The optional custom resources, listed only where the cluster serves them (404: not installed), after
# the built-in types as kubectl prints them: (group, version, plural, kind).
LIVE_CUSTOM_LISTS = (
    ("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute"),
    ("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject"),
    ("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor"),
    ("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor"),
)
PAGE_SIZE = 500


def read_live(kubeconfig: Path) -> list[dict[str, Any]]:
    """The export's objects read through the official client, in the shape `kubectl -o yaml` prints:
    ApiClient.sanitize_for_serialization gives the wire (camelCase) dicts; list items carry no
    apiVersion/kind on the wire, so they are set here as kubectl does."""
    from kubernetes import config
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        api_client = config.new_client_from_config(config_file=str(kubeconfig))
    except Exception as error:  # the loader raises ConfigException, OSError, YAML errors...
        raise InventoryError(f"{kubeconfig}: cannot load kubeconfig: {error}") from None
    try:
        return _builtin_objects(api_client) + _custom_objects(api_client)
    except ApiException as error:
        raise InventoryError(f"cluster read failed: {error.status} {error.reason}") from None
    except ValidationError as error:  # the client's models are stricter than some API servers' answers
        first = error.errors(include_url=False)[0]
        raise InventoryError(
            f"cluster read failed: the kubernetes client rejects a {error.title} "
            f"({'.'.join(map(str, first['loc']))}: {first['msg']}); use --kubectl-export instead"
        ) from None
    except (HTTPError, OSError) as error:  # unreachable server, TLS failure, retries exhausted
        raise InventoryError(f"cluster read failed: {' '.join(str(error).split())}") from None


def _paged(api_client: Any, method: Callable[..., Any]) -> list[Any]:
    """Every item of a list call, page by page (PAGE_SIZE, following `continue`)."""
    items: list[Any] = []
    token = None
    while True:
        page = method(limit=PAGE_SIZE, _continue=token)
        data = page if isinstance(page, dict) else api_client.sanitize_for_serialization(page)
        items += data.get("items") or []
        token = (data.get("metadata") or {}).get("continue")
        if not token:
            return items


def _builtin_objects(api_client: Any) -> list[dict[str, Any]]:
    from kubernetes import client

    return [
        {"apiVersion": api_version, "kind": kind, **item}
        for api, method, api_version, kind in LIVE_LISTS
        for item in _paged(api_client, getattr(getattr(client, api)(api_client), method))
    ]


def _custom_objects(api_client: Any) -> list[dict[str, Any]]:
    """The optional custom resources the cluster serves; none of a kind whose CRD is not installed."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    custom = client.CustomObjectsApi(api_client)
    objects: list[dict[str, Any]] = []
    for group, version, plural, kind in LIVE_CUSTOM_LISTS:
        try:
            items = _paged(
                api_client,
                lambda g=group, v=version, p=plural, **page: custom.list_cluster_custom_object(
                    g, v, p, **page
                ),
            )
        except ApiException as error:
            if error.status != 404:  # not served: the CRD is not installed
                raise
            items = []
        objects += [{"apiVersion": f"{group}/{version}", "kind": kind, **item} for item in items]
    return objects
