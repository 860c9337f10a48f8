"""Erasure requests (docs/design.md §15): named keys erased from every copy, with a receipt
that proves it and can be re-checked."""
