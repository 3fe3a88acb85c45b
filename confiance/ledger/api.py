"""API of an engagement's ledger: signed checkpoint, inclusion and consistency proofs, bundle.

Readable by whoever may see the engagement (clients of its client included): leaves carry
sealed commitments for what some reader may not see, and each caller gets the openings of
the fields it may see only (no amount for a client when amounts are hidden from clients).
Authenticated by a personal token, or by the browser session so the
portal's JavaScript can check the ledger; these endpoints are GET only, so CSRF does not apply.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

import base64
from datetime import datetime
from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import SessionAuth

from confiance import access
from confiance.api.auth import TokenAuth
from confiance.core.models import Membership, User
from confiance.core.ranges import file_download
from confiance.core.session_user import engagement_from_session
from confiance.engagements.models import Engagement
from confiance.ledger import prepared, selectors, services
from confiance.ledger.models import LedgerBundle, Witness
from confiance.ledger.witnessing import note_with_cosignatures

# The largest size a client may ask about; beyond it answers 400 before reaching the database
# (whose integers are 64-bit), whatever the log's actual size.
MAX_SIZE = 2**62
# Seconds a caller waiting for a prepared bundle is asked to wait before asking again.
PREPARED_RETRY_SECONDS = 5


class SessionUserAuth(SessionAuth):
    """The logged-in user of the browser session (active only); the membership comes later."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | Membership | None:
        # The user, the membership and the engagement the path names in one query when the
        # session allows it (core.session_user); anything else as Django checks a session.
        engagement_id = _path_engagement_id(request)
        if engagement_id is not None:
            found = engagement_from_session(request, engagement_id)
            if found is not None:
                request.session_engagement = found  # type: ignore[attr-defined]
                return found[0]
        user = request.user
        if user.is_authenticated and user.is_active:
            return user  # type: ignore[return-value]
        return None


def _path_engagement_id(request: HttpRequest) -> int | None:
    """The engagement id of the path, if it is one a database could hold."""
    match = request.resolver_match
    raw = match.kwargs.get("engagement_id") if match is not None else None
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return value if 0 < value < 2**63 else None


router = Router(tags=["ledger"], auth=[TokenAuth(), SessionUserAuth()])


class WitnessOut(Schema):
    name: str
    verifier_key: str  # C2SP vkey of the witness's cosignatures (type 0x04)
    side: str  # "provider" or "client": who named it
    last_cosigned_at: datetime | None
    last_error: str  # why it has not cosigned lately ("" if it has)


class RotationOut(Schema):
    index: int  # the `key.rotated` entry
    previous_key: str
    new_key: str
    announcement: str  # signed note naming the log and its new key, signed by the previous key
    reason: str
    at: str


class CheckpointOut(Schema):
    origin: str
    size: int
    root: str  # hex
    note: str  # the C2SP signed note, with the witnesses' cosignatures gathered so far
    public_key: str  # the vkey of this log (name = origin); never trust it: pin it
    workspace_key: str  # the workspace's vkey, which covers every log named <its name>/...
    created_at: datetime
    witnesses: list[WitnessOut]
    rotations: list[RotationOut]  # key changes announced in the log, oldest first


class EntryOut(Schema):
    index: int
    data: str  # the leaf: canonical JSON, exactly the bytes hashed ("" if withheld)
    leaf_hash: str  # hex
    tree_size: int
    root: str  # hex, of the tree of tree_size leaves (a checkpoint vouches for it)
    proof: list[str]  # base64 hashes, RFC 9162 order
    # Of the sealed fields this caller may see: {field: {"salt": base64, "json": value}}.
    openings: dict[str, dict[str, str]]
    erased: list[str]  # sealed fields this caller may see whose opening was erased
    withheld: bool  # a legacy leaf showing what this caller may not see: hash only


class ConsistencyOut(Schema):
    old_size: int
    new_size: int
    proof: list[str]  # base64 hashes, RFC 9162 order


def _membership(request: HttpRequest, engagement_id: int) -> Membership:
    """The caller's membership in the engagement's workspace, whichever way it authenticated."""
    auth: Any = request.auth  # type: ignore[attr-defined]
    if isinstance(auth, Membership):
        membership: Membership | None = auth
    else:
        # A session user may belong to several workspaces: use the engagement's own.
        membership = access.membership_for_engagement(auth, engagement_id)
    if membership is None:
        raise Http404
    return membership


def _caller(request: HttpRequest, engagement_id: int) -> tuple[Membership, Engagement]:
    """The caller's membership, and the engagement if the caller may see it; or 404."""
    found: tuple[Membership, Engagement] | None = getattr(request, "session_engagement", None)
    if found is not None and found[1].pk == engagement_id:  # read with the session's user
        access.check_engagement(*found)
        return found
    membership = _membership(request, engagement_id)
    return membership, access.get_engagement(membership, engagement_id)


def _engagement(request: HttpRequest, engagement_id: int) -> Engagement:
    """The engagement if the caller may see it, or 404."""
    return _caller(request, engagement_id)[1]


def _bounded(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_SIZE:
        raise HttpError(
            400,
            _("“%(name)s” must be a whole number between 0 and the number of entries.")
            % {"name": name},
        )


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _workspace_key(engagement: Engagement) -> str:
    return services.workspace_key_get_or_create(workspace=engagement.workspace).verifier_key


@router.get(
    "/{engagement_id}/ledger/checkpoint",
    response=CheckpointOut,
    summary="The latest signed checkpoint of the engagement's ledger",
)
def ledger_checkpoint(request: HttpRequest, engagement_id: int) -> CheckpointOut:
    """Checkpoints are signed shortly after each append; cosignatures follow when witnesses
    answer. Check the note with a key you pinned, never with `public_key` alone."""
    engagement = _engagement(request, engagement_id)
    checkpoint = services.checkpoint_latest(engagement=engagement)
    witnesses = Witness.objects.filter(engagement=engagement).order_by("created_at", "pk")
    return CheckpointOut(
        origin=services.origin_of(engagement),
        size=checkpoint.size,
        root=bytes(checkpoint.root_hash).hex(),
        note=note_with_cosignatures(checkpoint),
        public_key=services.log_verifier_key(engagement),
        workspace_key=_workspace_key(engagement),
        created_at=checkpoint.created_at,
        witnesses=[
            WitnessOut(
                name=w.name,
                verifier_key=w.verifier_key,
                side=w.side,
                last_cosigned_at=w.last_cosigned_at,
                last_error=w.last_error,
            )
            for w in witnesses
        ],
        rotations=[
            RotationOut(**vars(rotation))
            for rotation in selectors.key_rotations(engagement=engagement)
        ],
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
    membership, engagement = _caller(request, engagement_id)
    audiences = services.reader_audiences(membership)
    try:
        found = selectors.entry_with_proof(engagement=engagement, index=index, size=size)
    except selectors.LedgerRangeError as error:
        raise HttpError(400, str(error)) from None
    openings = selectors.openings_for(
        engagement=engagement, audiences=audiences, start=index, stop=index + 1
    ).get(index, [])
    shown = selectors.entry_for_reader(index, found.data, audiences, openings)
    return EntryOut(
        index=found.index,
        data=str(shown.get("data", "")),
        leaf_hash=found.leaf_hash.hex(),
        tree_size=found.tree_size,
        root=found.root.hex(),
        proof=[_b64(node) for node in found.proof],
        openings=shown.get("openings", {}),
        erased=shown.get("erased", []),
        withheld="leaf_hash" in shown,
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


class BundlePreparingOut(Schema):
    status: str  # "queued", "building" or "failed" (tried again after a few minutes)
    size: int  # entries the bundle will cover (its checkpoint's size)
    done: int  # entries written so far
    retry_after: int  # seconds before asking again
    detail: str


def bundle_stream(
    membership: Membership, engagement: Engagement, size: int
) -> StreamingHttpResponse:
    """A small log's bundle, streamed at once (selectors.bundle_chunks, up to `size`)."""
    chunks = selectors.bundle_chunks(
        engagement=engagement,
        public_key=services.log_verifier_key(engagement),
        origin=services.origin_of(engagement),
        audiences=services.reader_audiences(membership),
        size=size,
    )
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in chunks), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{bundle_filename(engagement)}"'
    return response


def bundle_filename(engagement: Engagement) -> str:
    return f"ledger-{engagement.workspace.slug}-{engagement.pk}.json"


def bundle_file(
    request: HttpRequest, engagement: Engagement, bundle: LedgerBundle
) -> HttpResponseBase | None:
    """A prepared bundle's file as it is, or None if it went meanwhile; a download that stopped
    can be resumed (Range, with If-Range naming this build of the bundle)."""
    handle = prepared.bundle_open(bundle)
    if handle is None:
        return None
    ready = bundle.ready_at.timestamp() if bundle.ready_at else 0
    return file_download(
        request,
        handle,
        filename=bundle_filename(engagement),
        content_type="application/json",
        etag=f'"bundle-{bundle.pk}-{bundle.size}-{bundle.cosignatures}-{ready:.6f}"',
    )


@router.get(
    "/{engagement_id}/ledger/bundle",
    summary="The whole ledger as a bundle to check offline with `confiance verify`",
    response={200: dict[str, Any], 202: BundlePreparingOut},
)
def ledger_bundle(request: HttpRequest, engagement_id: int) -> HttpResponseBase:
    """Entries, every checkpoint oldest first, consistency proofs between them, public key.

    A log of at most LEDGER_BUNDLE_INLINE_MAX entries (10,000 by default) comes at once. A
    larger one is prepared by the task worker: until it is ready the answer is 202 with the
    progress and a `Retry-After` header; ask again, and the file comes (200). A prepared
    bundle covers the latest checkpoint when it was asked for.
    """
    membership, engagement = _caller(request, engagement_id)
    answer = prepared.bundle_prepare(membership=membership, engagement=engagement)
    if answer.inline:
        return bundle_stream(membership, engagement, answer.size)
    bundle = answer.bundle
    assert bundle is not None
    if answer.ready:
        served = bundle_file(request, engagement, bundle)
        if served is not None:
            return served
    status = bundle.status if not answer.ready else LedgerBundle.Status.QUEUED
    retry = PREPARED_RETRY_SECONDS
    if status == LedgerBundle.Status.FAILED:
        retry = prepared.RETRY_FAILED_SECONDS
        detail = _("The bundle could not be prepared; it will be tried again in a few minutes.")
    else:
        detail = _(
            "The bundle of %(size)s entries is being prepared: %(done)s written so far. "
            "Ask again in a few seconds."
        ) % {"size": bundle.size, "done": bundle.done}
    body = BundlePreparingOut(
        status=status, size=bundle.size, done=bundle.done, retry_after=retry, detail=detail
    )
    response = JsonResponse(body.dict(), status=202)
    response["Retry-After"] = str(retry)
    return response
