"""API of an engagement's ledger: signed checkpoint, inclusion and consistency proofs, bundle.

Readable by whoever may see the engagement (clients of its client included: leaves carry no
internal note nor rate). Authenticated by a personal token, or by the browser session so the
portal's JavaScript can check the ledger; these endpoints are GET only, so CSRF does not apply.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

import base64
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import SessionAuth

from confiance import access
from confiance.api.auth import TokenAuth
from confiance.core.models import Membership, User
from confiance.engagements.models import Engagement
from confiance.ledger import selectors, services
from confiance.ledger.models import WorkspaceKey

# The largest size a client may ask about; beyond it answers 400 before reaching the database
# (whose integers are 64-bit), whatever the log's actual size.
MAX_SIZE = 2**62


class SessionUserAuth(SessionAuth):
    """The logged-in user of the browser session (active only); the membership comes later."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if user.is_authenticated and user.is_active:
            return user  # type: ignore[return-value]
        return None


router = Router(tags=["ledger"], auth=[TokenAuth(), SessionUserAuth()])


class CheckpointOut(Schema):
    origin: str
    size: int
    root: str  # hex
    note: str  # the C2SP signed note, as signed
    public_key: str  # the signed-note verifier key ("vkey") of the workspace
    created_at: datetime


class EntryOut(Schema):
    index: int
    data: str  # the leaf: canonical JSON, exactly the bytes hashed
    leaf_hash: str  # hex
    tree_size: int
    root: str  # hex, of the tree of tree_size leaves (a checkpoint vouches for it)
    proof: list[str]  # base64 hashes, RFC 9162 order


class ConsistencyOut(Schema):
    old_size: int
    new_size: int
    proof: list[str]  # base64 hashes, RFC 9162 order


def _engagement(request: HttpRequest, engagement_id: int) -> Engagement:
    """The engagement if the caller may see it, whichever way the caller authenticated; or 404."""
    auth: Any = request.auth  # type: ignore[attr-defined]
    if isinstance(auth, Membership):
        membership: Membership | None = auth
    else:
        # A session user may belong to several workspaces: use the engagement's own.
        slug = (
            Engagement.objects.filter(pk=engagement_id)
            .values_list("workspace__slug", flat=True)
            .first()
        )
        membership = access.membership_for(auth, slug) if slug is not None else None
    if membership is None:
        raise Http404
    return access.get_engagement(membership, engagement_id)


def _bounded(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_SIZE:
        raise HttpError(
            400,
            _("“%(name)s” must be a whole number between 0 and the number of entries.")
            % {"name": name},
        )


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _verifier_key(engagement: Engagement) -> str:
    # Exists once a checkpoint was signed, which checkpoint_latest ensures before this runs.
    return (
        WorkspaceKey.objects.filter(workspace_id=engagement.workspace_id)
        .values_list("verifier_key", flat=True)
        .get()
    )


@router.get(
    "/{engagement_id}/ledger/checkpoint",
    response=CheckpointOut,
    summary="The latest signed checkpoint of the engagement's ledger",
)
def ledger_checkpoint(request: HttpRequest, engagement_id: int) -> CheckpointOut:
    """Signed lazily: a new checkpoint only when facts were appended since the last one."""
    engagement = _engagement(request, engagement_id)
    checkpoint = services.checkpoint_latest(engagement=engagement)
    return CheckpointOut(
        origin=services.origin_of(engagement),
        size=checkpoint.size,
        root=bytes(checkpoint.root_hash).hex(),
        note=checkpoint.note,
        public_key=_verifier_key(engagement),
        created_at=checkpoint.created_at,
    )


@router.get(
    "/{engagement_id}/ledger/entries/{index}",
    response=EntryOut,
    summary="One ledger entry with its inclusion proof",
)
def ledger_entry(
    request: HttpRequest, engagement_id: int, index: int, size: int | None = None
) -> EntryOut:
    """The proof is for the tree of `size` entries (default: the whole log now)."""
    _bounded("index", index)
    _bounded("size", size)
    engagement = _engagement(request, engagement_id)
    try:
        found = selectors.entry_with_proof(engagement=engagement, index=index, size=size)
    except selectors.LedgerRangeError as error:
        raise HttpError(400, str(error)) from None
    return EntryOut(
        index=found.index,
        data=found.data,
        leaf_hash=found.leaf_hash.hex(),
        tree_size=found.tree_size,
        root=found.root.hex(),
        proof=[_b64(node) for node in found.proof],
    )


@router.get(
    "/{engagement_id}/ledger/consistency",
    response=ConsistencyOut,
    summary="Proof that the ledger at size `old` is a prefix of the ledger at size `new`",
)
def ledger_consistency(
    request: HttpRequest, engagement_id: int, old: int = 0, new: int | None = None
) -> ConsistencyOut:
    """`new` defaults to the whole log now; old > new, or new beyond the log, is a 400."""
    _bounded("old", old)
    _bounded("new", new)
    engagement = _engagement(request, engagement_id)
    try:
        new_size, proof = selectors.consistency(engagement=engagement, old=old, new=new)
    except selectors.LedgerRangeError as error:
        raise HttpError(400, str(error)) from None
    return ConsistencyOut(old_size=old, new_size=new_size, proof=[_b64(node) for node in proof])


@router.get(
    "/{engagement_id}/ledger/bundle",
    summary="The whole ledger as a bundle to check offline with `confiance verify`",
    response={200: dict[str, Any]},
)
def ledger_bundle(request: HttpRequest, engagement_id: int) -> StreamingHttpResponse:
    """Entries, every checkpoint oldest first, consistency proofs between them, public key."""
    engagement = _engagement(request, engagement_id)
    services.checkpoint_latest(engagement=engagement)  # so that every entry is signed
    chunks = selectors.bundle_chunks(
        engagement=engagement,
        public_key=_verifier_key(engagement),
        origin=services.origin_of(engagement),
    )
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in chunks), content_type="application/json"
    )
    filename = f"ledger-{engagement.workspace.slug}-{engagement.pk}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
