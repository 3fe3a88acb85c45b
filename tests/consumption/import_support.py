"""Helpers of the CSV import tests: sample files, a private VAR_DIR, a job for the URL table."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from confiance.consumption.imports import services
from confiance.consumption.models import ImportJob
from confiance.core.models import Membership
from confiance.engagements.models import Engagement
from tests.conftest import World

DATA = Path(__file__).parent / "data"


@pytest.fixture
def var_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploads are stored under a throw-away VAR_DIR."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def prepare(
    world: World,
    content: bytes,
    *,
    membership: Membership | None = None,
    engagement: Engagement | None = None,
    source_format: str = "auto",
    filename: str = "entries.csv",
) -> ImportJob:
    return services.import_prepare(
        membership=membership or world.owner,
        engagement=engagement or world.engagement,
        file=io.BytesIO(content),
        filename=filename,
        source_format=source_format,
    )


def finished_job(world: World) -> int:
    """An import already done on world.engagement (no file needed): for the URL access table."""
    return ImportJob.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        created_by=world.owner.user,
        source_format="generic",
        filename="done.csv",
        stored_path="",
        status=ImportJob.Status.DONE,
    ).pk
