"""Readers for the CSV exports of Kimai, Toggl Track and Harvest, and for our generic format.

Framework-free: this module knows CSV layouts, dates and durations, nothing of people, activities
or the database (the import service resolves those). It streams: rows are read one at a time from
a text stream by the csv module, so a file of any length is never held in memory.

Accepted layouts (the format is recognised from the header; column order does not matter, other
columns are ignored, header names are compared without case or surrounding spaces):

* **generic**: ``date`` (YYYY-MM-DD), ``email`` (an e-mail address, or the person's full name),
  ``duration``, ``activity``, ``note`` (shared with the client), ``internal_note`` (never shown to
  the client) and, optionally, ``external_id`` (your own identifier of the row: importing a row with
  an identifier already imported adds nothing). A duration is written ``90`` (whole minutes),
  ``90min``, ``1:30`` (hours:minutes) or ``1.5h`` / ``1,5 h`` (decimal hours, with the unit: a bare
  ``1.5`` is refused, being ambiguous).
* **toggl**: Toggl Track's detailed report exported as CSV (``User, Email, Client, Project, Task,
  Description, Billable, Start date, Start time, End date, End time, Duration, Tags, Amount (..)``):
  the day is the start date, the duration ``HH:MM:SS``, the person the e-mail (else the user name),
  the activity the task, the note the description. Project and client are not read: the engagement
  is chosen when importing.
* **harvest**: Harvest's detailed time report exported as CSV (``Date, Client, Project,
  Project Code, Task, Notes, Hours, Hours Rounded, Billable?, ..., First Name, Last Name, ...``):
  the duration is ``Hours`` (decimal hours, not the rounded ones), the person is matched by
  "First Last" name, the activity is the task, the note the notes.
* **kimai**: Kimai's timesheet export as CSV (``Date, From, To, Duration, ..., Name, User, E-mail,
  Customer, Project, Activity, Description, ...``): the duration is decimal hours (or ``H:MM``),
  the person the e-mail (else the name, else the user name), the activity and the description as
  they are. An ``ID`` column, when the export template has one, identifies the row.

Everywhere: UTF-8 with or without a byte-order mark (the caller falls back to Windows-1252 for files
saved by a spreadsheet), ``,`` ``;`` or tab as the delimiter (taken from the header line), decimal
comma or point, dates as YYYY-MM-DD; the tools' exports also accept DD.MM.YYYY and YYYY/MM/DD.
A date written with slashes day-first or month-first (01/02/2026) is refused as ambiguous.
Durations in seconds are rounded to the nearest minute, and a positive one to at least a minute.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import BinaryIO

FORMAT_NAMES = ("kimai", "toggl", "harvest", "generic")
# Control characters have no place in a time sheet; NUL in particular is refused by PostgreSQL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_EXTERNAL_ID = 64  # stored with a prefix in TimeEntry.external_id (80 characters)


@dataclass(frozen=True)
class Problem:
    """Something wrong with the file (line None or the header's line) or with one row."""

    line: int | None
    code: str
    params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "code": self.code, "params": self.params}


class FormatError(Exception):
    """The file cannot be read as any accepted layout (header, encoding, CSV syntax)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


@dataclass(frozen=True)
class Row:
    """One time entry as the file states it; people and activities are still names."""

    line: int
    date: date
    minutes: int
    email: str
    name: str
    activity: str
    note: str
    internal_note: str = ""
    external_id: str = ""


class _RowProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].code)
        self.problems = problems


def normalise_header(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").casefold().split())


# ---------------------------------------------------------------------------------------------
# Dates and durations
# ---------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_YMD_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_AMBIGUOUS_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}$")
_STRICT_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

_CLOCK = re.compile(r"^(\d+):([0-5]?\d)(?::([0-5]?\d))?$")
_DECIMAL = re.compile(r"^\d+(?:[.,]\d+)?$|^[.,]\d+$")
_GENERIC_MINUTES = re.compile(r"^(\d+)\s*(?:min|mn|m)?$", re.IGNORECASE)
_GENERIC_HOURS = re.compile(r"^(\d+(?:[.,]\d+)?|[.,]\d+)\s*h$", re.IGNORECASE)


def _make_date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_date(text: str, *, strict: bool = False) -> date:
    """A day from YYYY-MM-DD (strict), or also DD.MM.YYYY and YYYY/MM/DD (tool exports)."""
    value = text.strip()
    if not value:
        raise ValueError("date_missing")
    match = (_STRICT_ISO_DATE if strict else _ISO_DATE).match(value)
    if match:
        parsed = _make_date(*match.groups())
    elif strict:
        parsed = None
    elif match := _DOTTED_DATE.match(value):
        parsed = _make_date(match.group(3), match.group(2), match.group(1))
    elif match := _YMD_SLASHED.match(value):
        parsed = _make_date(*match.groups())
    elif _AMBIGUOUS_DATE.match(value):
        raise ValueError("date_ambiguous")
    else:
        parsed = None
    if parsed is None:
        raise ValueError("date_invalid")
    return parsed


def _minutes_from_seconds(seconds: int) -> int:
    minutes = (seconds + 30) // 60
    return max(minutes, 1) if seconds > 0 else 0


def _minutes_from_hours(text: str) -> int:
    try:
        hours = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError("duration_invalid") from None
    minutes = int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(minutes, 1) if hours > 0 else 0


def parse_clock(text: str) -> int:
    """Minutes from H:MM or H:MM:SS (seconds rounded)."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError("duration_invalid")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return _minutes_from_seconds(hours * 3600 + minutes * 60 + seconds)


def parse_tool_duration(text: str) -> int:
    """Minutes from decimal hours (point or comma) or H:MM[:SS], as the tools export them."""
    value = text.strip()
    if not value:
        raise ValueError("duration_missing")
    if _DECIMAL.match(value):
        return _minutes_from_hours(value)
    return parse_clock(value)


def parse_generic_duration(text: str) -> int:
    """Minutes from `90`, `90min`, `1:30`, `1.5h` or `1,5 h` (the generic format's rule)."""
    value = text.strip()
    if not value:
        raise ValueError("duration_missing")
    if match := _GENERIC_MINUTES.match(value):
        return int(match.group(1))
    if match := _GENERIC_HOURS.match(value):
        return _minutes_from_hours(match.group(1))
    return parse_clock(value)


# ---------------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------------

Cells = dict[str, str]


@dataclass(frozen=True)
class Layout:
    """One accepted export: how to recognise its header and read a row of it."""

    name: str
    # Each requirement: its label in messages, and the header names that satisfy it.
    required: tuple[tuple[str, frozenset[str]], ...]
    # Present in the tool's export and in no other accepted layout: recognises the header.
    signature: tuple[frozenset[str], ...]
    read: Callable[[Cells, int], Row]

    def missing(self, headers: set[str]) -> list[str]:
        return [label for label, names in self.required if not names & headers]

    def recognises(self, headers: set[str]) -> bool:
        return all(names & headers for names in self.signature) and not self.missing(headers)


def _first(cells: Cells, *names: str) -> str:
    for name in names:
        value = cells.get(name)
        if value:
            return value.strip()
    return ""


def _parse_fields(line: int, fields: dict[str, tuple[Callable[[str], object], str]]) -> dict:
    """Parse each (parser, raw text) field; gather every problem of the row, not only the first."""
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for key, (parse, raw) in fields.items():
        try:
            values[key] = parse(raw)
        except ValueError as error:
            problems.append(Problem(line, str(error), {"value": raw.strip()[:60]}))
    if problems:
        raise _RowProblems(problems)
    return values


def _strict_date(text: str) -> date:
    return parse_date(text, strict=True)


def _read_generic(cells: Cells, line: int) -> Row:
    values = _parse_fields(
        line,
        {
            "date": (_strict_date, cells.get("date", "")),
            "minutes": (parse_generic_duration, cells.get("duration", "")),
        },
    )
    person = _first(cells, "email")
    return Row(
        line=line,
        date=values["date"],  # type: ignore[arg-type]
        minutes=values["minutes"],  # type: ignore[arg-type]
        email=person if "@" in person else "",
        name="" if "@" in person else person,
        activity=_first(cells, "activity"),
        note=_first(cells, "note"),
        internal_note=_first(cells, "internal_note", "internal note"),
        external_id=_first(cells, "external_id", "external id"),
    )


def _read_toggl(cells: Cells, line: int) -> Row:
    values = _parse_fields(
        line,
        {
            "date": (parse_date, cells.get("start date", "")),
            "minutes": (parse_tool_duration, cells.get("duration", "")),
        },
    )
    return Row(
        line=line,
        date=values["date"],  # type: ignore[arg-type]
        minutes=values["minutes"],  # type: ignore[arg-type]
        email=_first(cells, "email"),
        name=_first(cells, "user"),
        activity=_first(cells, "task"),
        note=_first(cells, "description"),
    )


def _read_harvest(cells: Cells, line: int) -> Row:
    values = _parse_fields(
        line,
        {
            "date": (parse_date, cells.get("date", "")),
            "minutes": (parse_tool_duration, cells.get("hours", "")),
        },
    )
    name = " ".join(p for p in (_first(cells, "first name"), _first(cells, "last name")) if p)
    return Row(
        line=line,
        date=values["date"],  # type: ignore[arg-type]
        minutes=values["minutes"],  # type: ignore[arg-type]
        email=_first(cells, "email", "e-mail"),
        name=name,
        activity=_first(cells, "task"),
        note=_first(cells, "notes"),
    )


# Kimai writes its headers in the language of the person exporting. English is Kimai's own
# (messages.en.xlf); the French and German names are accepted too, as those exports are common.
_KIMAI = {
    "date": frozenset({"date", "datum"}),
    "from": frozenset({"from", "begin", "de", "von"}),
    "to": frozenset({"to", "end", "à", "bis"}),
    "duration": frozenset({"duration", "durée", "dauer"}),
    "activity": frozenset({"activity", "activité", "tätigkeit"}),
    "description": frozenset({"description", "beschreibung"}),
    "email": frozenset({"e-mail", "email", "e-mail-adresse"}),
    "name": frozenset({"name", "nom"}),
    "user": frozenset({"user", "username", "utilisateur", "benutzer"}),
    "id": frozenset({"id"}),
}


def _kimai(cells: Cells, key: str) -> str:
    return _first(cells, *sorted(_KIMAI[key]))


def _read_kimai(cells: Cells, line: int) -> Row:
    values = _parse_fields(
        line,
        {
            "date": (parse_date, _kimai(cells, "date")),
            "minutes": (parse_tool_duration, _kimai(cells, "duration")),
        },
    )
    return Row(
        line=line,
        date=values["date"],  # type: ignore[arg-type]
        minutes=values["minutes"],  # type: ignore[arg-type]
        email=_kimai(cells, "email"),
        name=_kimai(cells, "name") or _kimai(cells, "user"),
        activity=_kimai(cells, "activity"),
        note=_kimai(cells, "description"),
        external_id=_kimai(cells, "id"),
    )


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


LAYOUTS: dict[str, Layout] = {
    "toggl": Layout(
        name="toggl",
        required=(
            ("Start date", _names("start date")),
            ("Duration", _names("duration")),
            ("Email", _names("email", "user")),
        ),
        signature=(_names("start date"), _names("start time")),
        read=_read_toggl,
    ),
    "harvest": Layout(
        name="harvest",
        required=(
            ("Date", _names("date")),
            ("Hours", _names("hours")),
            ("First Name", _names("first name")),
            ("Last Name", _names("last name")),
        ),
        signature=(_names("hours"), _names("first name"), _names("last name")),
        read=_read_harvest,
    ),
    "kimai": Layout(
        name="kimai",
        required=(
            ("Date", _KIMAI["date"]),
            ("Duration", _KIMAI["duration"]),
            ("E-mail", _KIMAI["email"] | _KIMAI["name"] | _KIMAI["user"]),
        ),
        signature=(_KIMAI["from"], _KIMAI["to"], _KIMAI["activity"]),
        read=_read_kimai,
    ),
    "generic": Layout(
        name="generic",
        required=(
            ("date", _names("date")),
            ("email", _names("email")),
            ("duration", _names("duration")),
        ),
        signature=(_names("date"), _names("email"), _names("duration")),
        read=_read_generic,
    ),
}


def detect_layout(headers: set[str]) -> Layout | None:
    """The layout whose signature the header carries (tools first, the generic format last)."""
    for name in ("toggl", "harvest", "kimai", "generic"):
        if LAYOUTS[name].recognises(headers):
            return LAYOUTS[name]
    return None


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; and tab (comma on a tie)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


# ---------------------------------------------------------------------------------------------
# Reading a file
# ---------------------------------------------------------------------------------------------


class CsvImport:
    """An export opened for reading: its layout and delimiter, then its rows one at a time.

    Iterating yields a `Row` for each good row and one or more `Problem`s for each bad one;
    blank lines are skipped. A CSV syntax or encoding error ends the iteration with a Problem.
    Lines are counted as in a text editor: the header is line 1.
    """

    def __init__(
        self, binary: BinaryIO, *, source_format: str = "auto", encoding: str = "utf-8-sig"
    ):
        self._text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        try:
            header_line = self._text.readline()
        except UnicodeDecodeError:
            raise FormatError(Problem(1, "encoding")) from None
        if not header_line.strip():
            raise FormatError(Problem(None, "empty"))
        self.delimiter = sniff_delimiter(header_line.splitlines()[0])
        self._reader = csv.reader(
            itertools.chain([header_line], self._text), delimiter=self.delimiter
        )
        try:
            self.columns = [normalise_header(h) for h in next(self._reader)]
        except csv.Error as error:
            raise FormatError(Problem(1, "csv", {"detail": str(error)})) from None
        headers = set(self.columns)
        if source_format == "auto":
            layout = detect_layout(headers)
            if layout is None:
                raise FormatError(
                    Problem(
                        1, "unknown_format", {"columns": ", ".join(c for c in self.columns if c)}
                    )
                )
        else:
            layout = LAYOUTS[source_format]
            missing = layout.missing(headers)
            if missing:
                raise FormatError(
                    Problem(
                        1, "missing_columns", {"format": layout.name, "columns": ", ".join(missing)}
                    )
                )
        self.layout = layout

    def __iter__(self) -> Iterator[Row | Problem]:
        columns = self.columns
        read = self.layout.read
        reader = self._reader
        last_line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Problem(reader.line_num, "csv", {"detail": str(error)})
                return
            except UnicodeDecodeError:
                yield Problem(last_line + 1, "encoding")
                return
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            row = dict(zip(columns, cells, strict=False))
            tainted = [c for c, cell in row.items() if CONTROL_CHARACTERS.search(cell)]
            if tainted:
                yield Problem(line, "control_character", {"column": tainted[0] or "?"})
                continue
            try:
                yield read(row, line)
            except _RowProblems as bad:
                yield from bad.problems
