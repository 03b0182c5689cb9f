"""/v1/campaigns: campaigns, their members and their game sessions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from typing_extensions import TypedDict

from server import campaigns
from server.api.pagination import PageQuery, Pagination
from server.api.requests import Body, authenticated, json_body, query
from server.api.v1.paths import path_id
from server.api.v1.responses import created, listing, no_content, ok
from server.errors import Invalid
from server.services import services


class NewCampaign(Body):
    name: str = Field(title="Name", min_length=1, max_length=100)
    system: str = Field(default="becmi", title="System", min_length=1, max_length=50)
    description: str = Field(default="", title="Description", max_length=5000)


def _absent_when_omitted(schema: dict[str, Any]) -> None:
    """An omitted field is left as it is, so the document names no default for it."""
    schema.pop("default", None)


class CampaignChanges(Body):
    """Only the fields given change; none of them may be null."""

    name: str = Field(default="", title="Name", min_length=1, max_length=100, json_schema_extra=_absent_when_omitted)
    system: str = Field(default="", title="System", min_length=1, max_length=50, json_schema_extra=_absent_when_omitted)
    description: str = Field(default="", title="Description", max_length=5000, json_schema_extra=_absent_when_omitted)


class NewMember(Body):
    username: str = Field(title="Username", min_length=1, max_length=50)
    role: Literal["dm", "player"] = Field(default="player", title="Role")


class CampaignPage(TypedDict):
    object: Literal["list"]
    data: list[campaigns.Campaign]
    pagination: Pagination


class CampaignMemberList(TypedDict):
    object: Literal["list"]
    data: list[campaigns.CampaignMember]  # by when they joined


class CampaignSessionList(TypedDict):
    object: Literal["list"]
    data: list[campaigns.CampaignSession]  # by date, at most 500


async def create(request: Request) -> Response:
    caller = await authenticated(request)
    body = await json_body(request, NewCampaign)
    campaign = await campaigns.create(services(request).db, caller.user, caller.plan, body.model_dump())
    return created(campaign, f"/v1/campaigns/{campaign['id']}")


async def list_campaigns(request: Request) -> Response:
    caller = await authenticated(request)
    params = query(request, PageQuery)
    found, total = await campaigns.list_for(services(request).db, caller.user, params.limit, params.offset)
    return listing(found, params, total)


async def get(request: Request) -> Response:
    caller = await authenticated(request)
    return ok(await campaigns.get(services(request).db, caller.user, path_id(request, "campaign_id")))


async def update(request: Request) -> Response:
    caller = await authenticated(request)
    campaign_id = path_id(request, "campaign_id")
    changes = (await json_body(request, CampaignChanges)).model_dump(exclude_unset=True)
    if not changes:
        raise Invalid({"body": "Give at least one of name, system, description"})
    return ok(await campaigns.update(services(request).db, caller.user, campaign_id, changes))


async def delete(request: Request) -> Response:
    caller = await authenticated(request)
    await campaigns.delete(services(request).db, caller.user, path_id(request, "campaign_id"))
    return no_content()


async def list_members(request: Request) -> Response:
    caller = await authenticated(request)
    found = await campaigns.members(services(request).db, caller.user, path_id(request, "campaign_id"))
    members: CampaignMemberList = {"object": "list", "data": found}
    return ok(members)


async def add_member(request: Request) -> Response:
    caller = await authenticated(request)
    campaign_id = path_id(request, "campaign_id")
    body = await json_body(request, NewMember)
    member = await campaigns.add_member(services(request).db, caller.user, campaign_id, body.username, body.role)
    return created(member, f"/v1/campaigns/{campaign_id}/members/{member['user_id']}")


async def remove_member(request: Request) -> Response:
    caller = await authenticated(request)
    campaign_id, user_id = path_id(request, "campaign_id"), path_id(request, "user_id")
    await campaigns.remove_member(services(request).db, caller.user, campaign_id, user_id)
    return no_content()


async def list_sessions(request: Request) -> Response:
    caller = await authenticated(request)
    found = await campaigns.sessions_of(services(request).db, caller.user, path_id(request, "campaign_id"))
    sessions: CampaignSessionList = {"object": "list", "data": found}
    return ok(sessions)
