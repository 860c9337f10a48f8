"""The local runtime: the real workflow on moto, with a stand-in for DataSync
(docs/design.md §10)."""
