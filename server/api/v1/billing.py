"""Billing through Stripe: POST /v1/billing/checkout (a Checkout Session for an upgrade; 404 unless
STRIPE_SECRET_KEY is set) and Stripe's webhook, POST /v1/billing/stripe-webhook (without credentials, so no
request quota counts it; 404 unless STRIPE_WEBHOOK_SECRET is set; 400 when the signature does not verify)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from server import stripe_billing
from server.api.envelope import JSONResponse
from server.api.requests import Body, authenticated, json_body, read_limited
from server.api.v1.responses import ok
from server.errors import NotFound
from server.services import services


class CheckoutRequest(Body):
    plan: Literal["basic", "premium", "enterprise"] = Field(title="Plan", description="the plan to upgrade to")


async def checkout(request: Request) -> Response:
    caller = await authenticated(request)
    body = await json_body(request, CheckoutRequest)
    found = services(request)
    settings = found.settings
    config = stripe_billing.Checkout(
        settings.stripe_secret_key, settings.stripe_prices, settings.public_url, settings.stripe_api_base
    )
    return ok(await stripe_billing.checkout(found.db, caller.user, body.plan, config))


async def stripe_webhook(request: Request) -> Response:
    found = services(request)
    secret = found.settings.stripe_webhook_secret
    if not secret:
        raise NotFound("Billing through Stripe is not configured")
    payload = await read_limited(request, found.settings.max_body_size)
    event = stripe_billing.verified(payload, request.headers.get("stripe-signature", ""), secret)
    result = await stripe_billing.handle_event(found.db, dict(found.settings.stripe_prices), event)
    return JSONResponse({"received": True, "result": result})
