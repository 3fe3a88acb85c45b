"""The client's browser recomputes the headline figures from the verified ledger entries.

A figure changed in the database, and a ledger entry rewritten in the database (with the
figures made to match, as a careful forger would), each make the client's page fail loudly.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from confiance.consumption.models import ConsumptionTotals
from confiance.ledger.models import LedgerEntry
from tests.browser.conftest import shot
from tests.browser.test_ledger_verify import ledger_state, open_consumption
from tests.conftest import World
from tests.ledger.test_api import log_entries

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_changed_figure_and_a_rewritten_entry_each_fail_the_clients_page(
    page, world: World
) -> None:
    log_entries(world, 3)  # 30 + 31 + 32 minutes
    open_consumption(page, world)
    ledger_state(page, "first")
    details = page.locator("[data-ledger-details]").inner_text()
    assert "Figures recomputed in this browser from the verified entries: consumed 93 minutes" in (
        details
    )

    # A figure changed behind the application's back: the page shows 2 hours more.
    ConsumptionTotals.objects.filter(engagement=world.engagement).update(consumed_minutes=213)
    page.reload()
    ledger_state(page, "failed")
    text = page.get_by_role("alert").first.inner_text()
    assert "the figures this page shows (213" in text and "recomputed from the verified" in text
    assert "Verified" not in page.locator("[data-ledger-status]").inner_text()
    shot(page, "consumption-figure-changed")

    # The figure is put back, and the forger rewrites a ledger entry instead (minutes 30 -> 300)
    # with the figures moved to match: the page is consistent, the signed tree is not.
    ConsumptionTotals.objects.filter(engagement=world.engagement).update(consumed_minutes=363)
    row = LedgerEntry.objects.filter(engagement=world.engagement, kind="time_entry").first()
    leaf = json.loads(row.data)
    leaf["minutes"] = 300
    rewritten = json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with connection.cursor() as cursor:  # the model refuses updates: this is the forger's SQL
        cursor.execute("UPDATE ledger_ledgerentry SET data = %s WHERE id = %s", [rewritten, row.pk])
    # A new device of the client (nothing kept from earlier visits).
    page.evaluate("() => window.localStorage.clear()")
    page.reload()
    ledger_state(page, "failed")
    text = page.get_by_role("alert").first.inner_text()
    assert "the ledger entries sent to this browser do not match the signed checkpoint" in text
    shot(page, "consumption-entry-rewritten")
