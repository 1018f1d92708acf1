"""The alerts component: an Azure Monitor managed Prometheus rule group, or a PrometheusRule for
prometheus-operator clusters (components/desired/alerts.py builds both from the same rules)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypedDict

import pulumi
import pulumi_azure_native as azure_native

from components.desired import ALERTS_TYPE
from components.desired.alerts import RULE_GROUP_TYPE
from components.desired.spec import ResourceSpec
from components.registration import options_for, register_kubernetes, snake_case


class AlertsArgs(TypedDict):
    specs: tuple[ResourceSpec, ...]
    registered: MutableMapping[str, pulumi.Resource]


def _rule_group(
    spec: ResourceSpec, parent: pulumi.Resource, registered: MutableMapping[str, pulumi.Resource]
) -> azure_native.alertsmanagement.PrometheusRuleGroup:
    """Top-level wire names become Python arguments; nested rule dicts keep their wire names, which
    the SDK sends as they are (the mocks test compares what the engine receives with the spec)."""
    arguments = {snake_case(key): value for key, value in spec.inputs.items()}
    return azure_native.alertsmanagement.PrometheusRuleGroup(
        spec.name, opts=options_for(spec, parent, registered), **arguments
    )


class Alerts(pulumi.ComponentResource):
    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(ALERTS_TYPE, name, None, opts)
        registered = args["registered"]
        for spec in args["specs"]:
            if spec.type == RULE_GROUP_TYPE:
                registered[spec.name] = _rule_group(spec, self, registered)
            else:
                registered[spec.name] = register_kubernetes(spec, self, registered)
        self.register_outputs({"rules": [spec.label for spec in args["specs"]]})
