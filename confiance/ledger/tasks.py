"""Background tasks of the ledger: sign checkpoints after appends, ask witnesses to cosign."""

from __future__ import annotations

from django_tasks import task

from confiance.engagements.models import Engagement


@task()
def sign_checkpoint(engagement_id: int) -> None:
    """Sign a checkpoint covering everything appended so far (batched per engagement)."""
    from confiance.ledger.services import checkpoint_sign

    engagement = Engagement.objects.select_related("workspace").filter(pk=engagement_id).first()
    if engagement is not None:
        checkpoint_sign(engagement=engagement)


@task()
def submit_to_witness(witness_id: int) -> None:
    """Submit the latest checkpoint to one witness (C2SP tlog-witness add-checkpoint)."""
    from confiance.ledger.witnessing import witness_submit

    witness_submit(witness_id=witness_id)


@task()
def mail_checkpoints() -> None:
    """Each client contact's weekly e-mail with the latest signed checkpoint of its ledgers."""
    from confiance.ledger.services import checkpoint_mail_send

    checkpoint_mail_send()


@task()
def build_bundle(bundle_id: int) -> None:
    """Write a large log's bundle to its file; its page and the API show the progress."""
    from confiance.ledger.prepared import bundle_build

    bundle_build(bundle_id=bundle_id)
