"""/v1/notifications: the caller's in-app notifications, newest first; mark one or all read."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import notifications
from server.api.pagination import PageQuery, Pagination
from server.api.requests import Body, authenticated, json_body, query
from server.api.v1.paths import path_id
from server.api.v1.responses import listing, ok
from server.services import services


class NotificationQuery(PageQuery):
    unread: bool = Field(default=False, title="Unread only")


class ChannelChoice(Body):
    in_app: bool = Field(default=True, title="In the app")
    email: bool = Field(default=True, title="By email")
    push: bool = Field(default=True, title="By Web Push")


class PreferenceChanges(Body):
    invitation: ChannelChoice = Field(default=ChannelChoice(), title="Invitations to game sessions")
    webhook_disabled: ChannelChoice = Field(default=ChannelChoice(), title="A webhook endpoint was disabled")
    session_starting: ChannelChoice = Field(
        default=ChannelChoice(), title="A game session of yours starts within the hour"
    )


class NotificationPage(TypedDict):
    object: Literal["list"]
    data: list[notifications.Notification]  # newest first
    pagination: Pagination


class NotificationsRead(TypedDict):
    object: Literal["notification_read"]
    marked: int  # how many were unread


async def list_notifications(request: Request) -> Response:
    caller = await authenticated(request)
    params = query(request, NotificationQuery)
    db = services(request).db
    found, total = await notifications.list_for(db, caller.user, params.unread, params.limit, params.offset)
    return listing(found, params, total)


async def mark_read(request: Request) -> Response:
    caller = await authenticated(request)
    notification_id = path_id(request, "notification_id")
    marked = await notifications.mark_read(services(request).db, caller.user, notification_id)
    answer: NotificationsRead = {"object": "notification_read", "marked": marked}
    return ok(answer)


async def mark_all_read(request: Request) -> Response:
    caller = await authenticated(request)
    answer: NotificationsRead = {
        "object": "notification_read",
        "marked": await notifications.mark_read(services(request).db, caller.user, None),
    }
    return ok(answer)


async def preferences(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await notifications.preferences(services(request).db, caller.user))


async def update_preferences(request: Request) -> Response:
    caller = await authenticated(request)
    changes = (await json_body(request, PreferenceChanges)).model_dump(exclude_unset=True)
    return ok(await notifications.set_preferences(services(request).db, caller.user, changes))
