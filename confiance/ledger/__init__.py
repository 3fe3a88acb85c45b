"""Verifiable append-only ledger: RFC 9162 Merkle trees, signed checkpoints, offline bundles."""
