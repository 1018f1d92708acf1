"""The policy pack: `pulumi preview --policy-pack policy/` runs this file with policy/ as its directory."""

from pulumi_policy import PolicyPack
from wasm_migration_pack import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES)
