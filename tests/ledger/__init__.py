"""Tests for the framework-free ledger core."""
