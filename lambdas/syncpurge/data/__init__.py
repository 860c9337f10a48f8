"""Data access: the only modules that build or call boto3 clients (S3, DataSync)."""
