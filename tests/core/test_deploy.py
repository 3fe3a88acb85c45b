"""The production settings documented in docs/deploy.md pass `confiance check --deploy`."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def documented_settings() -> dict[str, str]:
    """The KEY=value lines of the settings block in docs/deploy.md."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = text.split("## Settings (environment)", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    pairs = re.findall(r"^([A-Z_]+)=(\S*)", block, re.M)
    return dict(pairs)


def test_check_deploy_passes_with_the_documented_settings(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    env.update(documented_settings())
    env["SECRET_KEY"] = secrets.token_urlsafe(64)  # the documented one is a placeholder
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"  # no server needed to check
    env["CONFIANCE_VAR_DIR"] = str(tmp_path)
    assert env["DEBUG"] == "false" and env["DATABASE_POOL"] == "true"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_compose_and_systemd_run_web_and_several_workers() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "gunicorn confiance.wsgi:application" in compose and "--workers 4" in compose
    assert "command: confiance worker" in compose and "replicas: 2" in compose
    units = ROOT / "deploy" / "systemd"
    assert "confiance worker" in (units / "confiance-worker@.service").read_text(encoding="utf-8")
