"""Django's protections stay on, passwords use argon2, pages carry a Content Security Policy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.test import Client as HttpClient

import confiance.settings as project_settings
from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]


def test_production_password_hasher_is_argon2() -> None:
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_pages_carry_csp_and_anti_framing_headers(login, world: World) -> None:
    response = login("member").get(f"/w/{world.workspace.slug}/engagements/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"


def test_forms_require_csrf(world: World) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(world.owner.user)
    response = http.post(f"/w/{world.workspace.slug}/tokens/", {"name": "no csrf"})
    assert response.status_code == 403


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import confiance.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path: Path) -> None:
    result = _import_settings({"SECRET_KEY_FILE": str(tmp_path / "missing"), "DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    result = _import_settings({"SECRET_KEY": "short", "DEBUG": "false"})
    assert result.returncode != 0


def test_a_malformed_boolean_is_an_error_not_false() -> None:
    result = _import_settings({"DEBUG": "ture"})
    assert result.returncode != 0
    assert "not a boolean" in result.stderr
