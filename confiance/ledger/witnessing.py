"""The provider's side of witnessing: the engagement's witnesses, and submitting checkpoints.

Either side of an engagement may name a witness (C2SP tlog-witness): its name, its cosigning
vkey and its submission URL. After each checkpoint, a task POSTs it to every witness with a
consistency proof from the size that witness last cosigned, and stores the cosignature that
comes back. A witness that does not answer never blocks a write: its error is kept and shown
to both sides until it cosigns again.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.models import Membership
from confiance.core.services import audit_record
from confiance.engagements.models import Engagement
from confiance.ledger import checkpoint as notes
from confiance.ledger.models import Checkpoint, Cosignature, LedgerHead, Witness
from confiance.ledger.store import DatabaseNodeStore
from confiance.ledger.tree import MerkleLog
from confiance.webhooks import outbound

TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024


def can_manage_witnesses(membership: Membership | None, engagement: Engagement) -> bool:
    """The provider's engagement managers, and the engagement's client contacts."""
    return access.can_manage_budget(membership, engagement) or access.is_client_of(
        membership, engagement
    )


@transaction.atomic
def witness_add(
    *, membership: Membership, engagement: Engagement, verifier_key: str, url: str
) -> Witness:
    """Name a witness for the engagement's ledger; it is asked to cosign from now on."""
    if engagement.workspace_id != membership.workspace_id or not can_manage_witnesses(
        membership, engagement
    ):
        raise PermissionDenied
    errors: dict[str, str] = {}
    verifier_key = verifier_key.strip()
    url = url.strip()
    try:
        key = notes.parse_verifier_key(verifier_key, notes.COSIGNATURE_ALGORITHM)
    except notes.CheckpointError:
        errors["verifier_key"] = _(
            "This is not a witness key: paste the line printed by “confiance witness keygen”."
        )
        key = None
    try:
        _scheme, host, _port, _path = outbound.check_url(url)
    except ValueError:
        errors["url"] = _("Give the witness's address, starting with https://.")
    else:
        if outbound.host_refused(host, settings.WITNESS_ALLOW_PRIVATE_ADDRESSES):
            errors["url"] = _("A witness must be reachable at a public address.")
    if key is not None and Witness.objects.filter(engagement=engagement, name=key.name).exists():
        errors["verifier_key"] = _("A witness of this name already watches this ledger.")
    if errors:
        raise ValidationError(errors)
    assert key is not None
    witness = Witness.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        name=key.name,
        verifier_key=verifier_key,
        url=url,
        side="client" if access.is_client_of(membership, engagement) else "provider",
        added_by=membership.user,
    )
    audit_record(
        verb="ledger.witness_add",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"witness": key.name, "url": url},
    )
    # A first cosignature for the current checkpoint, once committed.
    from confiance.ledger.tasks import submit_to_witness

    transaction.on_commit(lambda: submit_to_witness.enqueue(witness.pk))
    return witness


@transaction.atomic
def witness_remove(*, membership: Membership, witness: Witness) -> None:
    """Stop asking a witness; only the side that added it may remove it."""
    engagement = witness.engagement
    side = "client" if access.is_client_of(membership, engagement) else "provider"
    if (
        engagement.workspace_id != membership.workspace_id
        or not can_manage_witnesses(membership, engagement)
        or side != witness.side
    ):
        raise PermissionDenied
    audit_record(
        verb="ledger.witness_remove",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"witness": witness.name},
    )
    witness.delete()


def _post(url: str, body: bytes) -> tuple[int, str]:
    """POST to the witness: a timeout, no redirect followed, and never the application's own
    network (private, loopback, link-local addresses) unless WITNESS_ALLOW_PRIVATE_ADDRESSES,
    since either side names the address."""
    answer = outbound.post(
        url.rstrip("/") + "/add-checkpoint",
        body,
        {},
        content_type="text/plain; charset=utf-8",
        timeout=TIMEOUT_SECONDS,
        allow_private=settings.WITNESS_ALLOW_PRIVATE_ADDRESSES,
        max_answer=MAX_ANSWER_BYTES,
    )
    if answer.status is None:
        raise OSError(answer.error)
    return answer.status, answer.body


def _request_body(engagement: Engagement, old: int, checkpoint: Checkpoint) -> bytes:
    head = LedgerHead.objects.get(engagement=engagement)
    proof = (
        MerkleLog(DatabaseNodeStore(head)).consistency_proof(old, checkpoint.size) if old else []
    )
    lines = [f"old {old}", *(base64.b64encode(node).decode() for node in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint.note).encode()


def witness_submit(*, witness_id: int) -> str | None:
    """Ask one witness to cosign the latest checkpoint; return the error, or None if cosigned.

    Runs in the task worker, outside any transaction while it waits for the witness.
    """
    witness = Witness.objects.select_related("engagement").filter(pk=witness_id).first()
    if witness is None:
        return None
    engagement = witness.engagement
    checkpoint = Checkpoint.objects.filter(engagement=engagement).order_by("-size").first()
    if checkpoint is None:
        return None
    if Cosignature.objects.filter(checkpoint=checkpoint, witness=witness).exists():
        return None
    old = witness.last_size if witness.last_size <= checkpoint.size else 0
    error: str | None = None
    try:
        for _attempt in range(2):
            status, text = _post(witness.url, _request_body(engagement, old, checkpoint))
            if status == 409 and text.strip().isdigit():
                # The witness knows another size: start from it, if the log can prove it.
                seen = int(text.strip())
                if seen > checkpoint.size:
                    error = (
                        f"the witness has cosigned {seen} entries, more than the log's "
                        f"{checkpoint.size}: it was shown another history"
                    )
                    break
                old = seen
                continue
            if status != 200:
                error = f"HTTP {status}: {text.strip()[:200]}"
            else:
                error = _store_cosignatures(witness, checkpoint, text)
            break
        else:
            error = "the witness keeps answering 409 Conflict"
    except (OSError, ValueError) as exc:
        error = f"unreachable: {getattr(exc, 'reason', None) or exc}"
    now = timezone.now()
    fields = {"last_attempt_at": now, "last_error": (error or "")[:500]}
    if error is None:
        fields.update(last_size=checkpoint.size, last_cosigned_at=now)
    Witness.objects.filter(pk=witness.pk).update(**fields)
    return error


def _store_cosignatures(witness: Witness, checkpoint: Checkpoint, text: str) -> str | None:
    lines = [line for line in text.split("\n") if line]
    try:
        candidate = notes.add_signature_lines(checkpoint.note, lines)
        timestamp = notes.verify_cosignature(candidate, witness.verifier_key)
    except notes.CheckpointError as exc:
        return f"the witness answered an invalid cosignature: {exc}"
    if timestamp is None:
        return "the witness answered no cosignature by its key"
    key = notes.parse_verifier_key(witness.verifier_key, notes.COSIGNATURE_ALGORITHM)
    ours = [
        line
        for line in lines
        if line.startswith(f"{notes.SIGNATURE_PREFIX}{key.name} ")
        and notes.verify_cosignature(checkpoint.note + line + "\n", key) is not None
    ]
    Cosignature.objects.get_or_create(
        checkpoint=checkpoint,
        witness=witness,
        defaults={
            "workspace_id": checkpoint.workspace_id,
            "line": ours[0],
            "timestamp": timestamp,
        },
    )
    return None


def note_with_cosignatures(checkpoint: Checkpoint) -> str:
    """The checkpoint's signed note with every witness cosignature it gathered."""
    lines = [c.line for c in checkpoint.cosignatures.all()]
    return notes.add_signature_lines(checkpoint.note, lines)
