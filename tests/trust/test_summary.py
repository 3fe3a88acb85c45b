"""The portfolio ranks from one summary row per engagement, kept equal to the trust states."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entries_log
from confiance.engagements.models import Engagement
from confiance.engagements.services import engagement_create
from confiance.trust import indicators, selectors
from confiance.trust.models import TrustState, TrustSummary
from confiance.trust.opinion import Masses
from confiance.trust.services import (
    trust_rebuild,
    trust_recompute,
    trust_record_fact,
    trust_settings_for,
    trust_update,
)
from confiance.trust.summaries import (
    STATE_COLUMNS,
    microseconds,
    summaries_fill,
    summary_states,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _fact(world: World, key: str, days_ago: int, positive: float, negative: float, n: int) -> None:
    trust_record_fact(
        engagement=world.engagement,
        fact=indicators.Fact(
            key,
            timezone.now() - timedelta(days=days_ago, minutes=n),
            positive,
            negative,
            f"{key} {n}",
            "",
            "test",
            f"{key}-{n}",
        ),
    )


def _states_summary(engagement_id: int) -> list[list[object]]:
    return summary_states(
        TrustState.objects.filter(engagement_id=engagement_id).values_list(*STATE_COLUMNS)
    )


def _stored(engagement_id: int) -> list[list[object]]:
    return json.loads(TrustSummary.objects.get(engagement_id=engagement_id).states)


def test_every_write_of_the_states_writes_the_summary_with_them(world: World) -> None:
    _fact(world, "provider_commitment_kept", 3, 1.0, 0.0, 1)
    _fact(world, "payment_late", 2, 0.0, 1.0, 2)
    assert len(_stored(world.engagement.pk)) == 2
    assert _stored(world.engagement.pk) == _states_summary(world.engagement.pk)
    time_entries_log(
        membership=world.member,
        engagement=world.engagement,
        items=[
            EntryInput(
                person=world.member.user,
                date=timezone.localdate() - timedelta(days=d),
                minutes=60,
            )
            for d in range(3)
        ],
    )
    assert trust_update(engagement=world.engagement) > 0
    assert _stored(world.engagement.pk) == _states_summary(world.engagement.pk)
    assert len(_stored(world.engagement.pk)) == 3
    trust_recompute(engagement=world.engagement)
    assert _stored(world.engagement.pk) == _states_summary(world.engagement.pk)
    trust_rebuild(engagement=world.engagement)  # the recorded-by-hand facts have no source
    assert _stored(world.engagement.pk) == _states_summary(world.engagement.pk)
    assert TrustSummary.objects.filter(engagement=world.engagement).count() == 1


def test_the_ranking_decays_each_state_as_the_states_do(world: World) -> None:
    # Facts at odd moments (microseconds, future dates clamp), then the same floats from the
    # summary as TrustState.evidence_at gives at a frozen moment.
    for n in range(6):
        _fact(world, "provider_commitment_kept", n * 11, 0.7 + n / 3, 0.0, n)
        _fact(world, "provider_cancelled_late", n * 5, 0.0, 1.3 * n + 0.1, 10 + n)
        _fact(world, "client_attendance", n * 7, 0.4 * n + 0.2, 0.0, 20 + n)
    _fact(world, "payment_late", -2, 0.0, 1.0, 30)  # dated in the future
    settings = trust_settings_for(world.workspace)
    with time_machine.travel(timezone.now() + timedelta(days=9, microseconds=123457), tick=False):
        now = timezone.now()
        ranked = {
            r.pk: r for r in selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
        }
        expected = {}
        for state in TrustState.objects.filter(engagement=world.engagement):
            evidence = state.evidence_at(now, settings.half_life)
            expected[(state.direction, state.dimension)] = (evidence.positive, evidence.negative)
    assert ranked[world.engagement.pk].weighed.evidence == expected
    assert len(expected) >= 3


def test_the_backfill_writes_the_summaries_the_writes_would_have(world: World) -> None:
    _fact(world, "provider_commitment_kept", 3, 1.0, 0.0, 1)
    _fact(world, "payment_late", 2, 0.0, 1.0, 2)
    written = {s.engagement_id: s.states for s in TrustSummary.objects.all()}
    TrustSummary.objects.all().delete()
    assert summaries_fill(TrustState, TrustSummary) == 1
    assert summaries_fill(TrustState, TrustSummary) == 1  # run again: the same rows
    assert {s.engagement_id: s.states for s in TrustSummary.objects.all()} == written
    assert TrustSummary.objects.get().workspace_id == world.workspace.pk


def test_the_ranking_reads_one_row_per_engagement_in_one_query(world: World) -> None:
    def ranking_queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            selectors.trust_portfolio_ranking(fetched_by=world.owner)
        return len(seen)

    _fact(world, "provider_commitment_kept", 3, 1.0, 0.0, 1)
    few = ranking_queries()
    for n in range(12):
        engagement = engagement_create(
            membership=world.owner,
            client=world.client_a,
            title=f"More {n}",
            contact_origin="peer_referral",
            status="active",
        )
        trust_record_fact(
            engagement=engagement,
            fact=indicators.Fact(
                "payment_late", timezone.now(), 0.0, 1.0, "late", "", "test", f"late-{n}"
            ),
        )
    # The settings, then the engagements with their summary, trend and alerts as columns.
    assert ranking_queries() == few == 2


def _weighed_afresh(world: World, now: datetime) -> dict[int, tuple[Masses, Masses]]:
    """The ranking's overall opinions at `now` with nothing weighed before."""
    selectors._weighed.clear()
    ranked = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    return {r.pk: (r.c2p, r.p2c) for r in ranked}


def test_a_ranking_asked_again_at_the_same_instant_weighs_what_was_written_since(
    world: World,
) -> None:
    # The portfolio asks at the start of the minute, so two views of a minute share an instant:
    # what the first weighed is kept, and a write between them must still show in the second.
    _fact(world, "provider_commitment_kept", 3, 1.0, 0.0, 1)
    now = timezone.now().replace(second=0, microsecond=0)
    first = _weighed_afresh(world, now)
    assert selectors._weighed[microseconds(now)]  # kept for the minute's other views
    _fact(world, "provider_cancelled_late", 1, 0.0, 4.0, 2)
    again = {
        r.pk: (r.c2p, r.p2c)
        for r in selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    }
    assert again[world.engagement.pk] != first[world.engagement.pk]
    assert again == _weighed_afresh(world, now)
    # The base rate is the engagement's origin's, from the settings: a change shows at once.
    settings = trust_settings_for(world.workspace)
    origin = world.engagement.contact_origin
    halved = settings.base_rate(origin) / 2
    settings.base_rates = {**settings.base_rates, origin: halved}
    settings.save()
    rated = {
        r.pk: (r.c2p, r.p2c)
        for r in selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    }
    assert rated[world.engagement.pk][0][3] == pytest.approx(halved)
    assert rated == _weighed_afresh(world, now)


def test_what_was_weighed_is_kept_for_two_instants_and_bounded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fact(world, "provider_commitment_kept", 3, 1.0, 0.0, 1)
    selectors._weighed.clear()
    start = timezone.now().replace(second=0, microsecond=0)
    for minutes in range(4):
        selectors.trust_portfolio_ranking(
            fetched_by=world.owner, now=start + timedelta(minutes=minutes)
        )
    assert len(selectors._weighed) == 2  # the last two minutes only
    assert min(selectors._weighed) == microseconds(start + timedelta(minutes=2))
    # An instant within a minute (a test's, a script's) is weighed once and not kept: it does
    # not push the view's minute out.
    selectors.trust_portfolio_ranking(fetched_by=world.owner, now=start + timedelta(seconds=90))
    assert min(selectors._weighed) == microseconds(start + timedelta(minutes=2))
    monkeypatch.setattr(selectors, "_WEIGHED_LIMIT", 0)
    later = start + timedelta(minutes=9)
    ranked = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=later)
    assert ranked and not selectors._weighed[max(selectors._weighed)]  # weighed, not kept


@pytest.mark.django_db(transaction=True)
def test_the_summaries_move_to_text_and_the_fill_writes_the_column_it_finds(world: World) -> None:
    # trust 0012 turns the JSON column into text; the fill that migration 0010 runs writes
    # the list a JSON column takes, and the text this one takes.
    _fact(world, "provider_commitment_kept", 3, 1.0, 0.0, 1)
    _fact(world, "payment_late", 2, 0.0, 1.0, 2)
    written = _stored(world.engagement.pk)
    now = timezone.now()
    ranked = _weighed_afresh(world, now)
    key = ("trust", "0012_summary_text")
    loader = MigrationLoader(connection)
    migration = loader.graph.nodes[key]
    before = loader.project_state(key, at_end=False)
    with connection.schema_editor(atomic=migration.atomic) as editor:
        migration.unapply(before, editor)
    try:
        old = before.apps.get_model("trust", "TrustSummary")
        old.objects.all().delete()
        summaries_fill(before.apps.get_model("trust", "TrustState"), old)
        assert old.objects.get(engagement_id=world.engagement.pk).states == written
    finally:
        with connection.schema_editor(atomic=migration.atomic) as editor:
            migration.apply(before, editor)
    assert _stored(world.engagement.pk) == written
    assert _weighed_afresh(world, now) == ranked


def test_a_ranking_asked_again_within_its_minute_is_reused_only_for_the_same_rows(
    world: World,
) -> None:
    """A second view of the minute whose ranking query finds the very rows ranked gets that
    ranking; any change of a row (a fact, a title) or of what decides beside the rows (the
    filters, the base rates) ranks again; an instant that does not start a minute is not kept."""
    _fact(world, "provider_commitment_kept", 3, 1.0, 0.0, 1)
    now = timezone.now().replace(second=0, microsecond=0)
    first = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    again = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    assert again == first and all(a is b for a, b in zip(again, first, strict=True))
    again.reverse()  # each caller has its own list
    assert selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now) == first
    # Another reader ranks for their own reach (the same here: the workspace), not from the
    # owner's ranking.
    theirs = selectors.trust_portfolio_ranking(fetched_by=world.member, now=now)
    assert theirs == first and theirs[0] is not first[0]

    _fact(world, "provider_cancelled_late", 1, 0.0, 4.0, 2)
    moved = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    pk = world.engagement.pk
    before = next(r for r in first if r.pk == pk)
    after = next(r for r in moved if r.pk == pk)
    assert after.risk > before.risk

    Engagement.objects.filter(pk=pk).update(title="Renamed within the minute")
    renamed = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    assert next(r for r in renamed if r.pk == pk).title == "Renamed within the minute"

    only_a = selectors.trust_portfolio_ranking(
        fetched_by=world.owner, client_id=world.client_a.pk, now=now
    )
    assert {r.pk for r in only_a} < {r.pk for r in renamed}

    settings = trust_settings_for(world.workspace)
    origin = world.engagement.contact_origin
    settings.base_rates = {**settings.base_rates, origin: settings.base_rate(origin) / 2}
    settings.save()
    rated = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=now)
    assert next(r for r in rated if r.pk == pk).c2p[3] == pytest.approx(settings.base_rate(origin))

    odd = now + timedelta(seconds=7)
    selectors.trust_portfolio_ranking(fetched_by=world.owner, now=odd)
    assert microseconds(odd) not in selectors._ranked
