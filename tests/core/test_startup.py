"""Nothing to remember: the server refuses a missing public address with a clear message, and
static files missing from the collected manifest never turn a page into a 500."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient

from confiance.core.startup import refuse_unless_configured, static_files_missing


def test_production_without_site_url_refuses_to_start_with_a_clear_message(settings) -> None:
    settings.DEBUG = False
    settings.SITE_URL_CONFIGURED = False
    with pytest.raises(ImproperlyConfigured, match="SITE_URL is not set"):
        refuse_unless_configured()
    with pytest.raises(CommandError, match=r"SITE_URL=https://confiance\.example\.com"):
        call_command("serve", check_only=True)


def test_development_or_a_configured_address_starts(settings) -> None:
    settings.DEBUG = True
    settings.SITE_URL_CONFIGURED = False
    refuse_unless_configured()
    settings.DEBUG = False
    settings.SITE_URL_CONFIGURED = True
    refuse_unless_configured()


def _whitenoise_storage(settings, root) -> None:  # type: ignore[no-untyped-def]
    settings.STATIC_ROOT = str(root)
    # As in production: WhiteNoise lists the files at start-up (tests look them up on demand).
    settings.WHITENOISE_AUTOREFRESH = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "confiance.core.storage.StaticFilesStorage"},
    }


def test_pages_and_their_files_work_before_any_collectstatic(settings, tmp_path, db) -> None:
    _whitenoise_storage(settings, tmp_path / "empty")
    response = HttpClient().get("/accounts/login/")
    assert response.status_code == 200, "no 500 for a missing static manifest"
    html = response.content.decode()
    assert "/static/confiance/app.css" in html
    css = HttpClient().get("/static/confiance/app.css")
    assert css.status_code == 200, "served from the finders until collected"


def test_serve_collects_missing_static_files_before_starting(settings, tmp_path, db) -> None:
    _whitenoise_storage(settings, tmp_path / "static")
    settings.DEBUG = False
    settings.SITE_URL_CONFIGURED = True
    assert "confiance/app.css" in static_files_missing()
    call_command("serve", check_only=True)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert "confiance/app.css" in manifest["paths"]
    assert static_files_missing() == []


def test_a_worker_starting_on_collected_files_prints_no_warning(
    settings, tmp_path, db, caplog
) -> None:
    """Each web worker lists the files at start: once collected, none is "not collected yet"
    (chart.js's "x.d.ts" names made WhiteNoise ask for "x.ts", no file, and each such name
    printed a warning telling people to run collectstatic again)."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    _whitenoise_storage(settings, tmp_path / "static")
    call_command("collectstatic", interactive=False, verbosity=0)
    with caplog.at_level("WARNING", logger="confiance.core.storage"):
        WhiteNoiseMiddleware(lambda request: None)
    assert not [r.getMessage() for r in caplog.records if "not collected" in r.getMessage()]


def test_a_file_not_collected_yet_is_named_in_a_warning(settings, tmp_path, caplog) -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    _whitenoise_storage(settings, tmp_path / "empty")
    with caplog.at_level("WARNING", logger="confiance.core.storage"):
        assert staticfiles_storage.url("confiance/app.css") == "/static/confiance/app.css"
        assert staticfiles_storage.url("confiance/no-such-file.css").endswith("no-such-file.css")
    warned = [r.getMessage() for r in caplog.records]
    assert warned == [
        "static file 'confiance/app.css' is not collected yet: run `confiance collectstatic`"
    ]
