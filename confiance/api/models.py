"""What the API itself stores: the answers to POSTs sent with an `Idempotency-Key`."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from confiance.core.models import ApiToken, Workspace


class IdempotentRequest(models.Model):
    """A POST made with an `Idempotency-Key`, and the answer it got, to replay on a retry.

    Recorded in the same transaction as the write it answers, so a retry either finds the
    answer or finds nothing was written. Keys are per token and live IDEMPOTENCY_KEY_HOURS.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotent_unique_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotent_created")]

    def __str__(self) -> str:
        return f"{self.key} → {self.status}"
