"""Rules of emergence: opening, invitations, access, discussion, phases, the team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from confiance.core import services as core_services
from confiance.core.models import AuditEvent, Invitation, Membership, Notice
from confiance.core.notices import IMMEDIATE, OFF
from confiance.core.notices import digests_send as core_digests_send
from confiance.core.services import invitation_accept, invitation_link
from confiance.emergence import selectors, services
from confiance.emergence.models import Nomination, NominationStatus, Opportunity, Phase, Side
from tests.conftest import World
from tests.emergence.support import open_opportunity, with_people

pytestmark = pytest.mark.django_db


def visible(world: World, persona: str) -> set[int]:
    return set(
        selectors.visible_opportunities(getattr(world, persona)).values_list("pk", flat=True)
    )


def test_opening_records_the_first_phase_and_the_opener_as_participant(world: World) -> None:
    opportunity = open_opportunity(world)
    assert opportunity.phase == Phase.DIVERGING
    assert opportunity.contact_origin == "emergence"
    move = opportunity.moves.get()
    assert (move.from_phase, move.to_phase, move.by) == ("", Phase.DIVERGING, world.owner.user)
    assert opportunity.participants.get().user == world.owner.user
    assert AuditEvent.objects.filter(verb="opportunity.open").exists()


def test_opening_for_a_new_client_creates_it_and_bad_input_names_fields(world: World) -> None:
    opportunity = open_opportunity(world, client=None, new_client_name="Client C")
    assert opportunity.client.name == "Client C"
    with pytest.raises(ValidationError) as error:
        services.opportunity_open(membership=world.member, title=" ", client_problem="")
    assert set(error.value.error_dict) == {"title", "client", "client_problem"}
    with pytest.raises(PermissionDenied):
        services.opportunity_open(
            membership=world.expert, title="x", client=world.client_a, client_problem="x"
        )


def test_experts_and_clients_see_only_what_they_were_invited_to(world: World) -> None:
    invited = with_people(world)
    other = open_opportunity(world, title="Other need")
    assert visible(world, "expert") == {invited.pk}
    assert visible(world, "client_contact") == {invited.pk}
    assert visible(world, "other_client_contact") == set()
    assert visible(world, "outsider") == set()
    assert visible(world, "member") == {invited.pk, other.pk}  # open to the whole firm
    private = open_opportunity(world, title="Private", visibility="invited")
    assert private.pk not in visible(world, "member")
    assert private.pk in visible(world, "owner")


def test_a_removed_person_loses_access_at_once(world: World) -> None:
    opportunity = with_people(world)
    participant = opportunity.participants.get(user=world.expert.user)
    services.participant_remove(
        membership=world.owner, opportunity=opportunity, participant_id=participant.pk
    )
    assert visible(world, "expert") == set()
    with pytest.raises(PermissionDenied):
        services.post_create(membership=world.expert, opportunity=opportunity, body="still here?")


def test_leaving_and_declining_end_access_too(world: World) -> None:
    opportunity = with_people(world)
    services.participant_leave(membership=world.expert, opportunity=opportunity)
    assert visible(world, "expert") == set()
    services.participant_decline(membership=world.client_contact, opportunity=opportunity)
    assert visible(world, "client_contact") == set()


def test_inviting_a_newcomer_uses_the_signed_single_use_invitation(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = open_opportunity(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.opportunity_invite(
            membership=world.member,
            opportunity=opportunity,
            email="Nadia@Freelance.test",
            introduction="Ran three warehouse projects.",
        )
    assert result.link and "/invitations/" in result.link
    invitation = Invitation.objects.get(email="nadia@freelance.test")
    assert invitation.role == "expert"
    assert [m.to for m in mail.outbox] == [["nadia@freelance.test"]]  # one e-mail, ours
    assert opportunity.title in mail.outbox[0].body and result.link in mail.outbox[0].body
    token = result.link.rstrip("/").rsplit("/", 1)[-1]
    membership = invitation_accept(
        token=token, user=None, full_name="Nadia H", password="x-long-pass-1"
    )
    assert membership.role == "expert"
    assert visible(world, "owner") >= {opportunity.pk}
    assert set(selectors.visible_opportunities(membership).values_list("pk", flat=True)) == {
        opportunity.pk
    }
    assert invitation_link(invitation)  # the same mechanism as any invitation


def test_inviting_an_existing_member_notifies_them(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = open_opportunity(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_invite(
            membership=world.owner, opportunity=opportunity, email=world.expert.user.email
        )
    notice = Notice.objects.get(user=world.expert.user)
    assert notice.kind == "emergence.invited" and opportunity.title in notice.text()


def test_a_contact_of_another_client_cannot_be_invited(world: World) -> None:
    opportunity = open_opportunity(world)
    with pytest.raises(ValidationError):
        services.opportunity_invite(
            membership=world.owner,
            opportunity=opportunity,
            email=world.other_client_contact.user.email,
        )


def test_client_newcomer_invited_as_contact_of_the_opportunitys_client(world: World) -> None:
    opportunity = open_opportunity(world)
    result = services.opportunity_invite_client(
        membership=world.owner, opportunity=opportunity, email="boss@client-a.test"
    )
    assert result.participant.side == Side.CLIENT
    invitation = result.participant.invitation
    assert invitation is not None
    assert (invitation.role, invitation.client) == ("client", world.client_a)


def test_markdown_cannot_carry_script_and_mentions_notify(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = with_people(world)
    with django_capture_on_commit_callbacks(execute=True):
        post = services.post_create(
            membership=world.client_contact,
            opportunity=opportunity,
            body="Hello @eve-expert <script>alert(1)</script> [x](javascript:alert(1)) **ok**",
        )
    assert "<script" not in post.body_html
    assert "href" not in post.body_html  # the javascript: link is left as plain text
    assert "<strong>ok</strong>" in post.body_html
    notice = Notice.objects.get(user=world.expert.user, kind="emergence.mention")
    assert "Carla Contact" in notice.text()


def test_an_edit_keeps_the_earlier_text(world: World) -> None:
    opportunity = with_people(world)
    post = services.post_create(membership=world.expert, opportunity=opportunity, body="First")
    services.post_edit(membership=world.expert, post=post, body="Second")
    assert post.revisions.get().body == "First"
    with pytest.raises(PermissionDenied):
        services.post_edit(membership=world.client_contact, post=post, body="Mine now")


def test_replies_thread_under_their_parent(world: World) -> None:
    opportunity = with_people(world)
    root = services.post_create(membership=world.owner, opportunity=opportunity, body="Root")
    services.post_create(membership=world.owner, opportunity=opportunity, body="Second root")
    services.post_create(
        membership=world.expert, opportunity=opportunity, body="Reply", parent_id=root.pk
    )
    items = selectors.discussion(opportunity=opportunity, since=None)
    assert [(i.post.body, i.depth) for i in items] == [
        ("Root", 0),
        ("Reply", 1),
        ("Second root", 0),
    ]


def test_attachments_are_limited_in_type_size_and_content(world: World, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.EMERGENCE_ATTACHMENT_DIR = str(tmp_path)
    settings.EMERGENCE_ATTACHMENT_MAX_BYTES = 1000
    opportunity = with_people(world)
    for name, data in [
        ("page.html", b"<script>alert(1)</script>"),
        ("image.svg", b"<svg onload=alert(1)>"),
        ("fake.pdf", b"<script>alert(1)</script>"),
        ("notes.txt", b"<script>alert(1)</script>"),
        ("big.pdf", b"%PDF-" + b"x" * 2000),
    ]:
        with pytest.raises(ValidationError) as error:
            services.post_create(
                membership=world.expert,
                opportunity=opportunity,
                body="see attached",
                attachment=SimpleUploadedFile(name, data),
            )
        assert "attachment" in error.value.error_dict
    post = services.post_create(
        membership=world.expert,
        opportunity=opportunity,
        body="see attached",
        attachment=SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan"),
    )
    attachment = post.attachments.get()
    assert (tmp_path / attachment.path).read_bytes() == b"%PDF-1.4 plan"
    assert attachment.content_type == "application/pdf"


# Phases --------------------------------------------------------------------------------------


def test_each_phase_move_is_recorded_with_who_when_and_why(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = with_people(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_move(
            membership=world.owner, opportunity=opportunity, to_phase=Phase.CONVERGING
        )
    with pytest.raises(ValidationError):  # going back needs a reason
        services.phase_move(
            membership=world.owner, opportunity=opportunity, to_phase=Phase.DIVERGING
        )
    services.phase_move(
        membership=world.owner,
        opportunity=opportunity,
        to_phase=Phase.DIVERGING,
        reason="The client reframed the need.",
    )
    services.phase_move(membership=world.owner, opportunity=opportunity, to_phase=Phase.CONVERGING)
    with pytest.raises(ValidationError):  # no team without an accepted role
        services.phase_move(
            membership=world.owner, opportunity=opportunity, to_phase=Phase.TEAM_FORMED
        )
    slot = services.slot_propose(
        membership=world.expert, opportunity=opportunity, title="Data architect", days=20
    )
    nomination = services.nomination_create(membership=world.expert, slot=slot)
    services.nomination_accept(membership=world.owner, nomination=nomination)
    services.phase_move(membership=world.owner, opportunity=opportunity, to_phase=Phase.TEAM_FORMED)
    with pytest.raises(ValidationError):
        services.phase_move(
            membership=world.owner, opportunity=opportunity, to_phase=Phase.CONVERTED
        )
    services.phase_move(
        membership=world.owner,
        opportunity=opportunity,
        to_phase=Phase.ABANDONED,
        reason="Budget cut.",
    )
    moves = [(m.from_phase, m.to_phase, m.reason) for m in opportunity.moves.all()]
    assert moves == [
        ("", "diverging", ""),
        ("diverging", "converging", ""),
        ("converging", "diverging", "The client reframed the need."),
        ("diverging", "converging", ""),
        ("converging", "team_formed", ""),
        ("team_formed", "abandoned", "Budget cut."),
    ]
    with pytest.raises(ValidationError):  # closed: nothing moves any more
        services.post_create(membership=world.owner, opportunity=opportunity, body="hello")
    # Only the first move's notices were let through (the others stayed uncommitted here).
    assert Notice.objects.filter(user=world.expert.user, kind="emergence.phase").count() == 1
    assert (
        Notice.objects.filter(user=world.client_contact.user, kind="emergence.phase").count() == 1
    )
    assert not Notice.objects.filter(user=world.owner.user, kind="emergence.phase").exists()


def test_only_the_opener_or_the_owner_steers(world: World) -> None:
    opportunity = services.opportunity_open(
        membership=world.member, title="Mine", client=world.client_a, client_problem="x"
    )
    services.phase_move(membership=world.owner, opportunity=opportunity, to_phase=Phase.CONVERGING)
    other = Membership.objects.create(
        workspace=world.workspace, user=world.outsider.user, role="member"
    )
    for who in (world.expert, world.client_contact, world.finance, other):
        with pytest.raises(PermissionDenied):
            services.phase_move(
                membership=who, opportunity=opportunity, to_phase=Phase.DIVERGING, reason="x"
            )


# The team ------------------------------------------------------------------------------------


def test_nominations_are_personal_and_one_endorsement_each(world: World) -> None:
    opportunity = with_people(world)
    slot = services.slot_propose(
        membership=world.client_contact, opportunity=opportunity, title="Data architect", days=20
    )
    with pytest.raises(ValidationError):  # the client does not take roles in the team
        services.nomination_create(membership=world.client_contact, slot=slot)
    nomination = services.nomination_create(membership=world.expert, slot=slot, statement="Me")
    with pytest.raises(ValidationError):
        services.nomination_create(membership=world.expert, slot=slot)
    with pytest.raises(ValidationError):  # no self-endorsement
        services.endorsement_add(membership=world.expert, nomination=nomination, word="I'm great")
    services.endorsement_add(membership=world.client_contact, nomination=nomination, word="Yes")
    with pytest.raises(ValidationError):
        services.endorsement_add(membership=world.client_contact, nomination=nomination)
    with pytest.raises(ValidationError):  # an objection says why
        services.endorsement_add(membership=world.owner, nomination=nomination, objection=True)
    with pytest.raises(ValidationError):
        services.slot_propose(membership=world.expert, opportunity=opportunity, title="", days=0)


def test_a_nomination_endorsed_by_the_client_is_accepted_after_the_quiet_period(
    world: World,
) -> None:
    opportunity = with_people(world)
    slot = services.slot_propose(
        membership=world.owner, opportunity=opportunity, title="Data architect", days=20
    )
    nomination = services.nomination_create(membership=world.expert, slot=slot)
    endorsement = services.endorsement_add(
        membership=world.client_contact, nomination=nomination, word="Trusted"
    )
    now = endorsement.created_at
    assert services.nominations_settle(now=now + timedelta(days=services.QUIET_DAYS - 1)) == []
    settled = services.nominations_settle(now=now + timedelta(days=services.QUIET_DAYS, minutes=1))
    assert [n.pk for n in settled] == [nomination.pk]
    nomination.refresh_from_db()
    assert (nomination.status, nomination.accepted_how) == (NominationStatus.ACCEPTED, "quiet")


def test_an_objection_blocks_acceptance_without_an_arbiter(world: World) -> None:
    opportunity = with_people(world)
    slot = services.slot_propose(
        membership=world.owner, opportunity=opportunity, title="Data architect", days=20
    )
    nomination = services.nomination_create(membership=world.expert, slot=slot)
    services.endorsement_add(membership=world.client_contact, nomination=nomination)
    services.endorsement_add(
        membership=world.member, nomination=nomination, objection=True, word="Overbooked"
    )
    assert services.nominations_settle(now=timezone.now() + timedelta(days=30)) == []


def test_an_endorsement_by_another_expert_alone_does_not_settle(world: World) -> None:
    opportunity = with_people(world)
    slot = services.slot_propose(
        membership=world.owner, opportunity=opportunity, title="Data architect", days=20
    )
    nomination = services.nomination_create(membership=world.owner, slot=slot)
    services.endorsement_add(membership=world.expert, nomination=nomination, word="Good")
    assert services.nominations_settle(now=timezone.now() + timedelta(days=30)) == []


def test_the_opener_accepts_directly_and_the_slot_is_then_held(world: World) -> None:
    opportunity = with_people(world)
    slot = services.slot_propose(
        membership=world.owner, opportunity=opportunity, title="Data architect", days=20
    )
    first = services.nomination_create(membership=world.expert, slot=slot)
    second = services.nomination_create(membership=world.member, slot=slot)
    with pytest.raises(PermissionDenied):
        services.nomination_accept(membership=world.client_contact, nomination=first)
    services.nomination_accept(membership=world.owner, nomination=first)
    second.refresh_from_db()
    assert second.status == NominationStatus.WITHDRAWN
    with pytest.raises(ValidationError):
        services.nomination_create(membership=world.finance, slot=slot)
    assert Nomination.objects.get(pk=first.pk).accepted_how == "opener"
    assert Opportunity.objects.get(pk=opportunity.pk).phase == Phase.DIVERGING


def test_emergence_notices_reach_each_reader_in_their_language_with_the_reason(
    world: World, django_capture_on_commit_callbacks
) -> None:
    core_services.user_language_set(user=world.client_contact.user, language="fr")
    opportunity = open_opportunity(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_invite(
            membership=world.owner,
            opportunity=opportunity,
            email=world.client_contact.user.email,
            introduction="Vous connaissez le besoin.",
        )
    # One e-mail (the notice's), in French, with the need and why; an unsubscribe link.
    [invited] = mail.outbox
    assert invited.to == [world.client_contact.user.email]
    assert "vous invite à prendre part à Data platform for Client A" in invited.subject
    assert "Reports take a week to produce." in invited.body
    assert "Vous connaissez le besoin." in invited.body
    assert "List-Unsubscribe" in invited.extra_headers
    services.participant_join(membership=world.client_contact, opportunity=opportunity)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_decline(
            membership=world.owner, opportunity=opportunity, reason="Trop loin de notre métier."
        )
    [declined] = mail.outbox
    assert "nous déclinons" in declined.subject
    assert "Trop loin de notre métier." in declined.body
    assert Notice.objects.filter(user=world.client_contact.user, kind="emergence.declined").exists()


def test_emergence_notices_off_send_no_email_but_keep_the_notice(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = with_people(world)
    core_services.notice_preferences_set(
        user=world.expert.user, modes={"emergence": OFF}, actor=world.expert.user
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(
            membership=world.client_contact, opportunity=opportunity, body="Over to @eve-expert"
        )
        services.phase_move(
            membership=world.owner, opportunity=opportunity, to_phase=Phase.CONVERGING
        )
    assert [m for m in mail.outbox if world.expert.user.email in m.to] == []
    kinds = set(Notice.objects.filter(user=world.expert.user).values_list("kind", flat=True))
    assert {"emergence.mention", "emergence.phase"} <= kinds
    assert core_digests_send() == 0


def test_followers_get_others_messages_in_the_daily_digest_by_default(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = with_people(world)
    services.participant_set_digest(
        membership=world.client_contact, opportunity=opportunity, wants_digest=True
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(membership=world.expert, opportunity=opportunity, body="Idea one")
        services.post_create(membership=world.client_contact, opportunity=opportunity, body="Mine")
    assert mail.outbox == [], "messages wait for the digest"
    assert not Notice.objects.filter(user=world.expert.user, kind="emergence.post").exists()
    assert core_digests_send() == 1
    [digest] = mail.outbox
    assert digest.to == [world.client_contact.user.email]
    assert "Idea one" in digest.body and "Mine" not in digest.body
    assert core_digests_send() == 0  # nothing new since
    # Who chooses "at once" for new messages gets each one as it is written.
    core_services.notice_preferences_set(
        user=world.client_contact.user,
        modes={"emergence_messages": IMMEDIATE},
        actor=world.client_contact.user,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(membership=world.expert, opportunity=opportunity, body="Idea two")
    assert len(mail.outbox) == 2 and "Idea two" in mail.outbox[1].body


def test_the_agreement_to_accept_and_each_acceptance_are_told(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = with_people(world)
    services.phase_move(membership=world.owner, opportunity=opportunity, to_phase=Phase.CONVERGING)
    with django_capture_on_commit_callbacks(execute=True):
        services.agreement_start(membership=world.owner, opportunity=opportunity, language="en")
    notice = Notice.objects.get(user=world.client_contact.user, kind="emergence.agreement")
    assert "ready to read and accept (version 1)" in notice.text()


def test_a_newcomer_to_an_opportunity_is_written_to_in_the_language_chosen_for_them(
    world: World, django_capture_on_commit_callbacks
) -> None:
    opportunity = open_opportunity(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_invite_client(
            membership=world.owner, opportunity=opportunity, email="dg@client-a.test", language="fr"
        )
        services.opportunity_invite(
            membership=world.owner, opportunity=opportunity, email="sam@x.test", language="en"
        )
    assert Invitation.objects.get(email="dg@client-a.test").language == "fr"
    assert Invitation.objects.get(email="sam@x.test").language == "en"
    french, english = sorted(mail.outbox, key=lambda m: m.to[0])
    assert french.to == ["dg@client-a.test"] and english.to == ["sam@x.test"]
    assert "vous invite à prendre part" in french.subject
    assert "invites you to take part" in english.subject
