"""Hosts the public components as a Pulumi component package (pulumi.provider.experimental)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host

from components.package import PACKAGE, PUBLIC_COMPONENTS, VERSION

if __name__ == "__main__":
    component_provider_host(PUBLIC_COMPONENTS, PACKAGE, version=VERSION)
