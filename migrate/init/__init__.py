"""`migrate init`: inventory a cluster's WASI node pools and write the one stack that migrates them,
in small parts, each named for what it owns:

- reading: `kubectl_list` (a kubectl List cut into items by lines), `export` (the export file, only
  what can matter parsed), `live` (the same objects read live, list only), `node_pools` (the AKS pools,
  the WASI ones, --cluster);
- detecting: `detect` (which workloads run Wasm on the WASI pools, why, and how ready each is);
- deciding: `findings` (what init finds out about one workload), `decide` (whether this stack migrates
  it, and why not), `proposals` (its config entry's values: Service, resources, probe, gateway),
  `notes` (what a person must know or decide about it);
- sizing: `sizing` (the target pools, the legacy pools' config, the migration's RuntimeClass name);
- the whole: `inventory` (config, exports and report facts), `files` (the stack file and exports as
  text), `planner` (what the planner and `check` do with the generated config), `report` (the
  readiness report rendered from data);
- the command: `command` (arguments and what is printed), `pipeline` (read, inventory, plan, render,
  write); `errors` (InventoryError, the one error of init's inputs)."""
