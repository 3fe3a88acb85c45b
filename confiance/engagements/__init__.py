"""Engagements (missions): the work a provider does for a client."""
