"""Fix every existing log's origin, and sign its old checkpoints under a key named after it.

Before this migration, a log's origin was computed from SITE_URL on each checkpoint and the
checkpoints were signed under the workspace key's own name. Each log now keeps the origin its
checkpoints already carry (so the memory that browsers kept, indexed by origin, stays valid),
and its old checkpoints gain a signature by the same Ed25519 key under a name equal to that
origin, which is how every new checkpoint is signed (C2SP tlog-checkpoint: key name = origin).
A workspace whose logs share one prefix gets its key renamed to it, so that the workspace's
verifier key covers them all (checkpoint.log_key_for). Logs with no checkpoint get the new
form `<workspace key name>/<engagement id>`.
"""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from cryptography.fernet import InvalidToken

    from confiance.ledger import checkpoint as notes
    from confiance.ledger.services import _fernet, _new_key_name

    LedgerHead = apps.get_model("ledger", "LedgerHead")
    Checkpoint = apps.get_model("ledger", "Checkpoint")
    WorkspaceKey = apps.get_model("ledger", "WorkspaceKey")
    Workspace = apps.get_model("core", "Workspace")

    for workspace in Workspace.objects.all():
        heads = list(LedgerHead.objects.filter(workspace=workspace, origin=""))
        if not heads:
            continue
        origins = {}
        for head in heads:
            last = Checkpoint.objects.filter(engagement_id=head.engagement_id).order_by("-size").first()
            if last is not None:
                origins[head.pk] = last.note.split("\n", 1)[0]
        key = WorkspaceKey.objects.filter(workspace=workspace).first()
        private = None
        if key is None:
            name = _new_key_name(workspace)
            private, vkey = notes.generate_signing_key(name)
            key = WorkspaceKey.objects.create(
                workspace=workspace,
                name=name,
                verifier_key=vkey,
                encrypted_private_key=_fernet().encrypt(private),
            )
        else:
            try:
                private = _fernet().decrypt(bytes(key.encrypted_private_key))
            except InvalidToken:
                private = None  # another SECRET_KEY: old checkpoints keep their old name only
        prefixes = {origin.rsplit("/", 1)[0] for origin in origins.values() if "/" in origin}
        if private is not None and len(prefixes) == 1 and len(origins) == len(
            [o for o in origins.values() if "/" in o]
        ):
            prefix = prefixes.pop()
            if notes.is_valid_key_name(prefix) and prefix != key.name:
                key.name = prefix
                key.verifier_key = notes.verifier_key(prefix, private)
                key.save(update_fields=["name", "verifier_key"])
        for head in heads:
            head.origin = origins.get(head.pk) or f"{key.name}/{head.engagement_id}"
            head.save(update_fields=["origin"])
            if private is None or not notes.is_valid_key_name(head.origin):
                continue
            for checkpoint in Checkpoint.objects.filter(engagement_id=head.engagement_id):
                text = checkpoint.note[: checkpoint.note.rfind("\n\n") + 1]
                signed = notes.sign_note(text, head.origin, private)
                line = signed[len(text) + 1 :].rstrip("\n")
                note = notes.add_signature_lines(checkpoint.note, [line])
                # Checkpoint rows are append-only for the application; this migration adds a
                # signature line to the same signed text, it changes no statement.
                Checkpoint.objects.filter(pk=checkpoint.pk).update(note=note)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_sealing_origin_witnesses"),
        ("core", "0002_workspace_currency_workspace_late_logging_days_and_more"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
