"""Loading what the cluster export says: legacy workloads, the cluster file, the facts about a
workload, the rules an export must meet, strict schemas."""
