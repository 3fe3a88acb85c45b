"""Problems both sides work on: shared comments and files, the client's priority, the client's
escalation contact, every step told to both sides."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from confiance.core.models import Notice
from confiance.problems import selectors, services
from confiance.problems.models import MAX_LEVEL, ProblemAttachment, ProblemBreach, ProblemComment
from tests.conftest import World
from tests.problems.conftest import T0, Clock
from tests.problems.support import PDF


def raise_(world: World, persona: str = "client_contact", **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("title", "Export is broken")
    kw.setdefault("severity", "medium")
    return services.problem_raise(
        membership=getattr(world, persona), engagement=world.engagement, **kw
    )


def _page(world: World, problem_id: int, *rest: str) -> str:
    kwargs = {"ws": world.workspace.slug, "pk": world.engagement.pk, "problem_id": problem_id}
    if rest:
        kwargs["action"] = rest[0]
        return reverse("problem-action", kwargs=kwargs)
    return reverse("problem-detail", kwargs=kwargs)


def test_a_client_comment_is_read_by_both_sides_and_told_to_the_provider(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    problem = raise_(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_comment_share(
            membership=world.client_contact, problem=problem, text="Still failing tonight"
        )
    # The provider hears of it (no lead: the workspace's owners), the author does not.
    told = set(Notice.objects.filter(kind="problem.commented").values_list("user_id", flat=True))
    assert world.owner.user.pk in told and world.client_contact.user.pk not in told
    assert "commented" in Notice.objects.filter(kind="problem.commented").first().text()
    view = selectors.problem_view(fetched_by=world.member, problem=problem)
    assert [c.text for c in view.shared] == ["Still failing tonight"]


def test_the_provider_comments_too_and_internal_comments_stay_internal(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    problem = raise_(world)
    services.problem_comment_add(membership=world.member, problem=problem, text="INTERNAL-ONLY")
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_comment_share(
            membership=world.member, problem=problem, text="We are on it"
        )
    assert Notice.objects.filter(kind="problem.commented", user=world.client_contact.user).exists()
    view = selectors.problem_view(fetched_by=world.client_contact, problem=problem)
    assert [c.text for c in view.shared] == ["We are on it"] and view.comments is None


@pytest.mark.parametrize("text", ["", "   ", "x" * (services.MAX_COMMENT_LENGTH + 1)])
def test_an_empty_or_oversized_comment_is_refused_with_a_field_error(
    world: World, text: str
) -> None:
    problem = raise_(world)
    with pytest.raises(ValidationError) as error:
        services.problem_comment_share(membership=world.client_contact, problem=problem, text=text)
    assert "text" in error.value.message_dict
    assert not ProblemComment.objects.filter(problem=problem).exists()


def test_outsiders_to_the_engagement_cannot_comment(world: World) -> None:
    problem = raise_(world)
    for persona in ("other_client_contact", "expert"):
        with pytest.raises(PermissionDenied):
            services.problem_comment_share(
                membership=getattr(world, persona), problem=problem, text="Hello"
            )


def test_a_file_is_stored_outside_the_web_root_and_served_only_to_who_sees_the_problem(
    world: World, client: HttpClient
) -> None:
    problem = raise_(world)
    client.force_login(world.client_contact.user)
    response = client.post(
        _page(world, problem.pk, "share"),
        {
            "share-text": "The log",
            "share-attachment": SimpleUploadedFile("log.pdf", PDF, "application/pdf"),
        },
    )
    assert response.status_code == 302
    attachment = ProblemAttachment.objects.get(problem=problem)
    stored = Path(settings.PROBLEM_ATTACHMENT_DIR) / attachment.path
    assert stored.read_bytes() == PDF and attachment.name == "log.pdf"
    assert not str(stored.resolve()).startswith(str(Path(settings.STATIC_ROOT).resolve()))
    url = reverse(
        "problem-attachment",
        kwargs={
            "ws": world.workspace.slug,
            "pk": world.engagement.pk,
            "problem_id": problem.pk,
            "attachment_id": attachment.pk,
        },
    )
    assert "log.pdf" in client.get(_page(world, problem.pk)).content.decode()
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    for persona, status in (("member", 200), ("other_client_contact", 404), ("expert", 404)):
        client.force_login(world.user(persona))
        assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("run.exe", b"MZ\x90\x00", "not accepted"),
        ("page.html", b"<html><script>alert(1)</script></html>", "not accepted"),
        ("fake.pdf", b"<script>alert(1)</script>", "does not match"),
        ("big.txt", b"a" * (5 * 1024 * 1024 + 1), "too large"),
    ],
)
def test_a_forbidden_or_oversized_file_gets_a_clear_error_and_nothing_is_stored(
    world: World, client: HttpClient, name: str, content: bytes, message: str
) -> None:
    problem = raise_(world)
    client.force_login(world.client_contact.user)
    response = client.post(
        _page(world, problem.pk, "share"),
        {"share-text": "See the file", "share-attachment": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not ProblemComment.objects.filter(problem=problem).exists()
    assert not ProblemAttachment.objects.exists()
    folder = Path(settings.PROBLEM_ATTACHMENT_DIR) / str(world.workspace.pk)
    assert not folder.exists() or not any(folder.iterdir())


def test_the_clients_priority_orders_the_list(world: World) -> None:
    low = raise_(world, title="Typo", severity="critical", client_priority="low")
    high = raise_(world, title="Slow report", severity="low", client_priority="high")
    none = raise_(world, title="Nothing set", severity="medium")
    critical = raise_(world, title="Data loss", severity="low", client_priority="critical")
    listed = list(selectors.problem_list(fetched_by=world.member, engagement=world.engagement))
    assert [p.pk for p in listed] == [critical.pk, high.pk, low.pk, none.pk]


def test_the_clients_priority_at_the_raise_selects_tighter_targets(world: World) -> None:
    usual = {
        t.kind: t.target
        for t in selectors.problem_view(fetched_by=world.member, problem=raise_(world)).targets
    }
    problem = raise_(world, client_priority="critical")
    view = selectors.problem_view(fetched_by=world.member, problem=problem)
    assert {t.kind: t.target for t in view.targets} == {k: v / 4 for k, v in usual.items()}
    # A missed tighter target is a breach like any other, found by the scheduled check.
    later = problem.created_at + usual["acknowledge"] / 4 + timedelta(minutes=1)
    assert later < problem.created_at + usual["acknowledge"]
    services.problem_breaches_check(now=later)
    assert ProblemBreach.objects.filter(problem=problem, kind="acknowledge").exists()


def test_a_priority_raised_later_applies_from_the_change_and_both_sides_hear_when_due(
    world: World, clock: Clock, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # Targets: acknowledge in 4 h, owner in 8 h (the defaults); critical: a quarter of those.
    problem = raise_(world)
    clock.at(2)
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_priority_set(
            membership=world.client_contact, problem=problem, priority="critical"
        )
    problem.refresh_from_db()
    view = selectors.problem_view(fetched_by=world.member, problem=problem)
    targets = {t.kind: t for t in view.targets}
    # Two hours already ran: the critical hour counts from the change, so nothing is missed at
    # once (judged from the raise, 2 h > 1 h would be); the owner target too: 2 h from the change.
    assert targets["acknowledge"].due_at == T0 + timedelta(hours=3)
    assert targets["owner"].due_at == T0 + timedelta(hours=4)
    assert not any(t.breached for t in view.targets)
    services.problem_breaches_check(now=clock.at(2.5))
    assert not ProblemBreach.objects.filter(problem=problem).exists()
    services.problem_breaches_check(now=clock.at(3.1))
    assert ProblemBreach.objects.filter(problem=problem, kind="acknowledge").exists()
    # The provider is told the new due times, in its language.
    notice = Notice.objects.get(kind="problem.priority_set", user=world.owner.user)
    assert "Critical" in notice.text()
    assert notice.params["due"][0] == {
        "kind": "acknowledge",
        "at": (T0 + timedelta(hours=3)).isoformat(),
    }
    from django.core import mail

    body = next(m.body for m in mail.outbox if world.owner.user.email in m.to)
    assert "The targets of this priority apply from now:" in body and "Acknowledge by" in body


def test_a_priority_set_after_a_target_was_missed_does_not_undo_it(
    world: World, clock: Clock
) -> None:
    problem = raise_(world)  # medium: acknowledge within 4 h
    clock.at(5)
    services.problem_priority_set(membership=world.client_contact, problem=problem, priority="low")
    problem.refresh_from_db()
    view = selectors.problem_view(fetched_by=world.member, problem=problem)
    assert next(t for t in view.targets if t.kind == "acknowledge").breached


def test_the_client_names_its_escalation_contact_who_hears_of_missed_targets(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.problem_client_escalation_set(
            membership=world.member, engagement=world.engagement, person=world.client_contact.user
        )
    with pytest.raises(ValidationError):
        services.problem_client_escalation_set(
            membership=world.client_contact,
            engagement=world.engagement,
            person=world.other_client_contact.user,
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_client_escalation_set(
            membership=world.client_contact,
            engagement=world.engagement,
            person=world.client_contact.user,
        )
    assert Notice.objects.filter(kind="problem.client_escalation", user=world.owner.user).exists()
    problem = raise_(world, persona="member")
    settings_ = services.problem_settings_for(world.workspace)
    assert world.client_contact.user in services.breach_recipients(problem, settings_)
    view = selectors.problem_view(fetched_by=world.client_contact, problem=problem)
    assert view.client_contact is not None
    later = timezone.now() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_breaches_check(now=later)
    assert Notice.objects.filter(kind="problem.breach", user=world.client_contact.user).exists()


def test_escalation_contact_page_refuses_an_empty_choice_with_a_field_error(
    world: World, client: HttpClient
) -> None:
    client.force_login(world.client_contact.user)
    url = reverse(
        "problem-client-escalation", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk}
    )
    response = client.post(url, {})
    assert response.status_code == 400 and 'id="client-escalation"' in response.content.decode()
    response = client.post(url, {"person": world.client_contact.user.pk})
    assert response.status_code == 302


# The client escalates a problem itself ------------------------------------------------------


def test_the_client_escalates_with_a_reason_ledgered_and_told_to_both_sides(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from confiance.ledger.models import LedgerEntry

    problem = raise_(world)
    settings_ = services.problem_settings_for(world.workspace)
    settings_.level1 = world.member.user  # the provider's escalation contact for level 1
    settings_.save()
    services.problem_client_escalation_set(
        membership=world.client_contact,
        engagement=world.engagement,
        person=world.client_contact.user,
    )
    with django_capture_on_commit_callbacks(execute=True):
        event = services.problem_client_escalate(
            membership=world.client_contact, problem=problem, reason="  Payroll runs tomorrow. "
        )
    problem.refresh_from_db()
    assert problem.level == 1
    assert (event.kind, event.level, event.person, event.text) == (
        "client_escalated",
        1,
        world.member.user,
        "Payroll runs tomorrow.",
    )
    entry = LedgerEntry.objects.filter(kind="problem.client_escalated").get()
    assert '"reason":"Payroll runs tomorrow."' in entry.data
    # The provider's person for that level and the owners hear of it, with the reason.
    told = Notice.objects.filter(kind="problem.client_escalated")
    assert {world.member.user.pk, world.owner.user.pk} <= set(
        told.values_list("user_id", flat=True)
    )
    notice = told.get(user=world.member.user)
    assert "escalated the problem" in notice.text() and "Mark Member" in notice.text()
    # A second escalation goes one more level up, to the lead when no contact is set.
    world.engagement.lead = world.owner.user
    world.engagement.save(update_fields=["lead"])
    services.problem_client_escalate(
        membership=world.client_contact, problem=problem, reason="Still down."
    )
    problem.refresh_from_db()
    assert problem.level == 2
    assert problem.events.filter(kind="client_escalated").last().person == world.owner.user


def test_a_problem_at_the_top_level_cannot_be_escalated_again_by_the_client(
    world: World, client: HttpClient
) -> None:
    problem = raise_(world)
    for reason in ("Down.", "Still down.", "Payroll failed."):
        services.problem_client_escalate(
            membership=world.client_contact, problem=problem, reason=reason
        )
    problem.refresh_from_db()
    assert problem.level == MAX_LEVEL
    told = Notice.objects.filter(kind="problem.client_escalated").count()
    with pytest.raises(ValidationError, match="highest level"):
        services.problem_client_escalate(
            membership=world.client_contact, problem=problem, reason="Again."
        )
    # Nothing more recorded nor told; the page no longer offers the step.
    assert problem.events.filter(kind="client_escalated").count() == 3
    assert Notice.objects.filter(kind="problem.client_escalated").count() == told
    client.force_login(world.client_contact.user)
    page = client.get(
        reverse(
            "problem-detail",
            kwargs={
                "ws": world.workspace.slug,
                "pk": world.engagement.pk,
                "problem_id": problem.pk,
            },
        )
    )
    assert page.status_code == 200 and "Escalate this problem" not in page.content.decode()


def test_only_the_client_side_escalates_as_client_and_a_reason_is_required(world: World) -> None:
    problem = raise_(world)
    with pytest.raises(PermissionDenied):
        services.problem_client_escalate(membership=world.member, problem=problem, reason="x")
    with pytest.raises(PermissionDenied):
        services.problem_client_escalate(
            membership=world.other_client_contact, problem=problem, reason="x"
        )
    with pytest.raises(ValidationError) as error:
        services.problem_client_escalate(
            membership=world.client_contact, problem=problem, reason="   "
        )
    assert "reason" in error.value.message_dict
    problem.refresh_from_db()
    assert problem.level == 0 and not problem.events.filter(kind="client_escalated").exists()


def test_the_escalate_button_on_the_page_names_who_answers_and_wants_a_reason(
    world: World, client: HttpClient
) -> None:
    problem = raise_(world)
    client.force_login(world.client_contact.user)
    page = client.get(_page(world, problem.pk)).content.decode()
    assert "Escalate this problem" in page and "Olivia Owner answers for the provider" in page
    response = client.post(_page(world, problem.pk, "client_escalate"), {})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = client.post(
        _page(world, problem.pk, "client_escalate"), {"client_escalate-reason": "Blocking"}
    )
    assert response.status_code == 302
    assert problem.events.filter(kind="client_escalated").count() == 1
    # The provider's people see it on the timeline; they escalate with their own form.
    client.force_login(world.member.user)
    page = client.get(_page(world, problem.pk)).content.decode()
    assert "Escalated by the client" in page and "Escalate this problem" not in page


def test_a_problem_out_of_the_clients_reach_answers_404(world: World, client: HttpClient) -> None:
    other = services.problem_raise(
        membership=world.owner,
        engagement=world.engagement_b,
        title="Other client's",
        severity="low",
    )
    client.force_login(world.client_contact.user)
    url = reverse(
        "problem-action",
        kwargs={
            "ws": world.workspace.slug,
            "pk": world.engagement_b.pk,
            "problem_id": other.pk,
            "action": "client_escalate",
        },
    )
    assert client.post(url, {"client_escalate-reason": "x"}).status_code == 404
    # Nor through its own engagement's address.
    assert client.post(_page(world, other.pk, "client_escalate"), {}).status_code == 404
    assert not other.events.filter(kind="client_escalated").exists()
