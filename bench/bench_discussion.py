"""The discussion page of an opportunity with 1,000 posts (threaded, with replies) vs 10 posts and
a bare view: requests per second, and the number of queries, which must not grow with posts."""

from __future__ import annotations

import time

from bench.common import rate, report


def _opportunity(posts: int, tag: str) -> tuple[object, str]:
    """A workspace with an opener, an expert and a client's contact taking part, and `posts`
    messages (every other one a reply), written through the services then in bulk."""
    from confiance.core.models import Membership, Role
    from confiance.core.services import client_create, membership_add, user_create, workspace_create
    from confiance.emergence import services
    from confiance.emergence.models import Post

    owner = user_create(email=f"owner-{tag}@bench.test", password="x" * 20, full_name="Owner")
    workspace = workspace_create(name=f"Bench {tag}", owner=owner, slug=f"bench-{tag}")
    opener = Membership.objects.get(user=owner, workspace=workspace)
    client = client_create(membership=opener, name="Client")
    expert = membership_add(
        by=opener,
        user=user_create(email=f"expert-{tag}@bench.test", password="x" * 20, full_name="Expert"),
        role=Role.EXPERT,
    )
    contact = membership_add(
        by=opener,
        user=user_create(email=f"client-{tag}@bench.test", password="x" * 20, full_name="Client"),
        role=Role.CLIENT,
        client=client,
    )
    opportunity = services.opportunity_open(
        membership=opener, title="Data platform", client=client, client_problem="Slow reports"
    )
    for person in (expert, contact):
        services.opportunity_invite(
            membership=opener, opportunity=opportunity, email=person.user.email
        )
        services.participant_join(membership=person, opportunity=opportunity)
    root = services.post_create(membership=expert, opportunity=opportunity, body="**Start** here")
    authors = [owner, expert.user, contact.user]
    Post.objects.bulk_create(
        Post(
            workspace_id=workspace.pk,
            opportunity=opportunity,
            author=authors[i % 3],
            parent=root if i % 2 else None,
            body=f"Message {i}",
            body_html=f"<p>Message {i}</p>",
        )
        for i in range(posts - 1)
    )
    return contact.user, f"/w/{workspace.slug}/opportunities/{opportunity.pk}/discussion/"


def run(seconds: float = 3.0, posts: int = 1000) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    small_user, small_url = _opportunity(10, "small")
    large_user, large_url = _opportunity(posts, "large")
    print(
        f"Generated two opportunities (10 and {posts} posts) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    small, large = Client(), Client()
    small.force_login(small_user)
    large.force_login(large_user)
    counts = {}
    for name, http, url in (("small", small, small_url), ("large", large, large_url)):
        assert http.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            http.get(url)
        counts[name] = len(queries)
    assert counts["small"] == counts["large"], f"queries grow with posts: {counts}"

    bare_http = Client()
    bare = rate(lambda: bare_http.get("/bench/bare/"), seconds)
    ten = rate(lambda: small.get(small_url), seconds)
    many = rate(lambda: large.get(large_url), seconds)
    print(f"\nDiscussion page read by the client's contact, 10 vs {posts} posts:")
    report(
        [
            ("bare Django view (baseline)", f"{bare:8.1f} req/s"),
            ("discussion, 10 posts", f"{ten:8.1f} req/s   ratio {ten / bare:.3f}"),
            (
                f"discussion, {posts} posts",
                f"{many:8.1f} req/s   ratio {many / bare:.3f}   vs 10 posts {many / ten:.3f}",
            ),
            ("queries per request, 10 posts", f"{counts['small']}"),
            (f"queries per request, {posts} posts", f"{counts['large']}"),
        ]
    )
