"""Background tasks of lessons and kudos."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from confiance.core.models import Notice
from confiance.lessons.models import Kudos


@task()
def notify_kudos(kudos_id: int) -> None:
    """Tell each person credited, in the app."""
    kudos = Kudos.objects.select_related("author", "engagement__workspace").get(pk=kudos_id)
    slug = kudos.engagement.workspace.slug
    Notice.objects.bulk_create(
        Notice(
            workspace_id=kudos.workspace_id,
            user=user,
            kind="kudos.received",
            params={"author": kudos.author.get_full_name(), "engagement": kudos.engagement.title},
            link=reverse("person-profile", kwargs={"ws": slug, "user_id": user.pk}),
        )
        for user in kudos.recipients.filter(is_active=True)
    )
