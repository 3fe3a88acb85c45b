"""The trust refresh's ledger checkpoints after an import: an import signs a checkpoint per
chunk, and each refresh reads its sources again over an overlap (trust.services.OVERLAP). The
refresh after one more checkpoint, against the baseline of proving every checkpoint of the
overlap again (what each refresh did before it skipped those whose fact is recorded).
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.common import rate, report

CHUNKS = 300  # an import of 18,000 rows in chunks of 60, a checkpoint after each
ROWS_PER_CHUNK = 60


def run(seconds: float = 3.0) -> None:
    from django.utils import timezone

    from bench.generate import generate
    from confiance.consumption.services import EntryInput, time_entries_log
    from confiance.core.models import Membership, User
    from confiance.engagements.models import Engagement
    from confiance.ledger.services import checkpoint_sign
    from confiance.trust.services import OVERLAP, trust_update
    from confiance.trust.sources.consumption import checkpoint_consistent

    data = generate(workspaces=1, clients=1, engagements=1, members=3, slug_prefix="cp")
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=data.workspace_slugs[0], role="owner"
    )
    engagement = Engagement.objects.select_related("workspace", "lead").get(
        workspace=owner.workspace
    )
    engagement.status = "active"
    engagement.save(update_fields=["status"])
    people = list(User.objects.filter(memberships__workspace=owner.workspace))
    today = timezone.localdate()
    counter = iter(range(10**9))

    def chunk(rows: int) -> None:
        items = []
        for _ in range(rows):
            i = next(counter)
            items.append(
                EntryInput(
                    person=people[i % len(people)],
                    date=today - timedelta(days=i % 60),
                    minutes=30 + (i % 8) * 30,
                )
            )
        time_entries_log(membership=owner, engagement=engagement, items=items)
        checkpoint_sign(engagement=engagement)

    started = time.perf_counter()
    for _ in range(CHUNKS):
        chunk(ROWS_PER_CHUNK)
    trust_update(engagement=engagement)
    print(
        f"\nLedger checkpoints in a refresh: {CHUNKS} checkpoints of {CHUNKS * ROWS_PER_CHUNK:,} "
        f"entries written in {time.perf_counter() - started:.1f} s, all in the overlap"
    )
    since = timezone.now() - OVERLAP

    def refresh_source() -> None:  # after the first call, every checkpoint's fact is recorded
        list(checkpoint_consistent(engagement, since))

    def prove_all() -> None:  # the baseline: every checkpoint of the overlap proved again
        list(checkpoint_consistent(engagement, None))

    skipped = rate(refresh_source, seconds)
    every = rate(prove_all, seconds)
    chunk(ROWS_PER_CHUNK)  # one more chunk and its checkpoint, as the import's next step
    started = time.perf_counter()
    trust_update(engagement=engagement)
    update_ms = (time.perf_counter() - started) * 1000
    report(
        [
            ("proving every checkpoint of the overlap (baseline)", f"{1000 / every:8.1f} ms"),
            (
                "the checkpoint source, all recorded",
                f"{1000 / skipped:8.1f} ms   (x{skipped / every:.0f} the baseline's rate)",
            ),
            ("trust update after one more chunk and checkpoint", f"{update_ms:8.1f} ms"),
        ]
    )
