"""The import pages: upload, preview, confirm, progress; who reaches them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from confiance.consumption.imports.services import progress_key
from confiance.consumption.models import ImportJob, TimeEntry
from confiance.engagements.models import Engagement
from tests.conftest import World
from tests.consumption.import_support import prepare, sample, var_dir  # noqa: F401

pytestmark = pytest.mark.usefixtures("var_dir")


def url(world: World, name: str, **kwargs: int) -> str:
    return reverse(name, kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, **kwargs})


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, sample(name) if content is None else content, "text/csv")


def test_upload_preview_confirm_done(world: World, login, django_capture_on_commit_callbacks):
    http = login("owner")
    page = http.get(url(world, "import-upload"))
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content

    response = http.post(
        url(world, "import-upload"), {"file": upload("kimai.csv"), "source_format": "auto"}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(world, "import-detail", job_id=job.pk)

    preview = http.get(response["Location"]).content.decode()
    assert "What the import will do" in preview
    assert 'data-testid="activities-to-create"' in preview
    assert "Development" in preview and "Meetings" in preview
    assert url(world, "import-confirm", job_id=job.pk) in preview
    assert not TimeEntry.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(url(world, "import-confirm", job_id=job.pk))
    assert response.status_code == 302
    done = http.get(response["Location"]).content.decode()
    assert "3 entries created, 0 already imported and skipped." in done
    assert "hx-trigger" not in done  # nothing left to poll
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 3


def test_progress_is_polled_every_second_while_the_import_runs(world: World, login) -> None:
    job = prepare(world, sample("generic.csv"))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    cache.set(progress_key(job.pk), {"processed": 2, "total": 4})
    http = login("owner")

    detail = http.get(url(world, "import-detail", job_id=job.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in detail

    partial = http.get(url(world, "import-progress", job_id=job.pk), headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in html
    assert '<progress value="2" max="4"' in html
    assert "2 of 4 rows (50 %)" in html
    assert f'hx-get="{url(world, "import-progress", job_id=job.pk)}"' in html

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, processed_rows=4, created_count=4
    )
    html = http.get(url(world, "import-progress", job_id=job.pk)).content.decode()
    assert "hx-get" not in html and "4 entries created" in html


def test_a_rejected_file_lists_each_bad_line_and_its_reason(world: World, login) -> None:
    http = login("owner")
    response = http.post(url(world, "import-upload"), {"file": upload("generic_bad.csv")})
    page = http.get(response["Location"]).content.decode()
    assert "The file was rejected: nothing was imported" in page
    assert "7 rows must be corrected" in page
    assert "<td>3</td><td>Unreadable date “2026-13-01”" in page
    assert "<td>4</td><td>“nobody@nowhere.test” is not one of the provider&#x27;s people" in page
    assert url(world, "import-confirm", job_id=ImportJob.objects.get().pk) not in page


def test_form_errors_keep_the_chosen_format(world: World, login) -> None:
    response = login("owner").post(url(world, "import-upload"), {"source_format": "harvest"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="harvest" selected' in html
    assert "field-error" in html


def test_the_upload_page_documents_the_generic_format_and_the_tools(world: World, login) -> None:
    html = login("owner").get(url(world, "import-upload")).content.decode()
    for text in ("<code>internal_note</code>", "<code>external_id</code>", "1.5h", "Toggl Track"):
        assert text in html
    assert "Kimai" in html and "Harvest" in html


def test_the_upload_page_speaks_french(world: World, login) -> None:
    http = login("owner")
    http.cookies["django_language"] = "fr"
    html = http.get(url(world, "import-upload"), headers={"Accept-Language": "fr"}).content
    assert "Importer des temps passés".encode() in html


@pytest.mark.parametrize("persona", ["member", "finance", "client_contact", "expert", "outsider"])
def test_only_the_owner_and_the_lead_reach_the_import_pages(
    world: World, login, persona: str
) -> None:
    job = prepare(world, sample("generic.csv"))
    http = login(persona)
    assert http.get(url(world, "import-upload")).status_code == 404
    assert (
        http.post(url(world, "import-upload"), {"file": upload("generic.csv")}).status_code == 404
    )
    assert http.get(url(world, "import-detail", job_id=job.pk)).status_code == 404
    assert http.post(url(world, "import-confirm", job_id=job.pk)).status_code == 404
    assert http.get(url(world, "import-progress", job_id=job.pk)).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW


def test_the_lead_member_imports(world: World, login) -> None:
    Engagement.objects.filter(pk=world.engagement.pk).update(lead=world.member.user)
    response = login("member").post(url(world, "import-upload"), {"file": upload("generic.csv")})
    assert response.status_code == 302


def test_an_import_of_another_engagement_is_not_found(world: World, login) -> None:
    job = prepare(world, sample("generic.csv"), engagement=world.engagement_b)
    assert login("owner").get(url(world, "import-detail", job_id=job.pk)).status_code == 404


def _large(rows: int, bad_line: int | None = None) -> bytes:
    """A generic CSV over the in-request limit (long notes), optionally one bad row."""
    lines = ["date,email,duration,activity,note,internal_note,external_id"]
    for i in range(rows):
        date = "2026-13-01" if bad_line is not None and i + 2 == bad_line else "2026-10-26"
        lines.append(f"{date},member@provider.test,30,Analysis,{'x' * 400} {i},,row-{i}")
    return ("\n".join(lines) + "\n").encode()


def test_a_large_upload_is_checked_by_the_worker_with_progress(
    world: World, login, django_capture_on_commit_callbacks, settings
) -> None:
    from confiance.consumption.imports import services

    content = _large(1500)
    assert len(content) > services.CHECK_IN_REQUEST_BYTES
    http = login("owner")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = http.post(
            url(world, "import-upload"),
            {"file": upload("big.csv", content), "source_format": "auto"},
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == ImportJob.Status.CHECKING
    page = http.get(response["Location"]).content.decode()
    assert "every row is being checked before anything is written" in page
    assert "hx-trigger" in page  # the page polls while the worker checks
    # The worker's task runs once the upload's transaction committed.
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW and job.total_rows == 1500
    assert "What the import will do" in http.get(response["Location"]).content.decode()
    assert not TimeEntry.objects.exists()


def test_a_large_upload_with_a_bad_row_is_rejected_naming_it(world: World) -> None:
    from confiance.consumption.imports import services

    job = prepare(world, _large(1500, bad_line=700))
    assert job.status == ImportJob.Status.CHECKING
    job = services.import_check(job_id=job.pk)
    assert job.status == ImportJob.Status.INVALID
    assert [problem["line"] for problem in job.errors] == [700]
    # Checking again is a no-op: the job is no longer being checked.
    assert services.import_check(job_id=job.pk).status == ImportJob.Status.INVALID


def test_a_check_whose_worker_died_is_started_again(world: World) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from confiance.consumption.imports import services

    job = prepare(world, _large(1500))
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert services.imports_recover_stalled() == 1  # re-queued (the test backend runs it now)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW and job.total_rows == 1500
