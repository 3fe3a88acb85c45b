"""EXPLAIN of the key queries, for the sharding plan by workspace_id (docs/deploy.md).

Run after `make bench` filled the database (BENCH_DATABASE_URL for PostgreSQL):
    BENCH_DATABASE_URL=postgres://... python bench/explain.py
Each query a page makes is printed with its plan: every one should filter on workspace_id or on
one engagement (an index scan), never scan a table across workspaces.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django


def main() -> None:
    setup_django(fresh=False)
    from django.db.models import Sum

    from confiance.consumption.models import TimeEntry
    from confiance.engagements.models import Engagement
    from confiance.ledger.models import LedgerEntry, LedgerNode
    from confiance.trust.models import TrustSummary

    engagement = Engagement.objects.order_by("-id").first()
    if engagement is None:
        sys.exit("No data: run `make bench` first (or bench/generate.py).")
    ws = engagement.workspace_id
    queries = {
        "engagement list (one workspace)": Engagement.objects.filter(workspace_id=ws).order_by(
            "-id"
        )[:50],
        # The consumption page's page of entries: the index (engagement, date, id) read
        # backwards, 50 rows, no sort (PostgreSQL sorted the whole latest day before).
        "entries of one engagement, latest first": TimeEntry.objects.filter(
            workspace_id=ws, engagement=engagement
        )
        .select_related("person", "activity")
        .order_by("-date", "-id")[:50],
        "consumed minutes of one engagement": TimeEntry.objects.filter(
            workspace_id=ws, engagement=engagement
        )
        .values("engagement")
        .annotate(total=Sum("minutes")),
        "ledger entries of one engagement (bundle)": LedgerEntry.objects.filter(
            workspace_id=ws, engagement=engagement
        ).order_by("index")[:1000],
        "subtree hashes of an inclusion proof": LedgerNode.objects.filter(
            workspace_id=ws, engagement=engagement, level=3, index__in=[0, 1, 2]
        ),
        "trust summaries of one workspace (portfolio)": TrustSummary.objects.filter(
            workspace_id=ws
        )[:100],
    }
    for name, queryset in queries.items():
        print(f"-- {name}\n{queryset.query}\n{queryset.explain()}\n")


if __name__ == "__main__":
    main()
