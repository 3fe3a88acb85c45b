"""Reciprocal commitments: who commits for whom, kept vs kept late, renegotiation by the other
side with every version kept, the ledger, overdue reminders once, and the kept figure."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from confiance.core.models import Notice
from confiance.followup import selectors, services
from confiance.followup.models import (
    Commitment,
    CommitmentRevision,
    CommitmentStatus,
    CommitmentStatusChange,
    Renegotiation,
)
from confiance.followup.tasks import remind_overdue_commitments
from confiance.ledger.models import LedgerEntry
from confiance.ledger.selectors import opened_fact
from tests.conftest import World

TODAY = timezone.localdate


def commit(world: World, *, side="provider", by="member", owner=None, days=7, text="Plan"):
    owner = owner or (world.member.user if side == "provider" else world.client_contact.user)
    return services.commitment_create(
        membership=getattr(world, by),
        engagement=world.engagement,
        side=side,
        owner=owner,
        text=text,
        due_date=TODAY() + timedelta(days=days),
    )


def ledger(world: World) -> list[dict]:
    return [
        opened_fact(e)
        for e in LedgerEntry.objects.filter(engagement=world.engagement).order_by("index")
    ]


def test_each_side_commits_for_itself_and_the_provider_also_for_the_client(world: World):
    commit(world, side="provider", by="member")
    commit(world, side="client", by="client_contact")
    data_access = commit(world, side="client", by="owner", text="Client provides data access")
    assert data_access.owner == world.client_contact.user
    with pytest.raises(PermissionDenied):
        commit(world, side="provider", by="client_contact", owner=world.member.user)
    for persona in ("finance", "expert", "other_client_contact", "outsider"):
        with pytest.raises(PermissionDenied):
            commit(world, side="client", by=persona)


def test_a_commitment_is_told_at_once_to_the_side_it_is_made_to(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: a promise to the client reaches the client's contacts at once, in their
    language, with its owner and due date; the client's promise reaches the provider's lead."""
    from confiance.core.services import user_language_set

    world.engagement.lead = world.owner.user
    world.engagement.save(update_fields=["lead"])
    user_language_set(user=world.client_contact.user, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        promise = commit(world, side="provider", by="member", text="Livrer le plan des lots")
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Mark Member s'engage envers vous, pour le" in sent.subject
    assert "Livrer le plan des lots" in sent.subject
    assert promise.due_date.strftime("%Y") in sent.subject
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()
    assert not Notice.objects.filter(kind="commitment.made", user=world.member.user).exists()
    with django_capture_on_commit_callbacks(execute=True):
        commit(world, side="client", by="client_contact", text="Open the test accounts")
    made = Notice.objects.get(user=world.owner.user, kind="commitment.made")
    assert made.text().startswith("Alpha migration: Carla Contact commits to you, by ")
    assert Notice.objects.filter(kind="commitment.made").count() == 2


def test_a_side_closing_its_own_commitment_is_told_to_the_side_it_was_made_to(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: the provider marking its promise to the client kept (or broken) is a
    fact the client relies on: the client's contacts hear it at once, in their language."""
    from confiance.core.services import user_language_set

    promise = commit(world, side="provider", by="member", text="Livrer le plan des lots")
    user_language_set(user=world.client_contact.user, language="fr")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.commitment_set_status(
            membership=world.member, commitment=promise, status="kept", note="Envoyé par mail"
        )
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Mark Member indique « Tenu » pour un engagement pris envers vous" in sent.subject
    assert "Livrer le plan des lots" in sent.subject and "Note : Envoyé par mail" in sent.body
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()
    assert not Notice.objects.filter(kind="review.requested").exists(), "its own, no review"


def test_owner_must_belong_to_the_commitment_side(world: World):
    with pytest.raises(ValidationError) as provider_error:
        commit(world, side="provider", owner=world.client_contact.user)
    assert "owner" in provider_error.value.error_dict
    with pytest.raises(ValidationError):
        commit(world, side="client", owner=world.member.user)
    # A contact of another client is not a contact of this engagement's client.
    with pytest.raises(ValidationError):
        commit(world, side="client", owner=world.other_client_contact.user)


def test_creation_keeps_version_one_and_goes_into_the_ledger(world: World):
    c = commit(world, text="Deliver the plan")
    assert list(c.revisions.values_list("version", "text")) == [(1, "Deliver the plan")]
    [leaf] = ledger(world)
    assert leaf["kind"] == "commitment.create" and leaf["text"] == "Deliver the plan"


def test_kept_on_or_before_the_due_date_is_kept(world: World):
    c = commit(world, days=0)
    services.commitment_set_status(membership=world.client_contact, commitment=c, status="kept")
    c.refresh_from_db()
    assert c.status == CommitmentStatus.KEPT
    assert c.status_changed_by == world.client_contact.user and c.status_changed_at is not None


def test_kept_after_the_due_date_is_kept_late(world: World):
    c = commit(world, days=-3)
    services.commitment_set_status(membership=world.member, commitment=c, status="kept")
    c.refresh_from_db()
    assert c.status == CommitmentStatus.KEPT_LATE
    change = CommitmentStatusChange.objects.get(commitment=c)
    assert (change.from_status, change.to_status) == ("open", "kept_late")
    leaf = ledger(world)[-1]
    assert leaf["kind"] == "commitment.status"
    assert (leaf["from"], leaf["to"], leaf["by"]) == ("open", "kept_late", world.member.user.email)


def test_closed_commitment_cannot_change_again(world: World):
    c = commit(world)
    services.commitment_set_status(membership=world.member, commitment=c, status="broken")
    with pytest.raises(ValidationError):
        services.commitment_set_status(membership=world.member, commitment=c, status="kept")
    with pytest.raises(ValidationError):
        services.commitment_set_status(
            membership=world.member, commitment=commit(world), status="renegotiated"
        )


def test_status_changes_by_outsiders_are_refused(world: World):
    c = commit(world)
    for persona in ("finance", "expert", "other_client_contact"):
        with pytest.raises(PermissionDenied):
            services.commitment_set_status(
                membership=getattr(world, persona), commitment=c, status="kept"
            )


def test_renegotiation_of_a_provider_commitment_needs_the_client(world: World):
    c = commit(world, days=3, text="Deliver the plan")
    new_date = TODAY() + timedelta(days=20)
    # The client cannot ask to change the provider's promise...
    with pytest.raises(PermissionDenied):
        services.renegotiation_propose(
            membership=world.client_contact, commitment=c, reason="x", new_due_date=new_date
        )
    proposal = services.renegotiation_propose(
        membership=world.member, commitment=c, reason="Data came late", new_due_date=new_date
    )
    # ...and the provider cannot agree to its own proposal.
    for persona in ("member", "owner", "finance", "other_client_contact"):
        with pytest.raises(PermissionDenied):
            services.renegotiation_decide(
                membership=getattr(world, persona), renegotiation=proposal, agree=True
            )
    c.refresh_from_db()
    assert c.due_date == TODAY() + timedelta(days=3) and c.status == CommitmentStatus.OPEN

    services.renegotiation_decide(
        membership=world.client_contact, renegotiation=proposal, agree=True
    )
    c.refresh_from_db()
    assert (c.due_date, c.version, c.status) == (new_date, 2, CommitmentStatus.RENEGOTIATED)
    assert list(c.revisions.values_list("version", "due_date", "agreed_by")) == [
        (1, TODAY() + timedelta(days=3), None),
        (2, new_date, world.client_contact.user.pk),
    ]
    kinds = [leaf["kind"] for leaf in ledger(world)]
    assert kinds == ["commitment.create", "commitment.renegotiation", "commitment.status"]
    assert ledger(world)[1]["agreed_by"] == world.client_contact.user.email


def test_renegotiation_of_a_client_commitment_needs_the_provider(world: World):
    c = commit(world, side="client", by="client_contact", text="Give access")
    proposal = services.renegotiation_propose(
        membership=world.client_contact,
        commitment=c,
        reason="Security review",
        new_text="Give read access",
    )
    with pytest.raises(PermissionDenied):
        services.renegotiation_decide(
            membership=world.client_contact, renegotiation=proposal, agree=True
        )
    services.renegotiation_decide(membership=world.owner, renegotiation=proposal, agree=True)
    c.refresh_from_db()
    assert c.text == "Give read access" and c.version == 2


def test_declined_renegotiation_changes_nothing_and_is_answered_once(world: World):
    c = commit(world)
    proposal = services.renegotiation_propose(
        membership=world.member, commitment=c, reason="x", new_due_date=TODAY() + timedelta(days=30)
    )
    with pytest.raises(ValidationError):  # one pending proposal at a time
        services.renegotiation_propose(
            membership=world.member, commitment=c, reason="y", new_text="other"
        )
    services.renegotiation_decide(
        membership=world.client_contact, renegotiation=proposal, agree=False
    )
    c.refresh_from_db()
    assert c.version == 1 and c.status == CommitmentStatus.OPEN
    assert Renegotiation.objects.get().state == "declined"
    with pytest.raises(ValidationError):
        services.renegotiation_decide(
            membership=world.client_contact, renegotiation=proposal, agree=True
        )


def test_renegotiation_needs_a_change_and_a_reason(world: World):
    c = commit(world)
    with pytest.raises(ValidationError):
        services.renegotiation_propose(membership=world.member, commitment=c, reason="why")
    with pytest.raises(ValidationError):
        services.renegotiation_propose(
            membership=world.member, commitment=c, reason=" ", new_text="x"
        )


def test_versions_and_status_changes_are_append_only(world: World):
    c = commit(world)
    revision = CommitmentRevision.objects.get(commitment=c)
    revision.text = "rewritten"
    with pytest.raises(PermissionError):
        revision.save()
    with pytest.raises(PermissionError):
        CommitmentRevision.objects.filter(commitment=c).update(text="x")
    with pytest.raises(PermissionError):
        CommitmentRevision.objects.filter(commitment=c).delete()


def test_overdue_owner_is_reminded_once_by_email_and_notice(world: World):
    overdue = commit(world, days=-1, text="Send the report")
    commit(world, days=1)  # not yet due
    kept = commit(world, days=-2)
    services.commitment_set_status(membership=world.member, commitment=kept, status="kept")
    mail.outbox.clear()

    assert remind_overdue_commitments.call() == 1
    assert remind_overdue_commitments.call() == 0
    out = StringIO()
    call_command("remind-commitments", stdout=out)  # the cron's entry point, enqueued
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.member.user.email]
    assert "Send the report" in mail.outbox[0].body
    notice = Notice.objects.get(user=world.member.user, kind="commitment.overdue")
    assert "Send the report" in notice.text()
    overdue.refresh_from_db()
    assert overdue.reminder_due_date == overdue.due_date and overdue.reminded_at is not None


def test_agreed_new_due_date_can_be_reminded_again(world: World):
    c = commit(world, days=-3)
    assert remind_overdue_commitments.call() == 1
    proposal = services.renegotiation_propose(
        membership=world.member, commitment=c, reason="x", new_due_date=TODAY() - timedelta(days=1)
    )
    services.renegotiation_decide(
        membership=world.client_contact, renegotiation=proposal, agree=True
    )
    # The agreed due date has passed too: its owner hears about it, once.
    assert remind_overdue_commitments.call() == 1
    assert remind_overdue_commitments.call() == 0


def test_command_runs_now(world: World):
    commit(world, days=-1)
    out = StringIO()
    call_command("remind-commitments", "--now", stdout=out)
    assert "1 reminder" in out.getvalue()


def test_kept_figure_per_side(world: World):
    on_time = commit(world)
    late = commit(world, days=-1)
    broken = commit(world)
    withdrawn = commit(world)
    commit(world)  # open: not closed
    client_kept = commit(world, side="client", by="client_contact")
    for c, status in [(on_time, "kept"), (late, "kept"), (broken, "broken")]:
        services.commitment_set_status(membership=world.member, commitment=c, status=status)
    services.commitment_set_status(
        membership=world.member, commitment=withdrawn, status="withdrawn"
    )
    services.commitment_set_status(membership=world.member, commitment=client_kept, status="kept")
    figures = selectors.commitments_kept(
        fetched_by=world.client_contact, engagement=world.engagement
    )
    assert (figures["provider"].kept_on_time, figures["provider"].closed) == (1, 3)
    assert figures["provider"].percent == 33
    assert (figures["client"].kept_on_time, figures["client"].closed) == (1, 1)


def test_both_sides_see_overdue_commitments_on_the_page(world: World, client):
    commit(world, days=-2, text="OVERDUE-PROVIDER")
    commit(world, side="client", by="owner", days=-1, text="OVERDUE-CLIENT")
    url = reverse("followup", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    for persona in ("member", "client_contact"):
        client.force_login(getattr(world, persona).user)
        page = client.get(url).content.decode()
        assert 'data-testid="overdue"' in page
        assert "OVERDUE-PROVIDER" in page and "OVERDUE-CLIENT" in page


def test_renegotiation_through_the_pages(world: World, client):
    c = commit(world, text="Deliver")
    kw = {"ws": world.workspace.slug, "pk": world.engagement.pk, "cid": c.pk}
    client.force_login(world.member.user)
    new_date = (TODAY() + timedelta(days=30)).isoformat()
    response = client.post(
        reverse("renegotiation-propose", kwargs=kw),
        {"reneg-new_due_date": new_date, "reneg-reason": ""},
    )
    assert response.status_code == 400 and new_date in response.content.decode()
    response = client.post(
        reverse("renegotiation-propose", kwargs=kw),
        {"reneg-new_due_date": new_date, "reneg-reason": "Late data"},
    )
    assert response.status_code == 302
    proposal = Renegotiation.objects.get()
    client.force_login(world.client_contact.user)
    page = client.get(reverse("commitment-detail", kwargs=kw)).content.decode()
    assert "Late data" in page and 'value="agree"' in page
    response = client.post(
        reverse("renegotiation-decide", kwargs={**kw, "rid": proposal.pk}), {"decision": "agree"}
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.version == 2


def test_commitment_form_errors_keep_input(world: World, client):
    client.force_login(world.client_contact.user)
    url = reverse(
        "commitment-create", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk}
    )
    response = client.post(
        url,
        {
            "commitment-side": "client",
            "commitment-owner": world.client_contact.user.pk,
            "commitment-text": "Provide the VPN access",
            "commitment-due_date": "",
        },
    )
    assert response.status_code == 400
    assert "Provide the VPN access" in response.content.decode()
    response = client.post(
        url,
        {
            "commitment-side": "client",
            "commitment-owner": world.client_contact.user.pk,
            "commitment-text": "Provide the VPN access",
            "commitment-due_date": TODAY().isoformat(),
        },
    )
    assert response.status_code == 302
    assert Commitment.objects.get().side == "client"


def test_the_other_side_is_told_a_renegotiation_awaits_it(
    world: World, django_capture_on_commit_callbacks
):
    provider_promise = commit(world, text="Deliver the plan")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.renegotiation_propose(
            membership=world.member, commitment=provider_promise, reason="Late data", new_text="v2"
        )
    assert [m.to for m in mail.outbox] == [[world.client_contact.user.email]]
    assert "Late data" in mail.outbox[0].body
    notice = Notice.objects.get(kind="commitment.renegotiation")
    assert notice.user == world.client_contact.user and "Deliver the plan" in notice.text()

    client_promise = commit(world, side="client", by="client_contact", text="Open the VPN")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.renegotiation_propose(
            membership=world.client_contact, commitment=client_promise, reason="IT", new_text="x"
        )
    # No lead on this engagement: the workspace's owners answer for the provider.
    assert [m.to for m in mail.outbox] == [[world.owner.user.email]]


def test_a_commitment_recorded_for_someone_else_is_shown_to_them_at_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    from confiance.core.models import Notice

    with django_capture_on_commit_callbacks(execute=True):
        services.commitment_create(
            membership=world.member,
            engagement=world.engagement,
            side="client",
            owner=world.client_contact.user,
            text="Send the list of services",
            due_date=timezone.localdate() + timedelta(days=10),
        )
        services.commitment_create(
            membership=world.member,
            engagement=world.engagement,
            side="provider",
            owner=world.member.user,
            text="Deliver the plan",
            due_date=timezone.localdate() + timedelta(days=10),
        )
    [notice] = Notice.objects.filter(kind="commitment.created")
    assert notice.user == world.client_contact.user
    assert "recorded a commitment of yours" in notice.text()
    assert "Send the list of services" in notice.text()
