"""Erasure: the owner erases a person; their name and e-mail address appear nowhere in the
workspace's pages, exports and API answers, and every ledger still verifies with the
`confiance verify` code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from confiance.core import erasure
from confiance.core.demo import DEMO_SLUG, build_demo
from confiance.core.models import Membership, Role, User
from confiance.core.services import api_token_create
from confiance.engagements.models import Engagement
from confiance.ledger import verify_cli
from confiance.ledger.services import log_verifier_key
from confiance.trust.models import TrustSummary
from tests.conftest import World
from tests.crawl import crawl, fetcher

ERASED = [
    ("hugo.bernard@meridian.example", "Hugo Bernard"),
    ("sophie.lefevre@saint-roch.example", "Sophie Lefèvre"),
]


def _texts(membership: Membership) -> dict[str, str]:
    """Every page the person reaches by links, every engagement's bundle, CSV export and API
    list of entries, as text."""
    http = HttpClient()
    http.force_login(membership.user)

    fetch = fetcher(http)

    found = {}
    for path, _name, status, html in crawl(fetch, f"/w/{DEMO_SLUG}/engagements/"):
        assert status < 500, path
        found[path] = html
    token = api_token_create(membership=membership, name="erasure test")[1]
    api = HttpClient(headers={"Authorization": f"Bearer {token}"})
    for engagement in Engagement.objects.visible_to(membership):
        kwargs = {"ws": DEMO_SLUG, "pk": engagement.pk}
        csv = http.get(reverse("entries-csv", kwargs=kwargs))
        if csv.status_code == 200:
            found[f"csv {engagement.pk}"] = b"".join(csv.streaming_content).decode()  # type: ignore[attr-defined]
        bundle = api.get(f"/api/v1/engagements/{engagement.pk}/ledger/bundle")
        found[f"bundle {engagement.pk}"] = b"".join(bundle.streaming_content).decode()  # type: ignore[attr-defined]
        entries = api.get(f"/api/v1/engagements/{engagement.pk}/entries?page_size=200")
        found[f"entries {engagement.pk}"] = entries.content.decode()
    found["my-data"] = http.get(reverse("my-data", kwargs={"ws": DEMO_SLUG})).content.decode()
    return found


def _mentions(texts: dict[str, str]) -> list[str]:
    hits = []
    for where, text in texts.items():
        lowered = text.lower()
        # A bundle is JSON: non-ASCII letters may be escaped there.
        for email, name in ERASED:
            for term in (email, name, json.dumps(name)[1:-1]):
                if term.lower() in lowered:
                    hits.append(f"{term} in {where}")
    return hits


def _verify_every_ledger(membership: Membership, tmp_path: Path) -> int:
    """Export each visible engagement's bundle and run `confiance verify` on it."""
    token = api_token_create(membership=membership, name="verify")[1]
    api = HttpClient(headers={"Authorization": f"Bearer {token}"})
    checked = 0
    for engagement in Engagement.objects.visible_to(membership):
        response = api.get(f"/api/v1/engagements/{engagement.pk}/ledger/bundle")
        path = tmp_path / f"{membership.pk}-{engagement.pk}.json"
        path.write_bytes(b"".join(response.streaming_content))  # type: ignore[attr-defined]
        out, err = io.StringIO(), io.StringIO()
        status = verify_cli.run([str(path), "--key", log_verifier_key(engagement)], out, err)
        assert status == 0, f"{engagement}: {out.getvalue()} {err.getvalue()}"
        checked += 1
    return checked


@pytest.mark.django_db
def test_erased_people_appear_nowhere_and_every_ledger_still_verifies(tmp_path: Path) -> None:
    build_demo()
    owner = Membership.objects.get(workspace__slug=DEMO_SLUG, role=Role.OWNER)
    marc = Membership.objects.get(user__email="marc.dubois@velocite.example")
    before = {**_texts(owner), **{f"marc {k}": v for k, v in _texts(marc).items()}}
    assert len(_mentions(before)) > 10, "the demo names them before: the test can see them"
    summaries = {s.engagement_id: s.states for s in TrustSummary.objects.all()}
    assert summaries

    reports = []
    for email, _name in ERASED:
        reports.append(erasure.person_erase(by=owner, user_id=User.objects.get(email=email).pk))
    assert all(r.rows_moved > 0 for r in reports)
    assert reports[0].openings_erased > 0, "the ledgers named Hugo; those openings are gone"

    after = {**_texts(owner), **{f"marc {k}": v for k, v in _texts(marc).items()}}
    assert _mentions(after) == []
    # The trust summaries hold figures only: erasure leaves the portfolio's ranking as it was.
    assert {s.engagement_id: s.states for s in TrustSummary.objects.all()} == summaries
    assert "Erased person" in after[f"/w/{DEMO_SLUG}/engagements/"] or any(
        "Erased person" in text for text in after.values()
    )
    assert _verify_every_ledger(owner, tmp_path) >= 2
    assert _verify_every_ledger(marc, tmp_path) >= 1
    # Their access ended and their accounts, in no other workspace, are anonymised.
    assert not User.objects.filter(email__in=[e for e, _n in ERASED]).exists()
    assert not Membership.objects.filter(user__full_name__in=[n for _e, n in ERASED]).exists()


def test_owners_are_not_erased_and_others_may_not_erase(world: World) -> None:
    with pytest.raises(Exception, match="owner"):
        erasure.person_erase(by=world.owner, user_id=world.owner.user.pk)
    with pytest.raises(Exception):  # noqa: B017 (PermissionDenied: a 404 on the page and API)
        erasure.person_erase(by=world.member, user_id=world.finance.user.pk)
    with pytest.raises(User.DoesNotExist):  # someone of another workspace
        erasure.person_erase(by=world.owner, user_id=world.outsider.user.pk)


def test_a_person_of_two_workspaces_keeps_their_account_there(world: World) -> None:
    from confiance.core.services import membership_add
    from confiance.emergence.models import Visit
    from confiance.emergence.services import visit_record
    from tests.emergence.support import open_opportunity

    membership_add(by=world.outsider, user=world.member.user, role=Role.MEMBER)
    opportunity = open_opportunity(world)
    visit_record(membership=world.member, opportunity=opportunity)
    report = erasure.person_erase(by=world.owner, user_id=world.member.user.pk)
    assert not report.account_anonymised
    user = User.objects.get(pk=world.member.user.pk)
    assert user.email == "member@provider.test" and user.is_active
    assert not Membership.objects.filter(user=user, workspace=world.workspace).exists()
    assert Membership.objects.filter(user=user, workspace=world.other_workspace).exists()
    # Nothing of this workspace stays attached to the account, down to when they last looked.
    assert Visit.objects.get(opportunity=opportunity).user_id == report.pseudonym_id


def test_erasure_page_asks_for_the_email_again(world: World) -> None:
    http = HttpClient()
    http.force_login(world.owner.user)
    url = reverse("person-erase", kwargs={"ws": world.workspace.slug, "pk": world.member.user.pk})
    assert http.get(reverse("erasure", kwargs={"ws": world.workspace.slug})).status_code == 200
    assert http.post(url, {"confirm": "someone@else.test"}).status_code == 400
    assert User.objects.get(pk=world.member.user.pk).email == "member@provider.test"
    assert http.post(url, {"confirm": "member@provider.test"}).status_code == 302
    assert User.objects.get(pk=world.member.user.pk).email.endswith("@erased.invalid")
