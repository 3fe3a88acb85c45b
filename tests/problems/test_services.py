"""The rules of problems: proactive, client's priority, timeline, SLA clock, escalation, breaches,
confirmation by the client only, internal comments, ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from confiance.core.models import Notice
from confiance.engagements.services import interlocutor_set
from confiance.ledger.models import LedgerEntry
from confiance.problems import clock as targets_clock
from confiance.problems import services
from confiance.problems.models import EventKind, ProblemBreach, ProblemEvent, ProblemStatus
from tests.conftest import World
from tests.problems.conftest import Clock


def raise_(world: World, persona: str = "client_contact", **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("title", "Export is broken")
    kw.setdefault("severity", "high")
    return services.problem_raise(
        membership=getattr(world, persona), engagement=world.engagement, **kw
    )


def kinds(problem) -> list[str]:  # type: ignore[no-untyped-def]
    return list(problem.events.values_list("kind", flat=True))


# Raising --------------------------------------------------------------------------------------


def test_problem_raised_by_the_provider_is_proactive(world: World) -> None:
    assert raise_(world, "member").proactive is True
    assert raise_(world, "finance").proactive is True


def test_problem_raised_by_the_client_is_not_proactive(world: World) -> None:
    problem = raise_(world, "client_contact", client_priority="critical")
    assert problem.proactive is False
    assert problem.raised_side == "client"
    assert problem.client_priority == "critical"
    assert kinds(problem) == [EventKind.RAISED]


def test_provider_cannot_set_the_clients_priority(world: World) -> None:
    assert raise_(world, "member", client_priority="critical").client_priority == ""
    problem = raise_(world, "member")
    with pytest.raises(PermissionDenied):
        services.problem_priority_set(membership=world.member, problem=problem, priority="low")
    services.problem_priority_set(membership=world.client_contact, problem=problem, priority="low")
    problem.refresh_from_db()
    assert problem.client_priority == "low"


@pytest.mark.parametrize("persona", ["other_client_contact", "expert", "outsider"])
def test_people_outside_the_engagement_cannot_raise(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        raise_(world, persona)


def test_raise_needs_a_title_and_a_severity(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        raise_(world, title="  ", severity="huge")
    assert set(error.value.error_dict) == {"title", "severity"}


def test_client_raised_problem_notifies_the_provider(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        raise_(world)
    assert Notice.objects.filter(user=world.owner.user, kind="problem.raised").count() == 1


# Timeline -------------------------------------------------------------------------------------


def test_whole_timeline_is_recorded_with_times_and_in_the_ledger(
    world: World, clock: Clock
) -> None:
    problem = raise_(world)
    clock.at(1)
    services.problem_acknowledge(membership=world.member, problem=problem)
    clock.at(2)
    services.problem_owner_name(membership=world.member, problem=problem, owner=world.member.user)
    services.problem_plan_share(membership=world.member, problem=problem, plan="Roll back first")
    services.problem_escalate(
        membership=world.member, problem=problem, level=1, person=world.owner.user
    )
    clock.at(3)
    services.problem_update_post(membership=world.member, problem=problem, text="Rolled back")
    clock.at(4)
    services.problem_resolve(membership=world.member, problem=problem)
    clock.at(5)
    services.problem_confirm(membership=world.client_contact, problem=problem)
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.CLOSED
    assert kinds(problem) == [
        "raised", "acknowledged", "owner_named", "plan_shared", "escalated", "update",
        "resolved", "closed",
    ]  # fmt: skip
    times = list(problem.events.values_list("at", flat=True))
    assert times == sorted(times) and times[0] == clock.at(0) and times[-1] == clock.at(5)
    ledger = list(
        LedgerEntry.objects.filter(engagement=world.engagement).values_list("kind", flat=True)
    )
    for kind in ("problem.raised", "problem.acknowledged", "problem.owner_named",
                 "problem.escalated", "problem.resolved", "problem.closed"):  # fmt: skip
        assert kind in ledger


def test_timeline_is_append_only(world: World) -> None:
    problem = raise_(world)
    event = problem.events.get()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        ProblemEvent.objects.filter(problem=problem).update(text="x")
    with pytest.raises(PermissionError):
        ProblemEvent.objects.filter(problem=problem).delete()


def test_acknowledging_twice_is_refused(world: World) -> None:
    problem = raise_(world)
    services.problem_acknowledge(membership=world.member, problem=problem)
    with pytest.raises(ValidationError):
        services.problem_acknowledge(membership=world.owner, problem=problem)


def test_naming_an_owner_acknowledges_and_needs_a_provider_person(world: World) -> None:
    problem = raise_(world)
    with pytest.raises(ValidationError):
        services.problem_owner_name(
            membership=world.member, problem=problem, owner=world.client_contact.user
        )
    # Finance is of the provider but not on this engagement: not offered, refused.
    with pytest.raises(ValidationError, match="takes part in this engagement"):
        services.problem_owner_name(
            membership=world.member, problem=problem, owner=world.finance.user
        )
    interlocutor_set(membership=world.owner, engagement=world.engagement, user=world.finance.user)
    services.problem_owner_name(membership=world.member, problem=problem, owner=world.finance.user)
    problem.refresh_from_db()
    assert problem.owner == world.finance.user
    assert problem.status == ProblemStatus.ACKNOWLEDGED
    assert kinds(problem) == ["raised", "acknowledged", "owner_named"]


@pytest.mark.parametrize("persona", ["client_contact", "finance", "expert"])
def test_only_the_providers_owner_and_consultants_handle(world: World, persona: str) -> None:
    problem = raise_(world)
    with pytest.raises(PermissionDenied):
        services.problem_acknowledge(membership=getattr(world, persona), problem=problem)


def test_progress_updates_are_short(world: World) -> None:
    problem = raise_(world)
    with pytest.raises(ValidationError):
        services.problem_update_post(membership=world.member, problem=problem, text="x" * 501)
    with pytest.raises(ValidationError):
        services.problem_update_post(membership=world.member, problem=problem, text=" ")


# Closing: only the client confirms -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "member", "finance", "other_client_contact"])
def test_only_the_client_confirms_the_resolution(world: World, persona: str) -> None:
    problem = raise_(world)
    services.problem_resolve(membership=world.member, problem=problem)
    with pytest.raises(PermissionDenied):
        services.problem_confirm(membership=getattr(world, persona), problem=problem)
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.RESOLVED


def test_client_confirms_only_a_resolved_problem_and_may_reopen(world: World) -> None:
    problem = raise_(world)
    with pytest.raises(ValidationError):
        services.problem_confirm(membership=world.client_contact, problem=problem)
    services.problem_resolve(membership=world.member, problem=problem)
    services.problem_confirm(membership=world.client_contact, problem=problem)
    with pytest.raises(PermissionDenied):
        services.problem_reopen(membership=world.member, problem=problem, text="no")
    services.problem_reopen(
        membership=world.client_contact, problem=problem, text="It failed again"
    )
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.ACKNOWLEDGED
    assert problem.closed_at is None and problem.resolved_at is None
    assert kinds(problem)[-3:] == ["resolved", "closed", "reopened"]


# SLA clock ------------------------------------------------------------------------------------


def _targets(problem, now):  # type: ignore[no-untyped-def]
    problem.refresh_from_db()
    settings = services.problem_settings_for(problem.workspace_id)
    return {
        t.kind: t for t in targets_clock.targets(problem, list(problem.events.all()), settings, now)
    }


def test_clock_pauses_while_waiting_on_the_client(world: World, clock: Clock) -> None:
    problem = raise_(world)  # acknowledge within 4 h by default
    clock.at(1)
    services.problem_wait_on_client(membership=world.member, problem=problem, text="Need logs")
    clock.at(10)
    services.problem_resume(membership=world.client_contact, problem=problem)
    clock.at(12)
    ack = _targets(problem, clock.now)["acknowledge"]
    assert ack.elapsed == timedelta(hours=3)
    assert not ack.breached
    assert ack.due_at == clock.at(13)
    assert kinds(problem)[-2:] == ["waiting_on_client", "resumed"]


def test_without_the_pause_the_same_delay_misses_the_target(world: World, clock: Clock) -> None:
    problem = raise_(world)
    clock.at(12)
    ack = _targets(problem, clock.now)["acknowledge"]
    assert ack.breached and ack.elapsed == timedelta(hours=12)


def test_pausing_twice_or_resuming_a_running_clock_is_refused(world: World) -> None:
    problem = raise_(world)
    with pytest.raises(ValidationError):
        services.problem_resume(membership=world.member, problem=problem)
    services.problem_wait_on_client(membership=world.member, problem=problem, text="Logs?")
    with pytest.raises(ValidationError):
        services.problem_wait_on_client(membership=world.member, problem=problem, text="Logs?")


def test_targets_are_editable_by_the_owner_only(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.problem_settings_update(
            membership=world.member, acknowledge_minutes=60, owner_minutes=60, update_minutes=60
        )
    settings = services.problem_settings_update(
        membership=world.owner, acknowledge_minutes=60, owner_minutes=120, update_minutes=600
    )
    assert settings.target("acknowledge") == timedelta(hours=1)
    with pytest.raises(ValidationError):
        services.problem_settings_update(
            membership=world.owner, acknowledge_minutes=0, owner_minutes=1, update_minutes=1
        )


def test_default_targets(world: World) -> None:
    settings = services.problem_settings_for(world.workspace)
    assert (settings.acknowledge_minutes, settings.owner_minutes, settings.update_minutes) == (
        240,
        480,
        2880,
    )


# Escalation -----------------------------------------------------------------------------------


def test_escalating_before_any_breach_is_recorded_as_early(world: World, clock: Clock) -> None:
    problem = raise_(world)
    clock.at(1)
    event = services.problem_escalate(
        membership=world.member, problem=problem, level=1, person=world.owner.user
    )
    assert event.before_breach is True
    assert event.person == world.owner.user and event.level == 1


def test_escalating_after_a_breach_is_recorded_as_such(world: World, clock: Clock) -> None:
    problem = raise_(world)
    clock.at(5)  # not acknowledged within 4 hours
    event = services.problem_escalate(
        membership=world.member, problem=problem, level=2, person=world.owner.user
    )
    assert event.before_breach is False


def test_escalation_goes_up_one_level_at_a_time_or_more(world: World) -> None:
    problem = raise_(world)
    services.problem_escalate(
        membership=world.member, problem=problem, level=2, person=world.owner.user
    )
    with pytest.raises(ValidationError):
        services.problem_escalate(
            membership=world.member, problem=problem, level=1, person=world.owner.user
        )
    with pytest.raises(ValidationError):
        services.problem_escalate(
            membership=world.member, problem=problem, level=3, person=world.client_contact.user
        )


# Breaches ---------------------------------------------------------------------------------------


def _notified(kind: str = "problem.breach") -> list[str]:
    return sorted(Notice.objects.filter(kind=kind).values_list("user__email", flat=True))


def test_breach_is_notified_once_to_the_owner_and_the_next_level(
    world: World, clock: Clock, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    services.problem_settings_update(
        membership=world.owner,
        acknowledge_minutes=240,
        owner_minutes=480,
        update_minutes=600,
        level1=world.finance.user,
        level2=world.owner.user,
    )
    problem = raise_(world)
    clock.at(1)
    services.problem_owner_name(membership=world.member, problem=problem, owner=world.member.user)
    mail.outbox.clear()
    clock.at(5)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.problem_breaches_check() == []  # update due at 11 h
    clock.at(12)
    with django_capture_on_commit_callbacks(execute=True):
        breaches = services.problem_breaches_check()
    assert [b.kind for b in breaches] == [ProblemBreach.Kind.UPDATE]
    assert _notified() == ["finance@provider.test", "member@provider.test"]
    assert sorted(m.to[0] for m in mail.outbox) == _notified()
    # Checked again and again: told once.
    for hours in (13, 20):
        clock.at(hours)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.problem_breaches_check() == []
    assert len(_notified()) == 2 and len(mail.outbox) == 2
    # After an update the clock restarts; missing the next one is a new breach.
    services.problem_escalate(
        membership=world.member, problem=problem, level=1, person=world.finance.user
    )
    services.problem_update_post(membership=world.member, problem=problem, text="On it")
    clock.at(40)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(services.problem_breaches_check()) == 1
    # Now at level 1, the next level is level 2: the workspace owner.
    assert _notified().count("owner@provider.test") == 1


def test_unowned_breach_goes_to_the_workspace_owners(world: World, clock: Clock) -> None:
    raise_(world)
    clock.at(5)
    breaches = services.problem_breaches_check()
    assert [b.kind for b in breaches] == [ProblemBreach.Kind.ACKNOWLEDGE]
    # No owner, no lead, no level-1 person: the workspace owner hears of it (once).
    assert _notified() == ["owner@provider.test"]
    clock.at(9)
    assert [b.kind for b in services.problem_breaches_check()] == [ProblemBreach.Kind.OWNER]


def test_paused_problem_does_not_breach(world: World, clock: Clock) -> None:
    problem = raise_(world)
    clock.at(1)
    services.problem_wait_on_client(membership=world.member, problem=problem, text="Logs?")
    clock.at(30)
    assert services.problem_breaches_check() == []


def test_resolved_problem_does_not_breach(world: World, clock: Clock) -> None:
    problem = raise_(world)
    clock.at(1)
    services.problem_resolve(membership=world.member, problem=problem)
    clock.at(30)
    assert services.problem_breaches_check() == []


def test_check_problems_command(world: World, clock: Clock) -> None:
    from io import StringIO

    from django.core.management import call_command

    raise_(world)
    clock.at(5)
    out = StringIO()
    call_command("check-problems", stdout=out)
    assert "1 new breach" in out.getvalue()
    call_command("check-problems", stdout=out)
    assert Notice.objects.filter(kind="problem.breach").count() == 1


def test_check_problems_task(world: World, clock: Clock) -> None:
    from confiance.problems.tasks import check_problems

    raise_(world)
    clock.at(5)
    assert check_problems.call() == 1


# Internal comments ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["client_contact", "expert"])
def test_client_and_expert_cannot_comment_internally(world: World, persona: str) -> None:
    problem = raise_(world)
    with pytest.raises(PermissionDenied):
        services.problem_comment_add(membership=getattr(world, persona), problem=problem, text="hi")


def test_provider_comments_internally(world: World) -> None:
    problem = raise_(world)
    comment = services.problem_comment_add(
        membership=world.finance, problem=problem, text="Penalty clause?"
    )
    assert comment.problem == problem


def test_waiting_on_the_client_needs_the_question_asked(world: World) -> None:
    problem = raise_(world)
    with pytest.raises(ValidationError) as error:
        services.problem_wait_on_client(membership=world.member, problem=problem, text=" ")
    assert "text" in error.value.message_dict
    problem.refresh_from_db()
    assert not problem.waiting_on_client
