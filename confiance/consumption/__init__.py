"""Visible consumption (consommé visible): time entries, budgets, forecasts, alerts, imports."""
