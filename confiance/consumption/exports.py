"""Exports of the consumption: time entries as CSV or XLSX with the page's filters, and the
monthly consumption statement as PDF for the client.

Every export shows what its reader may see on the page, no more: internal notes only to the
provider's people, rates and amounts only to who sees amounts. The XLSX file is written with
the standard library (an Office Open XML package is a zip of a few XML parts), streamed to a
temporary file so that a large export does not sit in memory.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

from django import forms
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from confiance import access
from confiance.consumption.figures import PERSON, Figures
from confiance.consumption.models import Activity, TimeEntry
from confiance.consumption.rollups import figures_load
from confiance.core.forms import model_choice_field, offer_choices
from confiance.core.models import Membership, User
from confiance.engagements.models import Engagement

Cell = str | int | Decimal | None


class EntryFilterForm(forms.Form):
    """The entries table's filters; the same query string drives the page and its exports."""

    person = forms.ModelChoiceField(
        label=gettext_lazy("Person"), queryset=User.objects.none(), required=False
    )
    activity = forms.ModelChoiceField(
        label=gettext_lazy("Activity"), queryset=Activity.objects.none(), required=False
    )
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        engagement: Engagement,
        figures: Figures | None = None,
        people: list[User] | None = None,
        activities: list[Activity] | None = None,
        **kwargs: Any,
    ) -> None:
        """`people` (`selectors.people_who_logged`) and `activities` (all of the engagement's,
        by name): the rows the page read already, offered as the choices."""
        super().__init__(*args, **kwargs)
        # People who logged time here (from the rollups: no scan of the entries).
        figures = figures if figures is not None else figures_load(engagement=engagement)
        emails = [
            key
            for (dimension, key), cell in figures.cells.items()
            if dimension == PERSON and cell.entries
        ]
        person = model_choice_field(self, "person")
        activity = model_choice_field(self, "activity")
        # The querysets check a submitted filter; a form only shown offers the rows read.
        if self.is_bound or people is None:
            person.queryset = User.objects.filter(email__in=emails).order_by("full_name")
        if self.is_bound or activities is None:
            activity.queryset = engagement.activities.order_by("name")
        if people is not None:
            logged = set(emails)
            offer_choices(person, [p for p in people if p.email in logged])
        if activities is not None:
            offer_choices(activity, activities)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The period ends before it starts."))
        return data


@dataclass(frozen=True)
class EntryFilter:
    person: User | None = None
    activity: Activity | None = None
    start: date | None = None
    end: date | None = None

    def apply(self, entries: QuerySet[TimeEntry]) -> QuerySet[TimeEntry]:
        if self.person is not None:
            entries = entries.filter(person=self.person)
        if self.activity is not None:
            entries = entries.filter(activity=self.activity)
        if self.start is not None:
            entries = entries.filter(date__gte=self.start)
        if self.end is not None:
            entries = entries.filter(date__lte=self.end)
        return entries

    @property
    def active(self) -> bool:
        return any((self.person, self.activity, self.start, self.end))


def entry_filter(form: EntryFilterForm) -> EntryFilter:
    """The filter of a bound form; an invalid field is ignored (the form shows its error)."""
    if not form.is_bound:
        return EntryFilter()
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    return EntryFilter(
        person=data.get("person"),
        activity=data.get("activity"),
        start=data.get("start"),
        end=data.get("end"),
    )


def export_rows(
    *, fetched_by: Membership, engagement: Engagement, filters: EntryFilter
) -> tuple[list[str], Iterator[list[Cell]]]:
    """Header and rows of the filtered entries, with only the columns this reader may see."""
    access.get_engagement(fetched_by, engagement.pk)
    show_internal = access.can_see_internal_notes(fetched_by)
    show_amounts = access.can_see_amounts(fetched_by)
    figures = figures_load(engagement=engagement, cells=False) if show_amounts else None
    minutes_per_day = (figures.minutes_per_day if figures else None) or (
        engagement.workspace.minutes_per_day
    )
    header = [
        _("Date worked"),
        _("Person"),
        _("Hours"),
        # A duration's column; "Minutes" alone is a meeting's minutes (a "compte rendu").
        pgettext("duration", "Minutes"),
        _("Activity"),
        _("Note"),
    ]
    if show_internal:
        header.append(_("Internal note"))
    header += [_("Kind"), _("Corrects entry"), _("Reason"), _("Entry"), _("Logged at")]
    header += [_("Ledger entry")]
    if show_amounts:
        header += [_("Daily rate"), _("Amount")]
    entries = filters.apply(
        TimeEntry.objects.filter(engagement=engagement)
        .select_related("person", "activity")
        .order_by("date", "id")
    )

    def rows() -> Iterator[list[Cell]]:
        for e in entries.iterator(chunk_size=2000):
            row: list[Cell] = [
                e.date.isoformat(),
                e.person.get_full_name(),
                (Decimal(e.minutes) / 60).quantize(Decimal("0.01")),
                e.minutes,
                e.activity.name if e.activity else "",
                e.shared_note,
            ]
            if show_internal:
                row.append(e.internal_note)
            row += [
                e.get_kind_display(),
                e.corrects_id,
                e.correction_reason,
                e.pk,
                e.created_at.isoformat(timespec="minutes"),
                e.ledger_index,
            ]
            if figures is not None:
                rate = figures.rate_of(e.person.email)
                amount = None
                if rate is not None:
                    amount = (rate * e.minutes / minutes_per_day).quantize(Decimal("0.01"))
                row += [rate, amount]
            yield row

    return header, rows()


def _text(value: Cell) -> str:
    return "" if value is None else str(value)


def csv_chunks(header: list[str], rows: Iterable[list[Cell]]) -> Iterator[str]:
    """CSV text in chunks (with a byte-order mark, so spreadsheet programs read UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow([_text(v) for v in row])
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# ---- XLSX (Office Open XML, ECMA-376), written with zipfile -------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _xlsx_cell(ref: str, value: Cell) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(_CONTROL.sub("", str(value)))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_write(target: IO[bytes], sheet_name: str, header: list[str], rows: Iterable[list[Cell]]):
    """Write a one-sheet workbook: the header, then the rows (numbers as numbers)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in _PARTS.items():
            package.writestr(name, content)
        package.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{SHEET_NS}" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets>'
            f'<sheet name="{escape(sheet_name[:31])}" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<worksheet xmlns="{SHEET_NS}"><sheetData>'.encode()
            )
            cells = "".join(_xlsx_cell(f"{_column(i)}1", v) for i, v in enumerate(header))
            sheet.write(f'<row r="1">{cells}</row>'.encode())
            for number, row in enumerate(rows, 2):
                cells = "".join(_xlsx_cell(f"{_column(i)}{number}", v) for i, v in enumerate(row))
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")


def xlsx_file(sheet_name: str, header: list[str], rows: Iterable[list[Cell]]) -> IO[bytes]:
    """The workbook in a temporary file (on disk past 10 MB), rewound for reading."""
    target = tempfile.SpooledTemporaryFile(max_size=10 * 1024 * 1024)  # noqa: SIM115
    xlsx_write(target, sheet_name, header, rows)
    target.seek(0)
    return target  # type: ignore[return-value]


# ---- the monthly statement ---------------------------------------------------------------


@dataclass
class MonthStatement:
    engagement: Engagement
    month: date  # the first day
    show_amounts: bool
    minutes_per_day: int
    month_minutes: int
    to_date_minutes: int
    budget_minutes: int | None
    by_person: list[tuple[str, int, Decimal | None]]
    by_activity: list[tuple[str, int]]
    entries: list[TimeEntry]
    figures_size: int

    @property
    def month_end(self) -> date:
        return (self.month + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    def days(self, minutes: int | None) -> Decimal | None:
        if minutes is None:
            return None
        return (Decimal(minutes) / self.minutes_per_day).quantize(Decimal("0.1"))


def month_statement(
    *, fetched_by: Membership, engagement: Engagement, month: date
) -> MonthStatement:
    """The month's consumption: figures from the ledgered rollups, entries of the month."""
    access.get_engagement(fetched_by, engagement.pk)
    figures = figures_load(engagement=engagement)
    minutes_per_day = figures.minutes_per_day or engagement.workspace.minutes_per_day
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    month_minutes = to_date = 0
    for (dimension, key), cell in figures.cells.items():
        if dimension != "day":
            continue
        if key <= last.isoformat():
            to_date += cell.minutes
            if key >= first.isoformat():
                month_minutes += cell.minutes
    show_amounts = access.can_see_amounts(fetched_by)
    month_entries = TimeEntry.objects.filter(engagement=engagement, date__range=(first, last))
    by_person = []
    for email, name, minutes in (
        month_entries.values_list("person__email", "person__full_name")
        .annotate(m=Sum("minutes"))
        .order_by("-m", "person__full_name")
    ):
        rate = figures.rate_of(email) if show_amounts else None
        amount = None
        if rate is not None:
            amount = (rate * minutes / minutes_per_day).quantize(Decimal("0.01"))
        by_person.append((name or email, int(minutes), amount))
    by_activity = [
        (name or "—", int(minutes))
        for name, minutes in month_entries.values_list("activity__name")
        .annotate(m=Sum("minutes"))
        .order_by("-m", "activity__name")
    ]
    return MonthStatement(
        engagement=engagement,
        month=first,
        show_amounts=show_amounts,
        minutes_per_day=minutes_per_day,
        month_minutes=month_minutes,
        to_date_minutes=to_date,
        budget_minutes=figures.budget_minutes if figures.minutes_per_day else None,
        by_person=by_person,
        by_activity=by_activity,
        entries=list(month_entries.select_related("person", "activity").order_by("date", "id")),
        figures_size=figures.size,
    )
