"""The CSV readers, without a database: each tool's real layout, dates, durations, encodings."""

from __future__ import annotations

import io
from datetime import date

import pytest

from confiance.consumption.imports.formats import (
    CsvImport,
    FormatError,
    Problem,
    Row,
    parse_date,
    parse_generic_duration,
    parse_tool_duration,
)
from tests.consumption.import_support import sample


def read(content: bytes, source_format: str = "auto", encoding: str = "utf-8-sig") -> CsvImport:
    return CsvImport(io.BytesIO(content), source_format=source_format, encoding=encoding)


def rows(content: bytes, **kwargs: str) -> list[Row | Problem]:
    return list(read(content, **kwargs))


def summary(items: list[Row | Problem]) -> list[tuple[object, ...]]:
    return [
        (r.line, r.date, r.minutes, r.email, r.name, r.activity, r.note)
        for r in items
        if isinstance(r, Row)
    ]


@pytest.mark.parametrize(
    ("name", "layout", "delimiter"),
    [
        ("toggl.csv", "toggl", ","),
        ("harvest.csv", "harvest", ","),
        ("kimai.csv", "kimai", ","),
        ("generic.csv", "generic", ","),
        ("generic_semicolon.csv", "generic", ";"),
    ],
)
def test_each_sample_is_recognised_from_its_header(name: str, layout: str, delimiter: str) -> None:
    reader = read(sample(name))
    assert reader.layout.name == layout
    assert reader.delimiter == delimiter


def test_toggl_detailed_export_rows() -> None:
    assert summary(rows(sample("toggl.csv"))) == [
        (
            2,
            date(2026, 10, 5),
            150,
            "member@provider.test",
            "Mark Member",
            "Workshops",
            "Kick-off workshop, with the client",
        ),
        # 00:45:20 rounds to 45 minutes
        (
            3,
            date(2026, 10, 6),
            45,
            "olivia.personal@example.test",
            "Olivia Owner",
            "Analysis",
            "Data model review",
        ),
        (
            4,
            date(2026, 10, 7),
            60,
            "member@provider.test",
            "Mark Member",
            "",
            "Travel to the client",
        ),
    ]


def test_harvest_detailed_export_rows() -> None:
    assert summary(rows(sample("harvest.csv"))) == [
        (
            2,
            date(2026, 10, 12),
            210,
            "",
            "Mark Member",
            "Analysis",
            "Interviews with the finance team",
        ),
        (3, date(2026, 10, 13), 15, "", "Olivia Owner", "Workshops", ""),
        # 1.33 h is 79.8 minutes: 80; "Hours Rounded" (1.5) is not what was worked
        (
            4,
            date(2026, 10, 13),
            80,
            "",
            "Mark Member",
            "analysis",
            'Notes with "quotes", and a comma',
        ),
    ]


def test_kimai_export_rows() -> None:
    assert summary(rows(sample("kimai.csv"))) == [
        (
            2,
            date(2026, 10, 19),
            195,
            "member@provider.test",
            "Mark Member",
            "Development",
            "Import scripts",
        ),
        (
            3,
            date(2026, 10, 20),
            60,
            "owner@provider.test",
            "Olivia Owner",
            "Meetings",
            "Steering committee",
        ),
        (4, date(2026, 10, 21), 40, "", "Mark Member", "Development", ""),
    ]


def test_generic_rows_with_every_duration_notation_and_internal_notes() -> None:
    items = rows(sample("generic.csv"))
    assert summary(items) == [
        (
            2,
            date(2026, 10, 26),
            90,
            "member@provider.test",
            "",
            "Analysis",
            "Reviewed the data model",
        ),
        (3, date(2026, 10, 26), 75, "", "Olivia Owner", "Workshops", "Workshop with the client"),
        (4, date(2026, 10, 27), 90, "MEMBER@provider.test", "", "", "Follow-up"),
        (
            5,
            date(2026, 10, 26),
            90,
            "member@provider.test",
            "",
            "Analysis",
            "Reviewed the data model",
        ),
    ]
    assert items[0].internal_note == "Slow start: access missing"  # type: ignore[union-attr]
    assert items[2].external_id == "ticket-42"  # type: ignore[union-attr]


def test_semicolons_decimal_comma_and_byte_order_mark() -> None:
    items = rows(sample("generic_semicolon.csv"))
    assert [(r.minutes, r.activity, r.note) for r in items] == [  # type: ignore[union-attr]
        (90, "Étude", "Étude détaillée; deux parties"),
        (45, "étude", "Relecture"),
    ]


def test_a_spreadsheets_windows_encoding_is_read_when_told() -> None:
    content = "date;email;duration;note\r\n2026-10-28;a@b.test;30;Réunion\r\n".encode("cp1252")
    (row,) = rows(content, encoding="cp1252")
    assert row.note == "Réunion"  # type: ignore[union-attr]


def test_bad_rows_are_reported_with_their_line_and_every_reason() -> None:
    content = (
        b"date,email,duration\n"
        b"2026-10-01,a@b.test,30\n"
        b"\n"  # blank lines are skipped but counted
        b'2026-02-30,a@b.test,"1:75"\n'
        b"2026-10-02,a@b.test,1.5\n"
    )
    items = rows(content)
    problems = [(p.line, p.code, p.params["value"]) for p in items if isinstance(p, Problem)]
    assert problems == [
        (4, "date_invalid", "2026-02-30"),
        (4, "duration_invalid", "1:75"),
        (5, "duration_invalid", "1.5"),  # hours need their unit in the generic format
    ]


def test_line_numbers_follow_the_file_across_multiline_quoted_notes() -> None:
    content = (
        b'date,email,duration,note\n2026-10-01,a@b.test,30,"two\nlines"\n2026-10-01,a@b.test,x,\n'
    )
    items = rows(content)
    assert isinstance(items[0], Row) and items[0].note == "two\nlines"
    assert isinstance(items[1], Problem) and items[1].line == 4


def test_an_unknown_header_is_refused() -> None:
    with pytest.raises(FormatError) as caught:
        read(b"when,who,how long\n2026-10-01,a,1\n")
    assert caught.value.problem.code == "unknown_format"
    assert caught.value.problem.line == 1


def test_a_chosen_format_names_its_missing_columns() -> None:
    with pytest.raises(FormatError) as caught:
        read(sample("generic.csv"), source_format="harvest")
    assert caught.value.problem.code == "missing_columns"
    assert caught.value.problem.params["columns"] == "Hours, First Name, Last Name"


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(FormatError) as caught:
        read(b"")
    assert caught.value.problem.code == "empty"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90", 90),
        ("90min", 90),
        ("90 m", 90),
        ("1:30", 90),
        ("1:30:29", 90),
        ("1:30:30", 91),
        ("1.5h", 90),
        ("1,5 h", 90),
        ("0.01H", 1),
        ("0:00:10", 1),  # a positive duration is at least a minute
    ],
)
def test_generic_durations(text: str, minutes: int) -> None:
    assert parse_generic_duration(text) == minutes


@pytest.mark.parametrize("text", ["1.5", "abc", "1:60", "-30", "1h30x"])
def test_generic_durations_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration_invalid"):
        parse_generic_duration(text)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("3.25", 195), ("7,5", 450), ("2", 120), ("02:30:00", 150), ("0:45", 45), ("0", 0)],
)
def test_tool_durations_are_decimal_hours_or_clock_times(text: str, minutes: int) -> None:
    assert parse_tool_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05", date(2026, 10, 5)),
        ("2026-10-05 09:00:00", date(2026, 10, 5)),
        ("05.10.2026", date(2026, 10, 5)),
        ("2026/10/05", date(2026, 10, 5)),
    ],
)
def test_dates_of_tool_exports(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_day_or_month_first_dates_are_refused_as_ambiguous() -> None:
    with pytest.raises(ValueError, match="date_ambiguous"):
        parse_date("05/10/2026")


def test_the_generic_format_takes_iso_dates_only() -> None:
    with pytest.raises(ValueError, match="date_invalid"):
        parse_date("05.10.2026", strict=True)


def test_rows_are_read_lazily_one_at_a_time() -> None:
    """The reader pulls rows from the stream as they are asked for, never the whole file."""
    body = b"".join(b"2026-10-01,a@b.test,30\n" for _ in range(50_000))
    stream = io.BytesIO(b"date,email,duration\n" + body)
    reader = CsvImport(stream, source_format="auto")
    first = next(iter(reader))
    assert isinstance(first, Row)
    assert stream.tell() < len(body) // 4  # only a buffer's worth was read
