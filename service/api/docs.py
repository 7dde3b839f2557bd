"""OpenAPI helpers: error responses and examples for every operation."""

from collections import defaultdict
from typing import Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from service.api.errors import PROBLEM_JSON, STATUS_BY_CODE
from service.api.schemas import Problem

_DETAILS = {
    "invalid_json": "the request body is not valid JSON",
    "payload_too_large": "the request body is too large",
    "invalid_request": "Invalid content-length: 'x'",
    "idempotency_key_missing": "send an Idempotency-Key header with every money-moving POST",
    "unauthorized": "send Authorization: Bearer <api key>",
    "forbidden": "this API key lacks the 'payments:write' scope",
    "not_found": "no payment pay_01jd2x3y4z5a6b7c8d9e0f1g2h",
    "idempotency_key_in_use": "a request with this Idempotency-Key is still in progress",
    "invalid_state": "a voided payment cannot be captured",
    "validation_error": "the request is invalid",
    "idempotency_key_reused": "this Idempotency-Key was used with a different request",
    "amount_exceeds_capturable": "1500 exceeds the capturable 999 USD",
    "amount_exceeds_refundable": "1500 exceeds the refundable 999 USD",
    "operation_not_supported": "refund is not supported by this provider",
    "rate_limited": "rate limit of 40 requests exceeded; retry in 1s",
    "provider_error": "bizon refused the request: HTTP 409: order status does not allow it",
    "provider_unavailable": "bizon could not be reached; nothing was sent, it is safe to retry",
    "provider_circuit_open": (
        "bizon is failing, so its circuit is open; nothing was sent, retry in 30 s"
    ),
    "dependency_unavailable": "PostgreSQL is unavailable: ConnectionRefusedError",
    "invalid_signature": "the notification's signature does not match",
    "webhook_in_progress": "this event is being processed; deliver it again later",
    "provider_order_not_found": "proxy_solutions has no such order: Order not found.",
    "provider_service_not_found": "proxy_solutions has no such service: Service not found.",
    "provider_validation_error": "proxy_solutions refused the request; its messages are in errors",
}

# Every operation: a parameter outside its documented constraints is a 422 too.
COMMON = (
    "invalid_request",
    "unauthorized",
    "forbidden",
    "validation_error",
    "rate_limited",
    "dependency_unavailable",
)
MONEY = (
    *COMMON,
    "invalid_json",
    "payload_too_large",
    "validation_error",
    "idempotency_key_missing",
    "idempotency_key_reused",
    "idempotency_key_in_use",
    "provider_error",
    "provider_unavailable",
    "provider_circuit_open",
)


def _example(code: str) -> Example:
    value: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": "…",
        "status": STATUS_BY_CODE[code],
        "detail": _DETAILS[code],
        "code": code,
        "request_id": "5f0c7a5e2b8d4d7e9a1f3c6b8e2d4a10",
    }
    if code == "validation_error":
        value["errors"] = [{"field": "amount", "message": "Expected `int`, got `str`"}]
    return Example(summary=code, value=value)


def problems(*codes: str) -> dict[int, ResponseSpec]:
    """The documented error responses, grouped by HTTP status, each with examples."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in dict.fromkeys(codes):  # once each, in the order given
        by_status[STATUS_BY_CODE[code]].append(code)
    return {
        status: ResponseSpec(
            data_container=Problem,
            description="; ".join(f"`{code}`" for code in group),
            media_type=PROBLEM_JSON,
            generate_examples=False,
            examples=[_example(code) for code in group],
        )
        for status, group in sorted(by_status.items())
    }


CARD_PAYMENT = Example(
    summary="Card, authorize only",
    value={
        "amount": 999,
        "currency": "USD",
        "provider": "bizon",
        "capture": "manual",
        "payment_method": {
            "type": "card",
            "card": {
                "number": "4111111111111111",
                "cvv": "123",
                "exp_month": 12,
                "exp_year": 2030,
                "holder": "John Smith",
            },
        },
        "customer": {"email": "foo@bar.com", "ip": "8.8.8.8"},
        "description": "Book sale #453",
        "merchant_reference": "5678",
        "metadata": {"cart": "42"},
    },
)
HOSTED_PAYMENT = Example(
    summary="Hosted payment page",
    value={
        "amount": 2500,
        "currency": "EUR",
        "provider": "bizon",
        "payment_method": {"type": "hosted_page"},
        "return_url": "https://shop.example/back",
    },
)
CAPTURE = Example(summary="Partial capture", value={"amount": 500})
REFUND = Example(summary="Partial refund", value={"amount": 200, "reason": "damaged item"})
WALLET_PAYMENT = Example(
    summary="Apple Pay token",
    value={
        "amount": 1500,
        "currency": "USD",
        "provider": "bizon",
        "payment_method": {
            "type": "wallet_token",
            "wallet_token": {"type": "apple_pay", "token": "eyJwYXltZW50RGF0YSI6…"},
        },
        "customer": {"ip": "8.8.8.8"},
    },
)
PARES = Example(summary="3-D Secure 1: the PaRes", value={"pares": "eJzVWNmO4kq…"})
CRES = Example(
    summary="3-D Secure 2 challenge: the cres", value={"cres": "eyJ0cmFuc1N0YXR1cyI6IlkifQ=="}
)
RESUME = Example(summary="3-D Secure 2 method done", value={"resume": True})
REBILL = Example(
    summary="Monthly charge",
    value={"amount": 999, "cvv": "123", "customer": {"ip": "8.8.8.8"}, "description": "May"},
)
PAYOUT_TO_PAYMENT = Example(
    summary="To the card of a past payment",
    value={
        "amount": 500,
        "currency": "USD",
        "destination": {"type": "payment", "payment_id": "pay_01jd2x3y4z5a6b7c8d9e0f1g2h"},
        "customer": {"ip": "8.8.8.8"},
    },
)
PAYOUT_TO_CARD = Example(
    summary="To a card number",
    value={
        "amount": 2500,
        "currency": "EUR",
        "provider": "bizon",
        "destination": {"type": "card", "card": {"number": "4111111111111111", "holder": "J S"}},
    },
)
QUOTE = Example(
    summary="A month of 5 mobile proxies with a promo code, in euros",
    value={
        "service_id": 1,
        "location_id": 10,
        "quantity": 5,
        "period": 30,
        "multiport": True,
        "promocode": "SAVE10",
        "merchant": "card",
        "currency": "EUR",
        "lang": "EN",
    },
)
VENDOR_BALANCE = Example(
    summary="Proxy-Solutions: extend a vendor order from the API balance",
    value={
        "provider": "proxy_solutions",
        "payment_method": {"type": "balance"},
        "provider_options": {
            "proxy_solutions": {
                "order_id": 1001,
                "merchant": "balance",
                "currency": "USD",
                "period": 30,
            }
        },
    },
)
