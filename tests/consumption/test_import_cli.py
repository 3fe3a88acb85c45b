"""`confiance import_entries`: preview, confirmation, progress bar, exit codes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from confiance.consumption.models import ImportJob, TimeEntry
from tests.conftest import World
from tests.consumption.import_support import DATA, var_dir  # noqa: F401

pytestmark = pytest.mark.usefixtures("var_dir")


def run(world: World, path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_entries",
        str(path),
        "--engagement",
        str(world.engagement.pk),
        "--as",
        "owner@provider.test",
        *args,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_with_yes_it_imports_and_shows_a_progress_bar(world: World) -> None:
    out, err = run(world, DATA / "toggl.csv", "--yes")
    assert "Rows: 3, 255 minutes, from 2026-10-05 to 2026-10-07" in out
    assert "Mark Member <member@provider.test>: 2 rows, 210 min" in out
    assert "Activities that will be created: Analysis, Workshops" in out
    assert "3 entries created, 0 already imported and skipped" in out
    assert "\r[" in err and "100% 3/3 rows" in err and "rows/s" in err
    assert TimeEntry.objects.filter(engagement=world.engagement, source="toggl").count() == 3


def test_a_second_run_of_the_same_file_adds_nothing(world: World) -> None:
    run(world, DATA / "harvest.csv", "--yes")
    out, _ = run(world, DATA / "harvest.csv", "--yes", "--format", "harvest")
    assert "Already imported (will be skipped): 3" in out
    assert "0 entries created, 3 already imported and skipped" in out
    assert TimeEntry.objects.count() == 3


def test_an_invalid_file_prints_each_bad_line_and_exits_with_1(world: World) -> None:
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_entries",
            str(DATA / "generic_bad.csv"),
            f"--engagement={world.engagement.pk}",
            "--as=owner@provider.test",
            "--yes",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert caught.value.returncode == 1
    assert "line 3: Unreadable date “2026-13-01”" in err.getvalue()
    assert "line 9:" in err.getvalue()
    assert not TimeEntry.objects.exists()


def test_without_yes_and_without_a_terminal_nothing_is_imported(world: World, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    out, err = run(world, DATA / "generic.csv")
    assert "Nothing imported." in out and "--yes" in err
    assert not TimeEntry.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.PREVIEW


def test_someone_who_may_not_import_is_refused(world: World) -> None:
    with pytest.raises(CommandError, match="owner or the engagement's lead"):
        call_command(
            "import_entries",
            str(DATA / "generic.csv"),
            f"--engagement={world.engagement.pk}",
            "--as=member@provider.test",
            stdout=io.StringIO(),
        )


def test_the_command_answers_to_its_dashed_name_too(world: World) -> None:
    out = io.StringIO()
    call_command(
        "import-entries",
        str(DATA / "kimai.csv"),
        f"--engagement={world.engagement.pk}",
        "--as=owner@provider.test",
        "--yes",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "3 entries created" in out.getvalue()
