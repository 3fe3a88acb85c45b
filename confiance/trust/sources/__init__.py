"""The functions that read each indicator's facts, one module per source app.

Each function streams (``.iterator()``): a 100,000-entry engagement is never loaded at once.
"""
