"""Exports: time entries as CSV and XLSX with the page's filters, the monthly statement as PDF,
each with only what its reader may see (no internal note, no rate for a client unless shown)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree

from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from confiance.consumption import services
from confiance.consumption.exports import SHEET_NS
from confiance.consumption.services import EntryInput
from tests.conftest import World

NS = {"m": SHEET_NS}


def _setup(world: World) -> None:
    workshops = services.activity_create(
        membership=world.owner, engagement=world.engagement, name="Workshops"
    )
    services.rate_set(
        membership=world.owner,
        engagement=world.engagement,
        daily_rate=Decimal("960"),
        user=world.member.user,
    )
    today = timezone.localdate()
    for days_ago, minutes, activity, person in [
        (40, 120, None, world.member),
        (2, 210, workshops, world.member),
        (1, 60, workshops, world.owner),
    ]:
        services.time_entry_log(
            membership=world.owner,
            engagement=world.engagement,
            item=EntryInput(
                person=person.user,
                date=today - timedelta(days=days_ago),
                minutes=minutes,
                activity=activity,
                shared_note=f"Shared {minutes}",
                internal_note="SECRET-INTERNAL",
            ),
        )


def _url(world: World, name: str) -> str:
    return reverse(name, kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert "[Content_Types].xml" in package.namelist()
        ElementTree.fromstring(package.read("xl/workbook.xml"))  # noqa: S314 (our own output)
        sheet = ElementTree.fromstring(package.read("xl/worksheets/sheet1.xml"))  # noqa: S314
    rows = []
    for row in sheet.findall(".//m:row", NS):
        cells: dict[int, str] = {}
        for cell in row.findall("m:c", NS):
            column = ord(cell.get("r")[0]) - ord("A")  # fewer than 26 columns here
            text = cell.find("m:is/m:t", NS)
            cells[column] = text.text if text is not None else cell.find("m:v", NS).text
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)])
    return rows


def test_csv_export_follows_the_filters_and_hides_internal_notes_and_rates_from_clients(
    world: World, login
) -> None:
    _setup(world)
    workshops = world.engagement.activities.get(name="Workshops")
    provider = _csv(login("owner").get(_url(world, "entries-csv")))
    assert "Internal note" in provider[0] and "Daily rate" in provider[0]
    assert len(provider) == 4 and "SECRET-INTERNAL" in provider[1]
    assert provider[1][provider[0].index("Daily rate")] == "960"
    filtered = _csv(
        login("client_contact").get(
            _url(world, "entries-csv"),
            {"person": world.member.user.pk, "activity": workshops.pk},
        )
    )
    assert [row[2] for row in filtered[1:]] == ["3.50"]
    assert "Internal note" not in filtered[0] and "Daily rate" not in filtered[0]
    assert not any("SECRET-INTERNAL" in cell for row in filtered for cell in row)
    start = (timezone.localdate() - timedelta(days=3)).isoformat()
    period = _csv(login("client_contact").get(_url(world, "entries-csv"), {"start": start}))
    assert len(period) == 3
    bad = login("client_contact").get(_url(world, "entries-csv"), {"start": "yesterday"})
    assert bad.status_code == 400 and "start" in bad.json()["errors"]


def test_xlsx_export_parses_and_shows_amounts_to_a_client_only_when_the_workspace_does(
    world: World, login
) -> None:
    _setup(world)
    rows = _xlsx(login("client_contact").get(_url(world, "entries-xlsx")))
    assert rows[0][:3] == ["Date worked", "Person", "Hours"] and len(rows) == 4
    assert "Amount" not in rows[0] and not any("SECRET" in (c or "") for r in rows for c in r)
    world.workspace.show_amounts_to_client = True
    world.workspace.save(update_fields=["show_amounts_to_client"])
    rows = _xlsx(login("client_contact").get(_url(world, "entries-xlsx")))
    amount = rows[0].index("Amount")
    assert "Internal note" not in rows[0]
    assert sorted(r[amount] for r in rows[1:] if len(r) > amount) == ["240.00", "420.00"]


def test_monthly_statement_is_a_pdf_without_internal_notes(world: World, login) -> None:
    _setup(world)
    # The month of the entry of two days ago (the month before, on the 1st or the 2nd).
    month = (timezone.localdate() - timedelta(days=2)).strftime("%Y-%m")
    response = login("client_contact").get(_url(world, "statement"), {"month": month})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # The text a reader sees, not the file's bytes: offsets and dates in the file may hold "960".
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Shared 210" in text and "Consumption statement" in text
    assert "SECRET-INTERNAL" not in text and "960" not in text
    bad = login("client_contact").get(_url(world, "statement"), {"month": "13-2026"})
    assert bad.status_code == 400


def test_the_page_offers_exports_with_its_filters(world: World, login) -> None:
    _setup(world)
    html = (
        login("client_contact")
        .get(_url(world, "consumption"), {"person": world.member.user.pk})
        .content.decode()
    )
    assert f"entries.csv?person={world.member.user.pk}" in html
    assert f"entries.xlsx?person={world.member.user.pk}" in html
    assert "Shared 60" not in html  # the owner's entry is filtered out of the table


def test_a_french_reader_gets_the_export_s_columns_in_french(world: World, login) -> None:
    """The duration's column reads "Minutes", not a meeting's "Compte rendu"."""
    _setup(world)
    http = login("client_contact")
    http.cookies["django_language"] = "fr"
    header = _csv(http.get(_url(world, "entries-csv"), HTTP_ACCEPT_LANGUAGE="fr"))[0]
    assert header[:5] == ["Jour travaillé", "Personne", "Heures", "Minutes", "Activité"]
    assert "Compte rendu" not in header
