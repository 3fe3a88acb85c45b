"""Data generator for benchmarks: N workspaces, each with clients, members and engagements.

It writes through the services, like the pages and the demo do.
Usage: python bench/generate.py --workspaces 2 --clients 5 --engagements 1000 --members 10
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import date, timedelta

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass
class Generated:
    workspace_slugs: list[str]
    member_emails: list[str]  # one provider member of each workspace, who sees everything
    engagements: int


def generate(
    *,
    workspaces: int = 1,
    clients: int = 5,
    engagements: int = 1000,
    members: int = 5,
    seed: int = 7,
    slug_prefix: str = "bench",
) -> Generated:
    """Create the data; engagements are per workspace."""
    from django.db import transaction

    from confiance.core.models import Membership, Role
    from confiance.core.services import client_create, membership_add, user_create, workspace_create
    from confiance.engagements.models import ContactOrigin, EngagementStatus
    from confiance.engagements.services import engagement_create

    rng = random.Random(seed)
    slugs, emails = [], []
    for w in range(workspaces):
        with transaction.atomic():
            owner_user = user_create(
                email=f"owner{w}@{slug_prefix}.test", password="bench", full_name=f"Owner {w}"
            )
            workspace = workspace_create(
                name=f"Bench workspace {w}", owner=owner_user, slug=f"{slug_prefix}-{w}"
            )
            owner = Membership.objects.select_related("workspace", "user").get(
                user=owner_user, workspace=workspace
            )
            client_objs = [
                client_create(membership=owner, name=f"Client {w}-{c}") for c in range(clients)
            ]
            leads = [owner_user]
            for m in range(members):
                user = user_create(
                    email=f"member{w}-{m}@{slug_prefix}.test",
                    password="bench",
                    full_name=f"Member {w}-{m}",
                )
                membership_add(by=owner, user=user, role=Role.MEMBER)
                leads.append(user)
            for e in range(engagements):
                start = date(2025, 1, 1) + timedelta(days=rng.randrange(600))
                engagement_create(
                    membership=owner,
                    client=rng.choice(client_objs),
                    title=f"Engagement {w}-{e}",
                    reference=f"B-{w}-{e:05d}",
                    status=rng.choice(EngagementStatus.values),
                    contact_origin=rng.choice(ContactOrigin.values),
                    start_date=start,
                    end_date=start + timedelta(days=rng.randrange(30, 200)),
                    lead=rng.choice(leads),
                    summary="Generated for benchmarks.",
                )
        slugs.append(workspace.slug)
        emails.append(f"member{w}-0@{slug_prefix}.test" if members else owner_user.email)
    return Generated(slugs, emails, engagements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspaces", type=int, default=1)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--engagements", type=int, default=1000)
    parser.add_argument("--members", type=int, default=5)
    args = parser.parse_args()
    from bench.common import setup_django

    setup_django(fresh=True)
    result = generate(
        workspaces=args.workspaces,
        clients=args.clients,
        engagements=args.engagements,
        members=args.members,
    )
    print(f"Generated {args.workspaces} workspace(s) x {result.engagements} engagements.")


if __name__ == "__main__":
    main()
