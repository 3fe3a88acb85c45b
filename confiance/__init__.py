"""Confiance: trust engineering between a service provider and its clients."""
