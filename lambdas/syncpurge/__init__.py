"""syncpurge: carry permanent deletes from a versioned S3 source to its synced copy."""

__version__ = "0.1.0"
