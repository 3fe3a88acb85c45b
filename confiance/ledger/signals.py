"""Signals of the ledger: other apps hear of appended facts without the ledger knowing them."""

from django.dispatch import Signal

# Sent inside the writing transaction after facts are appended to an engagement's log, with
# `engagement_id`, `kind` and `count`. Receivers that act outside the transaction use on_commit.
ledger_appended = Signal()
