"""Background tasks of lessons and kudos."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from confiance.core.notices import notify
from confiance.lessons.models import Kudos


@task()
def notify_kudos(kudos_id: int, in_history: bool = False) -> None:
    """Tell each person credited (each notice links to the person's own profile).

    `in_history`: given in the demo's story; the notice carries the day they were given."""
    kudos = Kudos.objects.select_related("author", "engagement__workspace").get(pk=kudos_id)
    slug = kudos.engagement.workspace.slug
    params = {
        "author": kudos.author.get_full_name(),
        "engagement": kudos.engagement.title,
        "text": kudos.text[:1000],
    }
    for user in kudos.recipients.filter(is_active=True).order_by("pk"):
        notify(
            workspace_id=kudos.workspace_id,
            users=[user],
            kind="kudos.received",
            params=params,
            link=reverse("person-profile", kwargs={"ws": slug, "user_id": user.pk}),
            at=kudos.created_at if in_history else None,
        )
