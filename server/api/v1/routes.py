"""The /v1 route table (the platform API), described for the API document like the legacy one. Errors
under /v1 render in the platform format (server/api/v1/responses.py) and every answer carries the plan's
request quota (server/api/v1/quota.py)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from server import assets as asset_rules
from server.api.endpoint import Endpoint, Handler, _get
from server.api.pagination import PageQuery
from server.api.v1 import (
    api_keys,
    assets,
    auth,
    billing,
    campaigns,
    notifications,
    password_reset,
    push,
    subscription,
    users,
    webhooks,
)
from server.api.v1.quota import QuotaMiddleware
from server.api.v1.responses import V1_EXCEPTION_HANDLERS
from server.api_keys import ApiKey
from server.assets import Asset
from server.campaigns import Campaign, CampaignMember
from server.notifications import NotificationPreferences
from server.profiles import Profile
from server.push_subscriptions import PushSubscription
from server.stripe_billing import CheckoutSession
from server.subscriptions import Subscription
from server.webhooks import Redelivery, WebhookEndpoint, WebhookPing

_AUTH, _USERS, _KEYS, _CAMPAIGNS, _ASSETS = "v1 Auth", "v1 Users", "v1 API keys", "v1 Campaigns", "v1 Assets"
_WEBHOOKS, _NOTIFICATIONS, _BILLING = "v1 Webhooks", "v1 Notifications", "v1 Billing"
_NOT_FOUND = (404,)


def _v1(method: str, path: str, handler: object, summary: str, tag: str, **more: object) -> Endpoint:
    return Endpoint(method, path, handler, summary, tag, enveloped=False, platform=True, **more)  # type: ignore[arg-type]


_ASSET_FORM = {
    "type": "object",
    "required": ["file", "type"],
    "properties": {
        "type": {"type": "string", "enum": list(asset_rules.ASSET_TYPES), "description": "send it before `file`"},
        "name": {"type": "string", "maxLength": 100},
        "file": {"type": "string", "format": "binary", "description": "an image, or audio for `audio`"},
    },
}

V1_ENDPOINTS: list[Endpoint] = [
    _v1(
        "POST",
        "/auth/login",
        auth.login,
        "Log in: a session token (bearer or cookie)",
        _AUTH,
        body=auth.Login,
        login=False,
        errors=(401,),
        answer=auth.SessionToken,
    ),
    _v1("POST", "/auth/logout", auth.logout, "End the session token", _AUTH, status=204),
    _v1(
        "POST",
        "/auth/refresh",
        auth.refresh,
        "A new session token; the presented one ends",
        _AUTH,
        answer=auth.SessionToken,
    ),
    _v1("GET", "/users/me", users.me, "Your profile", _USERS, answer=Profile),
    _v1(
        "PATCH",
        "/users/me",
        users.update_me,
        "Change your profile",
        _USERS,
        body=users.ProfileChanges,
        answer=Profile,
    ),
    _v1("DELETE", "/users/me", users.delete_me, "Close your account", _USERS, body=users.Closure, status=204),
    _v1(
        "POST",
        "/users/me/password",
        users.change_password,
        "Change your password; ends your other sessions",
        _USERS,
        body=users.PasswordChange,
        status=204,
    ),
    _v1(
        "POST",
        "/api-keys",
        api_keys.create,
        "Create an API key (shown once)",
        _KEYS,
        body=api_keys.NewApiKey,
        status=201,
        answer=ApiKey,
    ),
    _v1("GET", "/api-keys", api_keys.list_keys, "Your API keys", _KEYS, query=PageQuery, answer=api_keys.ApiKeyPage),
    _v1("DELETE", "/api-keys/{key_id}", api_keys.revoke, "Revoke an API key", _KEYS, errors=_NOT_FOUND, answer=ApiKey),
    _v1(
        "POST",
        "/campaigns",
        campaigns.create,
        "Create a campaign",
        _CAMPAIGNS,
        body=campaigns.NewCampaign,
        status=201,
        answer=Campaign,
    ),
    _v1(
        "GET",
        "/campaigns",
        campaigns.list_campaigns,
        "Your campaigns",
        _CAMPAIGNS,
        query=PageQuery,
        answer=campaigns.CampaignPage,
    ),
    _v1("GET", "/campaigns/{campaign_id}", campaigns.get, "A campaign", _CAMPAIGNS, errors=_NOT_FOUND, answer=Campaign),
    _v1(
        "PATCH",
        "/campaigns/{campaign_id}",
        campaigns.update,
        "Change a campaign (owner)",
        _CAMPAIGNS,
        body=campaigns.CampaignChanges,
        errors=_NOT_FOUND,
        answer=Campaign,
    ),
    _v1(
        "DELETE",
        "/campaigns/{campaign_id}",
        campaigns.delete,
        "Delete a campaign (owner)",
        _CAMPAIGNS,
        status=204,
        errors=_NOT_FOUND,
    ),
    _v1(
        "GET",
        "/campaigns/{campaign_id}/members",
        campaigns.list_members,
        "A campaign's members",
        _CAMPAIGNS,
        errors=_NOT_FOUND,
        answer=campaigns.CampaignMemberList,
    ),
    _v1(
        "POST",
        "/campaigns/{campaign_id}/members",
        campaigns.add_member,
        "Add a member or change a role (owner)",
        _CAMPAIGNS,
        body=campaigns.NewMember,
        status=201,
        errors=_NOT_FOUND,
        answer=CampaignMember,
    ),
    _v1(
        "DELETE",
        "/campaigns/{campaign_id}/members/{user_id}",
        campaigns.remove_member,
        "Remove a member (owner) or leave",
        _CAMPAIGNS,
        status=204,
        errors=_NOT_FOUND,
    ),
    _v1(
        "GET",
        "/campaigns/{campaign_id}/sessions",
        campaigns.list_sessions,
        "A campaign's game sessions",
        _CAMPAIGNS,
        errors=_NOT_FOUND,
        answer=campaigns.CampaignSessionList,
    ),
    _v1(
        "POST",
        "/assets",
        assets.upload,
        "Upload an asset",
        _ASSETS,
        upload=True,
        form=_ASSET_FORM,
        status=201,
        answer=Asset,
    ),
    _v1("GET", "/assets", assets.list_assets, "Your assets", _ASSETS, query=assets.AssetQuery, answer=assets.AssetPage),
    _v1("GET", "/assets/{asset_id}", assets.get, "An asset", _ASSETS, errors=_NOT_FOUND, answer=Asset),
    _v1("DELETE", "/assets/{asset_id}", assets.delete, "Delete an asset", _ASSETS, status=204, errors=_NOT_FOUND),
    _v1(
        "POST",
        "/auth/password-reset",
        password_reset.request_reset,
        "Ask for a password reset token by mail (the same answer for any address)",
        _AUTH,
        body=password_reset.ResetRequest,
        login=False,
        status=202,
        errors=(429,),
        answer=password_reset.ResetRequested,
    ),
    _v1(
        "POST",
        "/auth/password-reset/confirm",
        password_reset.confirm,
        "Set a new password with a reset token",
        _AUTH,
        body=password_reset.ResetConfirmation,
        login=False,
        status=204,
        errors=(429,),
    ),
    _v1("GET", "/subscription", subscription.get, "Your subscription", _BILLING, answer=Subscription),
    _v1(
        "POST",
        "/billing/checkout",
        billing.checkout,
        "A Stripe Checkout Session to upgrade your plan: its URL",
        _BILLING,
        body=billing.CheckoutRequest,
        errors=(404, 409),
        answer=CheckoutSession,
    ),
    # Stripe's events (requests without credentials count against no quota). 404 unless configured.
    _v1(
        "POST",
        "/billing/stripe-webhook",
        billing.stripe_webhook,
        "Stripe's subscription events (signed by Stripe)",
        _BILLING,
        login=False,
        errors=(404,),
    ),
    _v1(
        "GET",
        "/notifications",
        notifications.list_notifications,
        "Your notifications",
        _NOTIFICATIONS,
        query=notifications.NotificationQuery,
        answer=notifications.NotificationPage,
    ),
    _v1(
        "POST",
        "/notifications/read",
        notifications.mark_all_read,
        "Mark all read",
        _NOTIFICATIONS,
        answer=notifications.NotificationsRead,
    ),
    _v1(
        "GET",
        "/notifications/preferences",
        notifications.preferences,
        "Your notification preferences",
        _NOTIFICATIONS,
        answer=NotificationPreferences,
    ),
    _v1(
        "PATCH",
        "/notifications/preferences",
        notifications.update_preferences,
        "Change your notification preferences",
        _NOTIFICATIONS,
        body=notifications.PreferenceChanges,
        answer=NotificationPreferences,
    ),
    _v1(
        "GET",
        "/notifications/push-key",
        push.push_key,
        "The VAPID public key to subscribe to pushes with",
        _NOTIFICATIONS,
        answer=push.PushKey,
    ),
    _v1(
        "POST",
        "/notifications/push-subscriptions",
        push.subscribe,
        "Take your notifications as Web Push in this browser",
        _NOTIFICATIONS,
        body=push.NewPushSubscription,
        status=201,
        answer=PushSubscription,
    ),
    _v1(
        "GET",
        "/notifications/push-subscriptions",
        push.list_subscriptions,
        "Your browsers that take pushes",
        _NOTIFICATIONS,
        answer=push.PushSubscriptionList,
    ),
    _v1(
        "DELETE",
        "/notifications/push-subscriptions/{subscription_id}",
        push.unsubscribe,
        "Stop pushes to a browser",
        _NOTIFICATIONS,
        status=204,
        errors=_NOT_FOUND,
    ),
    _v1(
        "POST",
        "/notifications/{notification_id}/read",
        notifications.mark_read,
        "Mark a notification read",
        _NOTIFICATIONS,
        errors=_NOT_FOUND,
        answer=notifications.NotificationsRead,
    ),
    _v1(
        "POST",
        "/webhooks",
        webhooks.create,
        "Create a webhook endpoint (its secret is shown once)",
        _WEBHOOKS,
        body=webhooks.NewWebhook,
        status=201,
        answer=WebhookEndpoint,
    ),
    _v1(
        "GET",
        "/webhooks",
        webhooks.list_webhooks,
        "Your webhook endpoints",
        _WEBHOOKS,
        query=PageQuery,
        answer=webhooks.WebhookPage,
    ),
    _v1(
        "GET",
        "/webhooks/{webhook_id}",
        webhooks.get,
        "A webhook endpoint",
        _WEBHOOKS,
        errors=_NOT_FOUND,
        answer=WebhookEndpoint,
    ),
    _v1(
        "PATCH",
        "/webhooks/{webhook_id}",
        webhooks.update,
        "Change a webhook endpoint",
        _WEBHOOKS,
        body=webhooks.WebhookChanges,
        errors=_NOT_FOUND,
        answer=WebhookEndpoint,
    ),
    _v1(
        "DELETE",
        "/webhooks/{webhook_id}",
        webhooks.delete,
        "Delete a webhook endpoint and its log",
        _WEBHOOKS,
        status=204,
        errors=_NOT_FOUND,
    ),
    _v1(
        "GET",
        "/webhooks/{webhook_id}/deliveries",
        webhooks.list_deliveries,
        "A webhook endpoint's delivery log",
        _WEBHOOKS,
        query=PageQuery,
        errors=_NOT_FOUND,
        answer=webhooks.DeliveryPage,
    ),
    _v1(
        "POST",
        "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
        webhooks.redeliver,
        "Send a delivery again",
        _WEBHOOKS,
        status=202,
        errors=_NOT_FOUND,
        answer=Redelivery,
    ),
    _v1(
        "POST",
        "/webhooks/{webhook_id}/ping",
        webhooks.ping,
        "Send a webhook.ping event to this endpoint",
        _WEBHOOKS,
        status=202,
        errors=_NOT_FOUND,
        answer=WebhookPing,
    ),
]

# Outside /v1: the bytes of assets, public, cacheable for ever, named by their content hash.
V1_ROOT_ENDPOINTS: list[Endpoint] = [
    _get("/assets/{name}", assets.serve, "An asset's bytes", _ASSETS, login=False, errors=_NOT_FOUND, media_type="*/*"),
]


def _by_method(handlers: dict[str, Handler]) -> Handler:
    async def dispatch(request: Request) -> Response:
        handler = handlers["GET" if request.method == "HEAD" else request.method]
        request.scope["endpoint"] = handler  # so the request log names the operation's route
        return await handler(request)

    return dispatch


def _routes(endpoints: list[Endpoint]) -> list[Route]:
    """One route per path, dispatching on the method: with a route per method, Starlette's 405 would list
    only the first route's methods in Allow."""
    by_path: dict[str, dict[str, Handler]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint.handler
    return [Route(path, _by_method(handlers), methods=list(handlers)) for path, handlers in by_path.items()]


# The quota middleware sits outside the exception middleware, so that errors carry its headers too.
V1 = Mount(
    "/v1",
    routes=_routes(V1_ENDPOINTS),
    middleware=[Middleware(QuotaMiddleware), Middleware(ExceptionMiddleware, handlers=V1_EXCEPTION_HANDLERS)],
)
