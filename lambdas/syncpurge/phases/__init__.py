"""The phases of a run, one set of functions whichever driver runs them: preflight, cut the
key space into ranges (`cutting`), diff (or re-check a stored plan), guard (`decision`),
purge with verify-before-destroy, report. `fanout` runs the diff's ranges on a pool of threads.

Drivers: the state machine's steps (`syncpurge.workflow`, through `syncpurge_handlers`),
the CLI's run (`syncpurge.engine`), and the event path (`syncpurge.events`).
"""
