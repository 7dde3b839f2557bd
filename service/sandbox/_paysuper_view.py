"""The Order object of paysuper.md, as the sandbox writes it (in notifications and controls).

Exactly the keys of the doc's example, in its order. Amounts are JSON floats in major units,
currencies lowercase, times ``{seconds, nanos}`` (``{seconds: -62135596800}`` for never).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._paysuper_cards import CardRecord
from ._paysuper_model import Order, timestamp

PAYMENT_SYSTEM_ID = "5be2d0b4b0b30d0007383ce5"


def _issuer() -> dict[str, Any]:
    return {
        "url": "",
        "embedded": False,
        "reference": "",
        "reference_type": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "referrer_host": "",
    }


def _user(order: Order) -> dict[str, Any]:
    user = order.data.user
    return {
        "id": order.user_id,
        "object": "user",
        "external_id": user.external_id,
        "name": user.name,
        "email": user.email,
        "email_verified": user.email_verified,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "ip": user.ip,
        "locale": user.locale,
        "address": dict(user.address) if user.address is not None else None,
        "metadata": dict(user.metadata),
        "notify_new_region": False,
        "notify_new_region_email": "",
    }


def _method(card: CardRecord | None) -> dict[str, Any] | None:
    if card is None:
        return None
    return {
        "title": "Bank card",
        "external_id": "BANKCARD",
        "payment_system_id": PAYMENT_SYSTEM_ID,
        "saved": False,
        "card": card.view(),
        "wallet": None,
        "crypto_currency": None,
        "refund_allowed": True,
    }


def _items(order: Order, currency: str) -> list[dict[str, Any]] | None:
    products = order.data.products
    if order.data.type == "simple" or not products:
        return None
    each = float((order.amount / len(products)).quantize(Decimal("0.01")))
    return [
        {
            "id": product,
            "object": "order_item",
            "name": product,
            "amount": each,
            "currency": currency,
        }
        for product in products
    ]


def _refund(order: Order, currency: str) -> dict[str, Any] | None:
    if not order.refunds:
        return None
    last = order.refunds[-1]
    return {
        "amount": float(last.amount),
        "currency": currency,
        "reason": last.reason,
        "receipt_number": last.receipt_number,
    }


def order_view(order: Order) -> dict[str, Any]:
    """Render the Order object at this moment."""
    currency = order.currency.lower()
    last_refund = order.refunds[-1] if order.refunds else None
    address = order.data.user.address or {}
    return {
        "id": order.id,
        "transaction": order.transaction,
        "object": "order",
        "status": order.status,
        "description": order.description,
        "created_at": timestamp(order.created_ns),
        "canceled_at": timestamp(order.canceled_ns),
        "canceled": order.status == "canceled",
        "cancellation": dict(order.cancellation) if order.cancellation else None,
        "refunded": last_refund is not None,
        "refunded_at": timestamp(last_refund.at_ns if last_refund else None),
        "receipt_email": order.data.user.email,
        "receipt_phone": order.data.user.phone,
        "receipt_number": last_refund.receipt_number if last_refund else "",
        "receipt_url": order.receipt_url,
        "agreement_version": "",
        "agreement_accepted": False,
        "notify_sale": False,
        "notify_sale_email": "",
        "issuer": _issuer(),
        "amount": float(order.amount),
        "currency": currency,
        "user": _user(order),
        "billing_address": None,
        "tax": {"type": "vat", "rate": 0.0, "amount": 0.0, "currency": currency},
        "method": _method(order.card),
        "items": _items(order, currency),
        "refund": _refund(order, currency),
        "metadata": dict(order.data.metadata),
        "original_amount": float(order.amount),
        "country": address.get("country", ""),
        "type": order.data.type,
        "platform_id": order.data.platform_id,
        "receipt_id": order.receipt_id,
        "virtual_currency_amount": 0.0,
        "is_buy_for_virtual_currency": False,
    }


def event_object(
    order: Order, event: str, amount: Decimal | None = None, currency: str | None = None
) -> dict[str, Any]:
    """The order embedded in a notification, frozen at the time of the event.

    ``payment.success`` keeps ``"status": "created"`` (the supplement's sample); ``amount``
    and ``currency`` override what the notification says (a simulated mismatch).
    """
    view = order_view(order)
    if event == "payment.success":
        view["status"] = "created"
    if amount is not None:
        view["amount"] = float(amount)
    if currency is not None:
        view["currency"] = currency.lower()
    return view
