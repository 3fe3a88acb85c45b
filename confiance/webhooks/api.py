"""API of webhooks (the workspace's owner): endpoints, their deliveries, ping and replay."""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from confiance import access
from confiance.api.common import Cursor, caller, require
from confiance.webhooks import selectors, services
from confiance.webhooks.events import EVENT_TYPES
from confiance.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])


class EventTypeOut(Schema):
    type: str
    label: str


class EndpointIn(Schema):
    url: str = Field(..., max_length=500, examples=["https://tools.example/hooks/confiance"])
    event_types: list[str] = Field(..., examples=[["time_entry.logged", "problem.raised"]])
    description: str = Field("", max_length=200)


class EndpointChangeIn(EndpointIn):
    active: bool = True


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    active: bool = Field(..., alias="is_active")
    disabled_at: datetime | None
    disabled_reason: str = Field(..., description="`gone`, `failures`, `paused` or empty.")
    failure_streak: int
    secret: str = Field(..., description="The signing secret (`whsec_...`, Standard Webhooks).")
    created_at: datetime

    @staticmethod
    def resolve_secret(obj: WebhookEndpoint) -> str:
        return services.endpoint_secret(obj)


class AttemptOut(Schema):
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    message_id: str = Field(..., description="The `webhook-id` header: the same on replays.")
    event_type: str
    status: str = Field(..., description="`pending`, `retrying`, `succeeded` or `failed`.")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    replay_of_id: int | None
    created_at: datetime
    finished_at: datetime | None
    payload: str = Field(..., alias="body", description="The exact body sent and signed.")
    tries: list[AttemptOut]

    @staticmethod
    def resolve_tries(obj: WebhookDelivery) -> list[WebhookAttempt]:
        return list(obj.tries.all())


def _owner(request: HttpRequest):  # type: ignore[no-untyped-def]
    membership = caller(request)
    require(access.can_manage_webhooks(membership))
    return membership


@router.get("/event-types", response=list[EventTypeOut], summary="Events one may subscribe to")
def event_types(request: HttpRequest) -> list[EventTypeOut]:
    _owner(request)
    return [EventTypeOut(type=code, label=str(label)) for code, label in EVENT_TYPES.items()]


@router.get("/endpoints", response=list[EndpointOut], summary="The workspace's webhook endpoints")
@paginate(Cursor)
def list_webhooks(request: HttpRequest) -> QuerySet[WebhookEndpoint]:
    return selectors.endpoint_list(fetched_by=_owner(request))


@router.post("/endpoints", response={201: EndpointOut}, summary="Add a webhook endpoint")
def create_webhook(request: HttpRequest, data: EndpointIn) -> tuple[int, WebhookEndpoint]:
    endpoint = services.endpoint_create(membership=_owner(request), **data.dict())
    return 201, endpoint


@router.get("/endpoints/{endpoint_id}", response=EndpointOut, summary="One webhook endpoint")
def get_webhook(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    return selectors.endpoint_get(fetched_by=_owner(request), endpoint_id=endpoint_id)


@router.post(
    "/endpoints/{endpoint_id}",
    response=EndpointOut,
    summary="Change an endpoint (its URL, events, pause or enable it again)",
)
def update_webhook(
    request: HttpRequest, endpoint_id: int, data: EndpointChangeIn
) -> WebhookEndpoint:
    return services.endpoint_update(
        membership=_owner(request), endpoint_id=endpoint_id, **data.dict()
    )


@router.post("/endpoints/{endpoint_id}/remove", response={204: None}, summary="Remove an endpoint")
def remove_webhook(request: HttpRequest, endpoint_id: int) -> tuple[int, None]:
    services.endpoint_remove(membership=_owner(request), endpoint_id=endpoint_id)
    return 204, None


@router.post(
    "/endpoints/{endpoint_id}/ping",
    response={202: DeliveryOut},
    summary="Send a test event (`webhook.ping`); the worker delivers it",
)
def ping_webhook(request: HttpRequest, endpoint_id: int) -> tuple[int, WebhookDelivery]:
    return 202, services.endpoint_ping(membership=_owner(request), endpoint_id=endpoint_id)


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response=list[DeliveryOut],
    summary="An endpoint's delivery log, newest first, with each attempt",
)
@paginate(Cursor)
def list_deliveries(request: HttpRequest, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    membership = _owner(request)
    endpoint = selectors.endpoint_get(fetched_by=membership, endpoint_id=endpoint_id)
    return selectors.delivery_list(fetched_by=membership, endpoint=endpoint)


@router.post(
    "/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut},
    summary="Send a delivered or failed message again (same webhook-id)",
)
def replay_delivery(request: HttpRequest, delivery_id: int) -> tuple[int, WebhookDelivery]:
    return 202, services.delivery_replay(membership=_owner(request), delivery_id=delivery_id)
