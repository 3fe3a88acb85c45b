"""Project-wide checks a person relies on: migrations committed, French complete."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

from babel.messages.pofile import read_po
from django.core.management import call_command

CATALOGUE = Path(__file__).resolve().parents[1] / "confiance/locale/fr/LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_models_and_migrations_agree(db) -> None:
    out = StringIO()
    call_command("makemigrations", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()


def test_french_catalogue_is_complete_and_keeps_placeholders() -> None:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    missing, fuzzy, broken = [], [], []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(ids[0])
        if message.fuzzy:
            fuzzy.append(ids[0])
        expected = set(PLACEHOLDER.findall(ids[-1]))
        if any(set(PLACEHOLDER.findall(s)) != expected for s in strings if s):
            broken.append(ids[0])
    assert not missing, f"untranslated: {missing}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not broken, f"placeholders differ: {broken}"
