"""Stripe's webhook: POST /v1/billing/stripe-webhook (without credentials, so no request quota counts
it). 404 unless STRIPE_WEBHOOK_SECRET is set; 400 when the signature does not verify."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server import stripe_billing
from server.api.envelope import JSONResponse
from server.api.requests import read_limited
from server.errors import NotFound
from server.services import services


async def stripe_webhook(request: Request) -> Response:
    found = services(request)
    secret = found.settings.stripe_webhook_secret
    if not secret:
        raise NotFound("Billing through Stripe is not configured")
    payload = await read_limited(request, found.settings.max_body_size)
    event = stripe_billing.verified(payload, request.headers.get("stripe-signature", ""), secret)
    result = await stripe_billing.handle_event(found.db, dict(found.settings.stripe_prices), event)
    return JSONResponse({"received": True, "result": result})
