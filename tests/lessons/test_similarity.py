"""The similarity core: French finds French, English finds English, accents do not matter."""

from __future__ import annotations

import ast
from pathlib import Path

from confiance.lessons import similarity
from confiance.lessons.similarity import TfIdfIndex, normalise, stem, strip_accents

LESSONS = {
    "fr-migration": "Migration des données : toujours tester la reprise sur une copie complète "
    "de la base avant la bascule.",
    "fr-reunion": "Réunion de lancement : inviter le sponsor et fixer le calendrier des comités.",
    "en-deploy": "Deployment failed on Friday evening: never deploy before a weekend without "
    "a rollback plan.",
    "en-invoice": "Invoices sent late: agree the billing calendar with the client's accounts "
    "payable team.",
}


def test_module_imports_nothing_from_django() -> None:
    tree = ast.parse(Path(similarity.__file__).read_text())
    imported = [
        getattr(node, "module", None) or node.names[0].name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    assert not [m for m in imported if m and m.startswith("django")]


def test_accents_are_stripped() -> None:
    assert strip_accents("Réunion déjà prévue, façade") == "Reunion deja prevue, facade"
    assert normalise("Données") == normalise("donnees")


def test_short_and_common_words_are_dropped() -> None:
    assert normalise("Le client et la base de données pour les tests") == [
        "client",
        "base",
        "donn",
        "test",
    ]
    assert normalise("the deployments of an app") == ["deploy", "app"]


def test_light_suffix_stripping_joins_forms_of_one_word() -> None:
    assert stem("migrations") == stem("migration") == stem("migrer")
    assert stem("delayed") == stem("delays") == "delay"
    assert stem("deployments") == stem("deployment") == "deploy"
    assert stem("base") == "base", "a stem keeps at least four letters"


def test_french_query_finds_the_french_lesson() -> None:
    index = TfIdfIndex(LESSONS)
    best = index.similar("La migration des donnees a echoue pendant la bascule")
    assert best[0][0] == "fr-migration"


def test_english_query_finds_the_english_lesson() -> None:
    index = TfIdfIndex(LESSONS)
    best = index.similar("Deploy broke production on a Friday, no rollback")
    assert best[0][0] == "en-deploy"


def test_accents_in_the_query_are_ignored() -> None:
    index = TfIdfIndex(LESSONS)
    with_accents = index.similar("réunion de lancement sans sponsor")
    without = index.similar("REUNION de LANCEMENT sans sponsor")
    assert with_accents[0][0] == without[0][0] == "fr-reunion"
    assert abs(with_accents[0][1] - without[0][1]) < 1e-9


def test_unrelated_query_finds_nothing_above_a_threshold() -> None:
    index = TfIdfIndex(LESSONS)
    assert index.similar("photosynthesis of algae", threshold=0.1) == []
    assert index.similar("", threshold=0.0) == []
    assert index.similar("le la les de", threshold=0.0) == []


def test_scores_are_cosines_between_zero_and_one() -> None:
    index = TfIdfIndex(LESSONS)
    for _key, score in index.similar("migration deploy invoices reunion", limit=10):
        assert 0.0 < score <= 1.0 + 1e-9
    assert abs(index.score(LESSONS["en-invoice"], "en-invoice") - 1.0) < 1e-9


def test_limit_and_order() -> None:
    index = TfIdfIndex(LESSONS)
    results = index.similar("migration calendar deploy invoices", limit=2)
    assert len(results) == 2
    assert results[0][1] >= results[1][1]


def test_empty_index() -> None:
    assert TfIdfIndex({}).similar("anything") == []
    assert similarity.similarity("retard de livraison", "livraison en retard") > 0.9
