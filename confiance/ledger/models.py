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
    """The workspace's Ed25519 key that signs checkpoints (private part encrypted at rest).

    One key is current (`retired_at` empty); a rotation retires it and makes a new one under
    the same name, announcing the change in every log of the workspace, signed by the old key.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ledger_keys")
    name = models.CharField(max_length=120)
    verifier_key = models.CharField(max_length=300)
    encrypted_private_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    rotated_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["workspace", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(retired_at__isnull=True),
                name="ledger_one_current_key",
            )
        ]

    def __str__(self) -> str:
        return self.name


class LedgerHead(models.Model):
    """One engagement's log: its origin (fixed at creation), committed size, checkpoint due.

    Its row lock serialises appends. `origin` names the log in every checkpoint and is the name
    of the key that signs them; it is set once, never from the request nor SITE_URL.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="ledger_head"
    )
    origin = models.CharField(max_length=250, default="")
    size = models.PositiveBigIntegerField(default=0)
    # Set when facts were appended and no checkpoint task is queued yet (batching).
    checkpoint_requested_at = models.DateTimeField(null=True, blank=True)
    # The checkpoint last e-mailed to the client's contacts (weekly), and when.
    checkpoint_mailed_size = models.PositiveBigIntegerField(null=True, blank=True)
    checkpoint_mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["origin"], condition=~models.Q(origin=""), name="ledger_origin_unique"
            )
        ]


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


class LedgerOpening(models.Model):
    """What opens one sealed field of one leaf (see sealing.py): salt and canonical value.

    Not append-only: erasing a person's data deletes their openings, while the leaf (which
    holds only the commitment) and so every root and checkpoint stay unchanged.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveBigIntegerField()
    field = models.CharField(max_length=60)
    audience = models.CharField(max_length=20)
    salt = models.BinaryField(max_length=32)
    value = models.TextField()  # canonical JSON of the value

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "index", "field"], name="ledger_opening_unique"
            )
        ]
        indexes = [models.Index(fields=["workspace", "audience"], name="ledger_opening_audience")]

    def __str__(self) -> str:
        return f"{self.engagement_id}#{self.index}.{self.field}"


class LedgerNode(models.Model):
    """The hash of a complete subtree (level, index) of one engagement's log.

    As large as the ledger: its one index is the unique key, led by the workspace (the
    distribution column of the sharding plan, docs/scale.md), which every read names.
    """

    # No index of its own: the unique index starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "engagement", "level", "index"], name="ledger_node_unique"
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


class Witness(models.Model):
    """A C2SP tlog-witness that cosigns this engagement's checkpoints (either side may add one).

    `last_size` is the size the witness last cosigned (the `old` of the next add-checkpoint);
    `last_error` is shown as a warning to both sides while the witness does not answer.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="witnesses")
    name = models.CharField(max_length=250)
    verifier_key = models.CharField(max_length=400)
    url = models.URLField(max_length=400)  # the submission prefix
    side = models.CharField(max_length=10)  # "provider" or "client"
    added_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_size = models.PositiveBigIntegerField(default=0)
    last_cosigned_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        constraints = [
            models.UniqueConstraint(fields=["engagement", "name"], name="witness_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A witness's C2SP tlog-cosignature line on one checkpoint."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.CASCADE, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, on_delete=models.CASCADE, related_name="cosignatures")
    line = models.CharField(max_length=400)  # "— <name> <base64>", without the newline
    timestamp = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="cosignature_unique")
        ]


class LedgerBundle(models.Model):
    """A reader's bundle of a large log, built by the task worker into a file (docs/ledger.md).

    One per (engagement, checkpoint size, reader audiences, cosignatures counted): the file
    holds exactly what the API's bundle holds for a reader of those audiences at that
    checkpoint. The file lives under LEDGER_BUNDLE_DIR, outside the web root, and is served
    only by views that check access. Rows and files are a cache: deleting them loses nothing.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        BUILDING = "building", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    size = models.PositiveBigIntegerField()  # entries covered: the checkpoint's size
    audiences = models.CharField(max_length=60)  # e.g. "personal,amounts"
    cosignatures = models.PositiveIntegerField(default=0)  # on the log's checkpoints, when asked
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveBigIntegerField(default=0)  # entries written so far
    bytes = models.PositiveBigIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    # Moves while the worker writes (every chunk): a building row that stopped moving is stalled.
    updated_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "size", "audiences", "cosignatures"],
                name="ledger_bundle_unique",
            )
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def filename(self) -> str:
        """The file's name under LEDGER_BUNDLE_DIR: engagement, size, audiences, cosignatures."""
        audiences = self.audiences.replace(",", "+")
        return f"{self.engagement_id}-{self.size}-{audiences}-{self.cosignatures}.json"
