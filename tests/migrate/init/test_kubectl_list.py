"""Cutting a kubectl List into items by lines: exact in kubectl's layout, refused in any other, and the
selective read gives the inventory exactly what parsing everything gives."""

from __future__ import annotations

import json

import pytest
import yaml

from components.export.workload import strip_server_fields
from migrate.init.export import read_export
from migrate.init.inventory import build_inventory
from migrate.init.kubectl_list import parse_item, split_list, without_server_sections
from migrate.init.node_pools import wasi_pools
from tests.components.export.test_facts import CLUSTERS
from tests.components.export.test_facts import node_pools as node_pools_of
from tests.migrate.init.test_inventory import CLUSTER, EXPORT, node_pools

KUBECTL_LIST = """\
apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      manager: kubectl
    name: a
    namespace: web
  spec:
    ports:
    - port: 80
  status:
    loadBalancer: {}
- apiVersion: apps/v1
  kind: "Deployment"
  metadata:
    annotations:
      note: |
        kind: Pod
        - not an item

        status: kept
    name: b
  spec:
    replicas: 2
kind: List
metadata:
  resourceVersion: ""
"""


def test_items_are_cut_at_column_zero_dashes():
    envelope, items = split_list(KUBECTL_LIST)
    assert yaml.safe_load(envelope) == {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    assert [item.kind for item in items] == ["Service", "Deployment"]
    assert [yaml.safe_load(item.text)[0] for item in items] == yaml.safe_load(KUBECTL_LIST)["items"]


def test_server_sections_are_dropped_and_nothing_else():
    _, items = split_list(KUBECTL_LIST)
    service, deployment = (parse_item(item) for item in items)
    expected = yaml.safe_load(KUBECTL_LIST)["items"]
    assert service == strip_server_fields(expected[0]) | {
        "metadata": {"name": "a", "namespace": "web"}
    }  # uid, creationTimestamp were not there
    assert deployment == expected[1]  # the block scalar's `status:` and `kind:` lines are its content
    assert service.source_text == items[0].text


@pytest.mark.parametrize(
    "text",
    [
        # an indented sequence
        "apiVersion: v1\nitems:\n  - kind: Service\n    metadata: {name: a}\nkind: List\n",
        'apiVersion: v1\nitems: [{"kind": "Service", "metadata": {"name": "a"}}]\nkind: List\n',  # flow style
        # an item after the List's other keys
        "kind: List\nitems:\n- kind: Service\n  metadata: {name: a}\nmetadata: {}\n- kind: Pod\n",
        "kind: List\nitems: []\n",
        "- kind: Service\n",
    ],
)
def test_other_layouts_are_left_to_the_full_parser(text):
    assert split_list(text) is None


def test_without_server_sections_keeps_following_keys():
    text = (
        "- kind: X\n  metadata:\n    managedFields:\n    - a: 1\n      b: [2]\n    name: x\n"
        "  status:\n    c: 1\n  zz: 2\n"
    )
    assert yaml.safe_load(without_server_sections(text)) == [
        {"kind": "X", "metadata": {"name": "x"}, "zz": 2}
    ]


def _inventory(text: str):
    pools = node_pools()
    return build_inventory(read_export(text, "export", wasi_pools(pools, "pools")), pools, CLUSTER, "prod")


def _same_inventories(selective, full) -> None:
    assert selective.config == full.config
    assert selective.report == full.report
    assert sorted(selective.exports) == sorted(full.exports)
    for path, listing in selective.exports.items():
        assert [strip_server_fields(o) for o in listing["items"]] == [
            strip_server_fields(o) for o in full.exports[path]["items"]
        ]


def test_selective_read_gives_the_same_inventory_as_a_full_parse():
    text = EXPORT.read_text()
    # The same objects as JSON: one line, which the line cutter refuses, so everything is parsed.
    _same_inventories(_inventory(text), _inventory(json.dumps(yaml.safe_load(text))))


@pytest.mark.parametrize("env", sorted(p.name for p in CLUSTERS.iterdir() if p.is_dir()))
def test_selective_read_of_each_environment_gives_what_a_full_parse_gives(env):
    text = (CLUSTERS / env / "export.yaml").read_text()
    pools = node_pools_of(env)

    def inventory(read: str):
        objects = read_export(read, "export", wasi_pools(pools, "pools"))
        return build_inventory(objects, pools, CLUSTER, "prod")

    selective = inventory(text)
    _same_inventories(selective, inventory(json.dumps(yaml.safe_load(text))))
    # what is related to a workload, the pods on WASI nodes and their controllers are all read
    assert all(
        getattr(o, "source_text", None) for listing in selective.exports.values() for o in listing["items"]
    )


def test_selective_read_skips_what_cannot_matter():
    objects = read_export(EXPORT.read_text(), "export", wasi_pools(node_pools(), "pools"))
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Deployment", "checkout") not in names  # non-Wasm
    assert ("Service", "frontend") not in names
    # Its text holds `checkout`, orders-api's `team` label value, but it is in namespace payments, where
    # no Wasm Deployment runs: never read.
    assert ("Service", "checkout") not in names
    assert ("Pod", "hello-spin-7d9c8b6f5-x2kqz") not in names  # owned by a ReplicaSet
    assert ("Job", "nightly-report-28870440") not in names  # owned by its CronJob
    assert {("Deployment", "hello-spin"), ("Service", "hello-spin"), ("RuntimeClass", "wasmedge")} <= names
    assert all("managedFields" not in o["metadata"] and "status" not in o for o in objects)


def test_a_broken_selected_item_is_not_yaml():
    text = EXPORT.read_text().replace(
        "runtimeClassName: wasmtime-spin-v2", "runtimeClassName: [wasmtime-spin-v2", 1
    )
    with pytest.raises(Exception, match=r"^export: is not valid YAML: ") as error:
        read_export(text, "export", wasi_pools(node_pools(), "pools"))
    assert "\n" not in str(error.value)


def test_an_autoscaler_seen_only_in_managed_fields_is_still_a_decision():
    # No HPA in the export (say a KEDA ScaledObject, not exported), but hello-spin's managedFields show a
    # controller writing replicas through the scale subresource: the selective read dropped managedFields,
    # so the printed text is read again for it.
    document = yaml.safe_load(EXPORT.read_text())
    document["items"] = [o for o in document["items"] if o["kind"] != "HorizontalPodAutoscaler"]
    text = yaml.safe_dump(document, sort_keys=True, width=80)
    for read in (text, json.dumps(document)):  # selective, then whole
        hello = next(w for w in _inventory(read).report["workloads"] if w["name"] == "hello-spin")
        assert hello["decisions"][-1] == {
            "key": "manifest",
            "text": "its replicas are managed by field manager 'kube-controller-manager' through the scale "
            "subresource (an autoscaler), which is not in the export: export the autoscaler's "
            "HorizontalPodAutoscaler (or ScaledObject) with it, or remove the autoscaler",
        }


def test_kind_is_read_where_kubectl_or_a_hand_sorted_file_puts_it():
    _, items = split_list(
        "kind: List\nitems:\n- kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n"
    )
    assert [item.kind for item in items] == ["Service", "Pod"]


def test_what_an_item_says_is_read_off_its_lines():
    _, items = split_list((CLUSTERS / "kwasm" / "export.yaml").read_text())
    # kwasm: a provisioning Pod (owned by its Job, bound to a kwasmpool node) and the Job (owned by a Node)
    pod = next(i for i in items if i.kind == "Pod" and i.name.endswith("-provision-kwasm-snxz7"))
    assert (pod.namespace, pod.node_name, pod.owners) == (
        "kwasm",
        "aks-kwasmpool-36182507-vmss000000",
        (("Job", "aks-kwasmpool-36182507-vmss000000-provision-kwasm"),),
    )
    job = next(
        i for i in items if i.kind == "Job" and i.name == "aks-kwasmpool-36182507-vmss000000-provision-kwasm"
    )
    assert (job.node_name, job.owners) == (None, (("Node", "aks-kwasmpool-36182507-vmss000000"),))
    node = next(i for i in items if i.kind == "Node")
    assert (node.name, node.namespace, node.owners) == ("aks-kwasmpool-36182507-vmss000000", None, ())
    assert [yaml.safe_load(i.text)[0]["metadata"]["name"] for i in items] == [i.name for i in items]
