"""/v1/webhooks: endpoints (the secret is shown once), their delivery log, redelivery and a test ping."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import webhooks
from server.api.pagination import PageQuery, Pagination
from server.api.requests import Body, authenticated, json_body, query
from server.api.v1.paths import path_id
from server.api.v1.responses import created, listing, no_content, ok
from server.errors import Invalid
from server.services import services
from server.webhook_events import EVENT_TYPES, EventType
from server.webhook_urls import MAX_URL


class NewWebhook(Body):
    url: str = Field(title="URL", min_length=1, max_length=MAX_URL)
    events: list[EventType] = Field(title="Events", min_length=1, max_length=len(EVENT_TYPES))
    description: str = Field(default="", title="Description", max_length=500)
    enabled: bool = Field(default=True, title="Enabled")


def _absent_when_omitted(schema: dict[str, Any]) -> None:
    """An omitted field is left as it is, so the document names no default for it."""
    schema.pop("default", None)


class WebhookChanges(Body):
    """Only the fields given change."""

    url: str = Field(default="", title="URL", min_length=1, max_length=MAX_URL, json_schema_extra=_absent_when_omitted)
    events: list[EventType] = Field(
        default=[], title="Events", min_length=1, max_length=len(EVENT_TYPES), json_schema_extra=_absent_when_omitted
    )
    description: str = Field(default="", title="Description", max_length=500, json_schema_extra=_absent_when_omitted)
    enabled: bool = Field(default=True, title="Enabled", json_schema_extra=_absent_when_omitted)


class WebhookPage(TypedDict):
    object: Literal["list"]
    data: list[webhooks.WebhookEndpoint]  # newest first
    pagination: Pagination


class DeliveryPage(TypedDict):
    object: Literal["list"]
    data: list[webhooks.WebhookDelivery]  # newest first
    pagination: Pagination


async def create(request: Request) -> Response:
    caller = await authenticated(request)
    body = await json_body(request, NewWebhook)
    found = services(request)
    endpoint = await webhooks.create(found.db, found.settings.webhooks, caller.user, body.model_dump())
    return created(endpoint, f"/v1/webhooks/{endpoint['id']}")


async def list_webhooks(request: Request) -> Response:
    caller = await authenticated(request)
    params = query(request, PageQuery)
    found, total = await webhooks.list_for(services(request).db, caller.user, params.limit, params.offset)
    return listing(found, params, total)


async def get(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await webhooks.get(services(request).db, caller.user, path_id(request, "webhook_id")))


async def update(request: Request) -> Response:
    caller = await authenticated(request)
    endpoint_id = path_id(request, "webhook_id")
    changes = (await json_body(request, WebhookChanges)).model_dump(exclude_unset=True)
    if not changes:
        raise Invalid({"body": "Give at least one of url, events, description, enabled"})
    found = services(request)
    return ok(await webhooks.update(found.db, found.settings.webhooks, caller.user, endpoint_id, changes))


async def delete(request: Request) -> Response:
    caller = await authenticated(request)
    await webhooks.delete(services(request).db, caller.user, path_id(request, "webhook_id"))
    return no_content()


async def list_deliveries(request: Request) -> Response:
    caller = await authenticated(request)
    params = query(request, PageQuery)
    endpoint_id = path_id(request, "webhook_id")
    db = services(request).db
    found, total = await webhooks.deliveries(db, caller.user, endpoint_id, params.limit, params.offset)
    return listing(found, params, total)


async def redeliver(request: Request) -> Response:
    caller = await authenticated(request)
    endpoint_id, delivery_id = path_id(request, "webhook_id"), path_id(request, "delivery_id")
    return ok(await webhooks.redeliver(services(request).db, caller.user, endpoint_id, delivery_id), status=202)


async def ping(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await webhooks.ping(services(request).db, caller.user, path_id(request, "webhook_id")), status=202)
