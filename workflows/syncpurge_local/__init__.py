"""The local runtime: the real workflow on moto, with a stand-in for DataSync (DESIGN §10)."""
