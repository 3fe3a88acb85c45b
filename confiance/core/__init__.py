"""Workspaces, people, memberships, invitations, API tokens and the audit log."""
