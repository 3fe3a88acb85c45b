"""API of the core: who you are, your notices, the workspace's clients and members (as the
role allows: the provider's people see them, clients and experts do not)."""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from confiance import access
from confiance.api.common import Cursor, caller, require
from confiance.core import erasure, selectors, services
from confiance.core.models import Client, Membership, Notice, Role

router = Router(tags=["workspace"])


class MeOut(Schema):
    user_id: int
    email: str
    full_name: str
    workspace: str
    role: Role
    client_id: int | None
    token_scope: str
    token_expires_at: datetime | None


@router.get("/me", response=MeOut, summary="Who this token acts for")
def me(request: HttpRequest) -> MeOut:
    membership = caller(request)
    token = request.api_token  # type: ignore[attr-defined]
    return MeOut(
        user_id=membership.user_id,
        email=membership.user.email,
        full_name=membership.user.full_name,
        workspace=membership.workspace.slug,
        role=Role(membership.role),
        client_id=membership.client_id,
        token_scope=token.scope,
        token_expires_at=token.expires_at,
    )


@router.get(
    "/me/data",
    response=dict[str, Any],
    summary="Everything this workspace holds about you (the same file as the page's download)",
)
def my_data(request: HttpRequest) -> dict[str, Any]:
    return selectors.person_data(fetched_by=caller(request))


class NoticeOut(Schema):
    id: int
    kind: str
    text: str = Field(..., description="In the language of the request (Accept-Language).")
    link: str
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_text(obj: Notice) -> str:
        return obj.text()


class ReadOut(Schema):
    marked_read: int


@router.get("/notices", response=list[NoticeOut], summary="Your notices, newest first")
@paginate(Cursor)
def list_notices(request: HttpRequest, unread: bool = False) -> QuerySet[Notice]:
    membership = caller(request)
    notices = Notice.objects.filter(
        user_id=membership.user_id, workspace_id=membership.workspace_id
    )
    return notices.filter(read_at__isnull=True) if unread else notices


@router.post("/notices/read", response=ReadOut, summary="Mark all your notices read")
def read_notices(request: HttpRequest) -> ReadOut:
    return ReadOut(marked_read=services.notices_mark_read(membership=caller(request)))


class ClientOut(Schema):
    id: int
    name: str
    created_at: datetime


class ClientIn(Schema):
    name: str = Field(..., max_length=150)


@router.get(
    "/clients", response=list[ClientOut], summary="Client organisations (the provider's people)"
)
@paginate(Cursor)
def list_clients(request: HttpRequest) -> QuerySet[Client]:
    membership = caller(request)
    require(access.is_internal(membership))
    return selectors.client_list(fetched_by=membership)


@router.post("/clients", response={201: ClientOut}, summary="Add a client (owner and consultants)")
def create_client(request: HttpRequest, data: ClientIn) -> tuple[int, Client]:
    membership = caller(request)
    require(access.can_manage_engagements(membership))
    return 201, services.client_create(membership=membership, name=data.name)


class MemberOut(Schema):
    id: int
    user_id: int
    email: str
    full_name: str
    role: Role
    client_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_full_name(obj: Membership) -> str:
        return obj.user.full_name


@router.post(
    "/members/{membership_id}/remove",
    response=MemberOut,
    summary="End someone's access at once; their history stays attributed (the owner)",
)
def remove_member(request: HttpRequest, membership_id: int) -> Membership:
    membership = caller(request)
    require(access.can_remove_members(membership))
    removed = services.membership_remove(by=membership, membership_id=membership_id)
    removed.pk = membership_id  # deleted: answered as it was
    return removed


class ErasureOut(Schema):
    pseudonym_id: int = Field(..., description="The account the person's history now points to.")
    rows_moved: int
    texts_replaced: int
    openings_erased: int = Field(..., description="Ledger openings dropped (fields now erased).")
    account_anonymised: bool = Field(..., description="False if they belong to other workspaces.")


@router.post(
    "/people/{user_id}/erase",
    response=ErasureOut,
    summary="Erase a person from the workspace; every ledger still verifies (the owner)",
)
def erase_person(request: HttpRequest, user_id: int) -> ErasureOut:
    membership = caller(request)
    require(access.can_erase_people(membership))
    report = erasure.person_erase(by=membership, user_id=user_id)
    return ErasureOut(**report.__dict__)


@router.get(
    "/members", response=list[MemberOut], summary="The workspace's people (the provider's people)"
)
@paginate(Cursor)
def list_members(request: HttpRequest) -> QuerySet[Membership]:
    membership = caller(request)
    require(access.can_see_members(membership))
    return selectors.member_list(fetched_by=membership)
