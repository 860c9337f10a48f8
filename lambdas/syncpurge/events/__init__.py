"""The event path (docs/design.md §13): S3's permanent-delete events as hints that a key's source
history changed; each key is decided on fresh listings by the batch path's own rules,
proofs and purge, after a hold and under a brake."""
