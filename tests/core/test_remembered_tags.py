"""Constant translations and links rendered once per process (core/templatetags/
i18n_remembered.py, url_remembered.py) read as Django's own tags would, in every language,
under every script prefix, for every argument."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Engine, engines
from django.urls import NoReverseMatch, set_script_prefix
from django.utils import translation
from django.utils.autoreload import file_changed

from confiance.core.rows import row_url
from confiance.core.templatetags import i18n_remembered, url_remembered


def render(source: str, **context: object) -> str:
    return engines["django"].from_string(source).render(context)


def test_a_constant_translation_follows_the_language_of_each_render() -> None:
    source = '{% load i18n_remembered %}{% translate "Log out" %}|{% translate "Trust" %}'
    said = []
    for language in ("en", "fr", "en", "fr"):
        with translation.override(language):
            said.append(render(source))
    assert said == ["Log out|Trust", "Se déconnecter|Confiance"] * 2


def test_every_page_template_loads_the_remembered_translations() -> None:
    """A page template that loaded Django's `i18n` would still be right, only slower: none
    does (the e-mails' text templates, rendered once per message, may)."""
    root = Path(__file__).resolve().parents[2] / "confiance"
    loads = re.compile(r"\{% load ([^%]*)%\}")
    plain = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        for found in loads.findall(path.read_text())
        if "i18n" in found.split()
    ]
    assert plain == []
    assert engines["django"].engine.template_libraries["i18n_remembered"] is (
        i18n_remembered.register
    )


def test_only_constants_are_remembered_and_the_rest_is_djangos_node() -> None:
    template = (
        engines["django"]
        .from_string(
            '{% load i18n_remembered %}{% translate "Trust" %}{% translate word %}'
            '{% translate "Trust" noop %}'
            '{% translate "May" context "month name" %}{% translate "Trust" as t %}[{{ t }}]'
        )
        .template
    )
    kinds = [
        type(node).__name__ for node in template.nodelist if "Translate" in type(node).__name__
    ]
    assert kinds == [
        "RememberedTranslateNode",
        "TranslateNode",
        "TranslateNode",
        "TranslateNode",
        "TranslateNode",
    ]
    with translation.override("fr"):
        shown = template.render(Context({"word": "Trust"}))
        may = translation.pgettext("month name", "May")
    assert shown == f"ConfianceConfianceTrust{may}[Confiance]"


def test_every_translation_reads_as_djangos_own_tag_renders_it() -> None:
    """The same sources through Django's own library (an engine without our settings) and
    through ours, in both languages, escaping on and off, each twice (remembered)."""
    i18n_remembered._rendered.clear()
    djangos = Engine(libraries={"i18n": "django.templatetags.i18n"})  # Django's own tags
    sources = [
        '{% translate "Plan & <b>build</b>" %}',
        '{% translate "Trust" %} {% translate "100%% sure" %}',
        '{% trans "Log out" %}',
    ]
    for language in ("en", "fr"):
        for source in sources:
            for escaping in ("on", "off"):
                text = (
                    f"{{% load i18n %}}{{% autoescape {escaping} %}}{source}{{% endautoescape %}}"
                )
                with translation.override(language):
                    expected = djangos.from_string(text).render(Context())
                    assert render(text) == expected
                    assert render(text) == expected


def test_a_link_follows_its_arguments_the_script_prefix_and_the_escaping() -> None:
    source = "{% url 'engagement-detail' ws=slug pk=pk %}"
    first = render(source, slug="acme", pk=1)
    assert first == "/w/acme/engagements/1/"
    assert render(source, slug="acme", pk=2) == "/w/acme/engagements/2/"
    assert render(source, slug="other", pk=1) == "/w/other/engagements/1/"
    set_script_prefix("/confiance/")
    try:
        assert render(source, slug="acme", pk=1) == "/confiance/w/acme/engagements/1/"
    finally:
        set_script_prefix("/")
    assert render(source, slug="acme", pk=1) == first
    assert render("{% url 'home' %}") == "/"
    with pytest.raises(NoReverseMatch):
        render(source, slug="acme", pk="not a number")
    with pytest.raises(NoReverseMatch):
        render("{% url 'no-such-page' %}")


class Numbered:
    """An object a link is made of through its text, which may change."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __str__(self) -> str:
        return str(self.number)


def test_a_link_to_an_object_or_into_a_variable_is_djangos_own() -> None:
    url_remembered._urls.clear()
    source = "{% url 'engagement-detail' ws='acme' pk=item %}{% url 'home' as home %}[{{ home }}]"
    item = Numbered(7)
    assert render(source, item=item) == "/w/acme/engagements/7/[/]"
    item.number = 8
    assert render(source, item=item) == "/w/acme/engagements/8/[/]"
    assert not url_remembered._urls  # neither was kept


def test_a_tables_row_link_follows_its_arguments_and_the_script_prefix() -> None:
    """A table's link pattern (core.rows.row_url) is reversed once per process and workspace,
    through the links' own memory; each row fills in its id."""
    detail = row_url("engagement-detail", ws="acme")
    assert [detail(1), detail(23)] == ["/w/acme/engagements/1/", "/w/acme/engagements/23/"]
    assert row_url("engagement-detail", ws="other")(1) == "/w/other/engagements/1/"
    assert row_url("problem-list", ws="acme")(4) == "/w/acme/engagements/4/problems/"
    set_script_prefix("/confiance/")
    try:
        assert row_url("engagement-detail", ws="acme")(1) == "/confiance/w/acme/engagements/1/"
    finally:
        set_script_prefix("/")
    assert row_url("engagement-detail", ws="acme")(1) == "/w/acme/engagements/1/"
    with pytest.raises(NoReverseMatch):
        row_url("engagement-detail", ws="not a slug!")


def test_a_recompiled_catalogue_forgets_every_text_made_once_per_language() -> None:
    """runserver reads a recompiled `.mo` again (Django's reloader): the remembered
    translations, the trust tables' labels and the engagement tables' texts are made afresh
    from it, another file is not."""
    from confiance.engagements import tables as engagement_tables
    from confiance.trust import tables

    with translation.override("fr"):
        render('{% load i18n_remembered %}{% translate "Trust" %}')
        labels = tables._dimension_labels("fr")
        texts = engagement_tables._Texts.now()
        assert texts.lead == "Responsable" and engagement_tables._Texts.now() is texts
    assert engagement_tables._Texts.now().lead == "Lead"  # each language its own
    made = (i18n_remembered._rendered, tables._LABELS, engagement_tables._TEXTS)
    assert all(made)
    file_changed.send(sender=None, file_path=Path("confiance/locale/fr/LC_MESSAGES/django.py"))
    assert all(made)
    file_changed.send(sender=None, file_path=Path("confiance/locale/fr/LC_MESSAGES/django.mo"))
    assert not any(made)
    with translation.override("fr"):  # made again, the same from the same file
        assert tables._dimension_labels("fr") == labels
        assert engagement_tables._Texts.now() == texts
