"""LocalStack's Lambda execution environments as host processes (see plugin.py)."""
