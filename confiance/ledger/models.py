"""The engagement's append-only log: entries (leaf data), complete-subtree hashes, checkpoints.

Only this module and store.py/services.py touch Django; merkle.py, tree.py, checkpoint.py and
bundle.py stay framework-free so a bundle verifies offline.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import Workspace
from confiance.engagements.models import Engagement


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The ledger is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The ledger is append-only.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("The ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The ledger is append-only.")


class WorkspaceKey(models.Model):
    """The workspace's Ed25519 key that signs checkpoints (private part encrypted at rest)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="ledger_key")
    name = models.CharField(max_length=120)
    verifier_key = models.CharField(max_length=300)
    encrypted_private_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self) -> str:
        return self.name


class LedgerHead(models.Model):
    """The committed size of one engagement's log; its row lock serialises appends."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="ledger_head"
    )
    size = models.PositiveBigIntegerField(default=0)


class LedgerEntry(AppendOnlyModel):
    """One leaf: a fact the client relies on, as canonical JSON. Never edited nor deleted."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    index = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    data = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["engagement", "index"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "index"], name="ledger_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.engagement_id}#{self.index} {self.kind}"


class LedgerNode(models.Model):
    """The hash of a complete subtree (level, index) of one engagement's log."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "level", "index"], name="ledger_node_unique"
            )
        ]


class Checkpoint(AppendOnlyModel):
    """A signed statement of the log's size and root at a moment (C2SP signed note)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="checkpoints")
    size = models.PositiveBigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["engagement", "size"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "size"], name="checkpoint_unique_size")
        ]
