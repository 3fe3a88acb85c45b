"""French everywhere: every page type, for every role, rendered in French on the demo, shows no
text still in its English source, and no date or number in an English format.

"English source" means a visible text (or a label read aloud: aria-label, title, placeholder, alt)
equal to a msgid of the catalogue whose French translation differs: a string someone forgot to
mark, or marked but rendered before the reader's language was active.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client as HttpClient
from django.utils import translation

from confiance.core.demo import DEMO_SLUG
from confiance.core.models import Membership
from tests.crawl import crawl

CATALOGUE = Path(__file__).resolve().parents[1] / "confiance/locale/fr/LC_MESSAGES/django.po"
ENGLISH_DATE = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(, \d{4})?\b"
)
ISO_DATE = re.compile(r"(?<![\w/-])\d{4}-\d{2}-\d{2}(?![\w/-])")
# A figure with a decimal point, then a space and its unit: "12.0 jours", "57000.00 EUR", "3.5 / 5"
# (an input format such as "1.5h" is literal, not a figure).
ENGLISH_DECIMAL = re.compile(
    r"(?<![\w.,])\d+\.\d+(?=\s(?:%|h\b|j\b|jours?\b|days?\b|[A-Z]{3}\b|€|/))"
)
READ_ALOUD = ("aria-label", "title", "placeholder", "alt")
# Known gaps: texts let through on a page, by URL name (none at present; trust fact labels are
# message ids rendered in the reader's language).
KNOWN_GAPS: dict[str, tuple[str, ...]] = {}


def english_sources() -> set[str]:
    """Catalogue msgids whose French differs (placeholders and one-letter ids left out)."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    found = set()
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple):
            continue
        text, french = message.id.strip(), str(message.string).strip()
        if "%" in text or "{" in text or len(text) < 3 or text == french:
            continue
        found.add(text)
    return found


# Literal formats (a CSV sample, a command) are not prose to translate.
HIDDEN = ("script", "style", "template", "title", "code", "pre", "kbd", "samp")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Visible(HTMLParser):
    """Visible French text nodes and read-aloud attributes; scripts, styles and text marked as
    another language (lang="en": the language selector's "English") left out."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)

    @property
    def _skipping(self) -> bool:
        return any(skipped for _tag, skipped in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        skipped = tag in HIDDEN or bool(lang and not lang.startswith("fr"))
        if not skipped and not self._skipping:
            for name in READ_ALOUD:
                if values.get(name):
                    self.texts.append(str(values[name]).strip())
        if tag not in VOID:
            self._stack.append((tag, skipped))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.texts


def problems_in(html: str, sources: set[str], name: str = "") -> list[str]:
    found = []
    for text in visible_texts(html):
        if text.startswith(KNOWN_GAPS.get(name, ())):
            continue
        stripped = text.strip(" :·→←()*")
        if stripped in sources:
            found.append(f"English: {stripped!r}")
        for pattern, kind in (
            (ENGLISH_DATE, "English date"),
            (ISO_DATE, "ISO date in text"),
            (ENGLISH_DECIMAL, "English decimal point"),
        ):
            match = pattern.search(text)
            if match:
                found.append(f"{kind}: {match.group(0)!r} in {text[:80]!r}")
    return found


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # built once for the module (tests/conftest.py)
def test_every_page_type_for_every_role_is_in_french() -> None:
    sources = english_sources()
    report: dict[str, list[str]] = {}
    visited = 0
    for membership in Membership.objects.filter(workspace__slug=DEMO_SLUG).select_related("user"):
        http = HttpClient(HTTP_ACCEPT_LANGUAGE="fr")
        http.cookies["django_language"] = "fr"
        http.force_login(membership.user)

        def fetch(path: str, http: HttpClient = http) -> tuple[int, str, str]:
            response = http.get(path)
            if response.has_header("Location"):
                return response.status_code, "", response["Location"]
            body = response.content.decode() if "html" in response.get("Content-Type", "") else ""
            return response.status_code, response.get("Content-Type", ""), body

        start = f"/w/{DEMO_SLUG}/engagements/"
        for path, name, status, html in crawl(fetch, start):
            visited += 1
            assert status < 500, f"{path} answered {status}"
            assert '<html lang="fr"' in html, f"{path} is not in French"
            found = problems_in(html, sources, name)
            if found:
                report[f"{membership.role} {name} {path}"] = sorted(set(found))
    assert visited > 40, f"only {visited} pages reached: the crawl lost its way"
    assert not report, "\n".join(f"{page}: {found}" for page, found in sorted(report.items()))


# Lines of an e-mail that are data, not prose: links, the signature separator.
URL = re.compile(r"https?://\S+")


def _words_left(line: str, params: dict[str, object]) -> bool:
    """Does the line hold words of its own once its data (links, the notice's values) is out?"""
    rest = URL.sub("", line)
    values = [str(v) for v in params.values() if isinstance(v, str | int | float) and str(v)]
    for value in sorted(values, key=len, reverse=True):  # a whole value before its parts
        rest = rest.replace(value, "")
    return bool(re.search(r"[A-Za-zÀ-ÿ]{3,}", rest))


def english_lines(french: str, english: str, params: dict[str, object]) -> list[str]:
    """Lines of the French text still as in the English text (beyond their data), English
    catalogue sources, and figures or dates in an English format."""
    found = []
    english_lines = {" ".join(line.split()) for line in english.splitlines()}
    for raw in french.splitlines():
        line = " ".join(raw.split())
        if line in english_lines and _words_left(line, params):
            found.append(f"Same as in English: {line!r}")
        found += problems_in(f"<p>{line}</p>", SOURCES)
    return found


SOURCES: set[str] = set()


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # its after-commit work ran: the notices were sent
def test_every_kind_of_e_mail_is_in_french(mailoutbox) -> None:
    """Each kind of notice the demo sends, e-mailed to a French reader, and a daily digest."""
    from confiance.core.models import Notice, NoticeEmail, User
    from confiance.core.notices import digest_send, notice_email_send

    SOURCES.update(english_sources())
    kinds: dict[str, Notice] = {}
    for notice in Notice.objects.select_related("user").order_by("pk"):
        kinds.setdefault(notice.kind, notice)
    assert len(kinds) >= 8, sorted(kinds)
    report: dict[str, list[str]] = {}
    for kind, notice in sorted(kinds.items()):
        texts = {}
        for language in ("en", "fr"):
            User.objects.filter(pk=notice.user_id).update(language=language)
            notice.user.language = language
            mailoutbox.clear()
            notice_email_send(notice=notice)
            (message,) = mailoutbox
            texts[language] = f"{message.subject}\n{message.body}"
        found = english_lines(texts["fr"], texts["en"], notice.params)
        if found:
            report[kind] = sorted(set(found))
    user = kinds[next(iter(kinds))].user
    User.objects.filter(pk=user.pk).update(language="fr")
    user.refresh_from_db()
    Notice.objects.filter(user=user).update(email=NoticeEmail.DIGEST)
    mailoutbox.clear()
    assert digest_send(user=user) > 0
    (digest,) = mailoutbox
    found = [
        f for f in english_lines(f"{digest.subject}\n{digest.body}", "", {}) if "Same" not in f
    ]
    if found:
        report["digest"] = sorted(set(found))
    assert not report, "\n".join(f"{kind}: {found}" for kind, found in sorted(report.items()))


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")
def test_the_statement_and_closure_report_pdfs_are_in_french() -> None:
    from pypdf import PdfReader

    from confiance.engagements.models import Engagement

    SOURCES.update(english_sources())
    contact = Membership.objects.get(user__email="sophie.lefevre@saint-roch.example")
    http = HttpClient(HTTP_ACCEPT_LANGUAGE="fr")
    http.cookies["django_language"] = "fr"
    http.force_login(contact.user)
    migration = Engagement.objects.get(title__startswith="Migration")
    closed = Engagement.objects.get(status="closed")
    base = f"/w/{DEMO_SLUG}/engagements"
    report: dict[str, list[str]] = {}
    for name, path in (
        ("statement", f"{base}/{migration.pk}/consumption/statement/?month=2026-11"),
        ("closure report", f"{base}/{closed.pk}/closure/report.pdf"),
    ):
        response = http.get(path)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text = "\n".join(
            page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
        )
        found = []
        for line in text.replace("\xa0", " ").splitlines():
            found += problems_in(f"<p>{' '.join(line.split())}</p>", SOURCES)
        if found:
            report[name] = sorted(set(found))
    assert not report, "\n".join(f"{name}: {found}" for name, found in sorted(report.items()))


# What each group of notices (or one kind) reads, as its services write it; a new kind of an
# existing group is covered with its group's context, a new group with the common one (and a
# renderer reading more than that fails the test, naming the kind).
NOTICE_COMMON: dict[str, object] = {
    "engagement": "Migration du dossier patient",
    "who": "Claire Martin",
    "title": "Doublons après le lot 1",
    "text": "Fusionner les doublons avant le lot 2",
}
NOTICE_CONTEXT: dict[str, dict[str, object]] = {
    "budget.alert": {
        "level": "80",
        "consumed_days": "48.5",
        "budget_days": "60",
        "forecast_days": "62.5",
        "percent": 81,
        "over_days": "2.5",
    },
    "budget.parameter": {"name": "late_days", "before": 7, "after": 3},
    "budget.corrected": {
        "person": "Hugo Bernard",
        "date": "2026-10-01",
        "before": 120,
        "after": 90,
        "reason": "Saisi deux fois",
    },
    "budget.revised": {
        "days": "66",
        "before_days": "60",
        "consumed_days": "48.5",
        "percent": 73,
        "amount": "59400.00",
        "before_amount": "54000.00",
        "currency": "EUR",
        "reason": "Un second lot de migration",
    },
    "closure": {"objectives": 2, "hash": "ab" * 32, "before": {}, "after": {}},
    "closure.started": {"outcome": "completed"},
    "closure.retrospective": {"side": "provider"},
    "commitment": {
        "due_date": "2026-11-20",
        "days_late": 4,
        "new_due_date": "2026-12-12",
        "new_text": "Livrer le plan des lots",
        "reason": "La liste des services a changé",
    },
    "emergence": {
        "opportunity": "Plateforme de données",
        "phase": "Converging",
        "phase_code": "converging",
        "number": 3,
        "waiting": ["client"],
        "problem": "Unifier les données des urgences",
        "introduction": "Vous avez mené la migration de Saint-Roch",
        "excerpt": "Je propose de commencer par les urgences",
        "reason": "Hors de notre domaine",
        "partner": "Cabinet Durand",
    },
    "engagement": {"state": "accepted", "reason": "Capteurs indisponibles", "answer": "D'accord"},
    "engagement.objective_added": {"measure": "Zéro minute d'arrêt mesurée"},
    "engagement.interlocutor": {"role": "Directrice des systèmes d'information"},
    "engagement.dates_changed": {
        "start": "2026-10-05",
        "before_start": "2026-10-01",
        "end": "2027-02-15",
        "before_end": "",
    },
    "glossary": {"term": "lot"},
    "payment": {
        "payment_kind": "invoice",
        "label": "Facture octobre",
        "amount": "1200.50",
        "currency": "EUR",
        "issue_date": "2026-11-01",
        "due_date": "2026-11-30",
    },
    "kudos": {"author": "Sophie Lefèvre"},
    "ledger": {
        "size": 412,
        "date": "2026-11-30",
        "key": "meridian+1a2b3c4d+AbCdEf",
        "note": "meridian\n412\nq1w2e3r4t5y6\n\n— meridian AbCd",
        "file": "checkpoint-1-412.txt",
        "workspace": "Meridian Conseil",
        "reason": "Clé renouvelée",
    },
    "meeting": {
        "meeting_id": None,
        "starts_at": "2026-12-11T09:00:00+01:00",
        "previous_starts_at": "2026-12-10T09:00:00+01:00",
        "duration_minutes": 90,
        "channel": "on_site",
        "location": "Salle B",
        "method": "REQUEST",
        "sequence": 1,
    },
    "meeting.cancelled": {"method": "CANCEL", "reason": "Incident de mise en production"},
    "commitment.made": {"owner": "Hugo Bernard"},
    "commitment.status": {"status": "kept_late", "note": "Livré avec le lot 2"},
    "payment.overdue": {"days_late": 4},
    "problem": {
        "owner": "Hugo Bernard",
        "person": "Hugo Bernard",
        "level": 2,
        "priority": "high",
        "file": "journal.csv",
        "kind": "acknowledge",
        "proactive": True,
        "reason": "Le lot de nuit bloque encore les postes",
        "due": [
            {"kind": "acknowledge", "at": "2026-12-04T10:00:00+01:00"},
            {"kind": "owner", "at": "2026-12-04T12:00:00+01:00"},
            {"kind": "update", "at": "2026-12-05T09:00:00+01:00"},
        ],
    },
    "pulse": {"closes_at": "2026-12-14T18:00:00+01:00"},
    "review": {
        "what": "Commitment “%(text)s” marked %(status)s",
        "what_params": {"text": "Geler le schéma", "status": "broken"},
        "answer_by": "2026-12-10T17:00:00+01:00",
        "days": 7,
        "state": "upheld",
        "reason": "Le schéma n'a pas changé",
        "note": "Vu ensemble",
    },
    "review.requested": {"state": None, "reason": None, "note": None},
    "trust": {
        "kind": "drop",
        "reason": "%(dimension)s fell from %(before)s %% to %(now)s %% in %(days)s days.",
        "reason_params": {"dimension": "reliability", "before": 72, "now": 51, "days": 14},
    },
    "vision": {},
    "webhook": {"url": "https://hooks.example.com/confiance", "reason": "failures", "count": 5},
}


# Other branches of a kind's text, each rendered too (None: the value is left out).
NOTICE_VARIANTS: dict[str, list[dict[str, object]]] = {
    "budget.alert": [{"over_days": None, "forecast_days": None, "level": "50"}],
    "engagement.stop_answered": [{"state": "declined"}],
    "emergence.accepted": [{"waiting": []}],
    "problem.raised": [{"proactive": False}],
    "payment.issued": [{"payment_kind": "deposit"}],
    "webhook.disabled": [{"reason": "gone"}, {"reason": "paused"}],
    "budget.parameter": [{"name": "minutes_per_day", "before": 480, "after": 420}],
    "budget.corrected": [{"after": None}],
    "engagement.interlocutor": [{"role": ""}],
    "closure.started": [{"outcome": "stopped_early", "objectives": 1}],
    "closure.retrospective": [{"side": "client"}],
    "budget.revised": [
        {"before_days": None, "before_amount": None},
        {"days": None, "percent": None, "amount": None},
    ],
    "trust.alert": [{"again": "worse"}, {"again": "snooze_over"}],
}


def notice_contexts(kind: str) -> list[dict[str, object]]:
    group = kind.split(".", 1)[0]
    params = {**NOTICE_COMMON, **NOTICE_CONTEXT.get(group, {}), **NOTICE_CONTEXT.get(kind, {})}
    return [
        {key: value for key, value in {**params, **variant}.items() if value is not None}
        for variant in [{}, *NOTICE_VARIANTS.get(kind, [])]
    ]


def _data(params: dict[str, object]) -> dict[str, object]:
    """The notice's values as data to leave out of a line: nested ones and each line of a
    multi-line value too."""
    found: dict[str, object] = {}

    def add(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                add(item)
        elif isinstance(value, str):
            for part in [value, *value.splitlines()]:
                found[str(len(found))] = part
        elif isinstance(value, int | float):
            found[str(len(found))] = value

    add(params)
    return found


@pytest.mark.django_db
def test_every_registered_kind_of_notice_and_its_e_mail_read_in_french(world, mailoutbox) -> None:
    """Every kind the apps register (the demo's and the others), rendered as a notice and as
    its e-mail (subject, body, any HTML part) for a French reader: no English left."""
    from confiance.core.models import Notice
    from confiance.core.notices import notice_email_send, notice_kinds, render_notice

    SOURCES.update(english_sources())
    user = world.client_contact.user
    kinds = notice_kinds()
    assert len(kinds) >= 40, kinds
    report: dict[str, list[str]] = {}
    for kind, params in ((k, p) for k in kinds for p in notice_contexts(k)):
        texts = {}
        for language in ("en", "fr"):
            user.language = language
            notice = Notice.objects.create(
                workspace=world.workspace, user=user, kind=kind, params=params, link="/w/"
            )
            mailoutbox.clear()
            try:
                notice_email_send(notice=notice)
            except (KeyError, TypeError, ValueError) as error:
                pytest.fail(f"{kind} reads what NOTICE_CONTEXT does not give it: {error!r}")
            (message,) = mailoutbox
            parts = [message.subject, message.body]
            for content, _mimetype in getattr(message, "alternatives", []):
                parts += visible_texts(str(content))
            with translation.override(language):
                parts.append(render_notice(kind, params))
            texts[language] = "\n".join(parts)
        assert texts["fr"] != texts["en"], kind
        found = english_lines(texts["fr"], texts["en"], _data(params))
        if found:
            report.setdefault(kind, []).extend(sorted(set(found)))
    assert not report, "\n".join(f"{kind}: {found}" for kind, found in sorted(report.items()))
