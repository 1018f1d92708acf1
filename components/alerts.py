"""MigrationAlerts: the migration's failure modes as an Azure Monitor managed Prometheus rule group, or
a PrometheusRule for prometheus-operator clusters (components/desired/alerts.py builds both)."""

import pulumi

from components.desired import ALERTS_TYPE
from components.desired.alerts import AlertsArgs, alert_specs
from components.registration import SpecComponent


class MigrationAlerts(SpecComponent):
    """Installer not ready or missing on a shim node, Wasm pods not ready, restarting or stuck on the
    RuntimeClass, failed verifications, and request errors and latency where metrics exist."""

    TYPE = ALERTS_TYPE

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None):
        self._register(name, args, opts, alert_specs, [])
        self.register_outputs({"rules": sorted(self.resources)})
