"""The decision core: where a purge is decided. Pure: no boto3, no environment, no clock of
its own; what it needs to read (a listing, a HEAD) is handed in.

rules, source_facts   which target entries the rules select, and why (docs/design.md §3)
diff, listing         both listings merged key by key into candidates
proof                 the HEAD tiers that prove a candidate (or skip it)
plan, guard           the plan's codec; the guard's limits
scope, keyspace,      the run's scope; key ranges and where to cut them
probes
lineage, policy       DataSync task-report lineage; the one policy every door consults
run_ids               one run-id format for every door
"""
