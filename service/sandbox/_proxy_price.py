"""``POST /api/services/{service_id}/price``: the body's checks and the order's cost.

Checked in this order, every bad field named in the 422 list (in the chosen language; EN
when ``lang`` itself is bad): ``lang`` (query: EN|RU|UA, default EN), ``uid`` (integer),
``location_id`` (integer, one of the service's locations), ``quantity`` (1..1000),
``period`` (1..3650), ``multiport`` (boolean; true only for the mobile service),
``server_config_id`` (hosting only, required there, a known configuration),
``server_options`` (hosting only: ``os``, ``ram``, ``drive``, ``backup`` from their lists,
``additional_ip`` 0..8; unknown keys ignored), ``promocode``, ``merchant`` (active),
``currency`` (one of the merchant's; without a merchant any known currency).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._proxy_catalogue import (
    ADDITIONAL_IP_MAX,
    ADDITIONAL_IP_PRICE,
    DAYS_PER_PRICE,
    HOSTING,
    MERCHANTS,
    MOBILE,
    SERVER_CONFIGS,
    SERVER_OPTIONS,
    USD,
    Service,
    convert,
    multiply,
    round_to,
)
from ._proxy_charge import MAX_PERIOD, currency_choices, promocode
from ._proxy_input import Fields, validation
from ._proxy_messages import LANGS

MAX_QUANTITY = 1000


@dataclass(frozen=True, slots=True)
class PriceInput:
    lang: str
    per_unit_day: Decimal  # USD per address (server) per day, options included
    quantity: int
    period: int
    discount: Decimal
    merchant: str | None
    currency: str


def _lang(raw: str | None, fields: Fields) -> str:
    if not raw:
        return "EN"
    if raw not in LANGS:
        fields.fail("selected", "lang")
        return "EN"
    return raw


def _location(fields: Fields, service: Service) -> None:
    location = fields.integer("location_id")
    if location is not None and location not in service.locations:
        fields.fail("selected", "location_id")


def _multiport(fields: Fields, service: Service) -> None:
    if fields.boolean("multiport") and service.id != MOBILE:
        fields.fail("mobile_only", "multiport")


def _server_options(fields: Fields) -> Decimal:
    options = fields.nested("server_options")
    if options is None:
        return Decimal(0)
    extra = Decimal(0)
    for name, allowed in SERVER_OPTIONS.items():
        value = options.choice(name, allowed)
        if value:
            extra += allowed[value]
    ips = options.integer("additional_ip", (0, ADDITIONAL_IP_MAX))
    return extra + multiply(ADDITIONAL_IP_PRICE, Decimal(ips or 0))


def _hosting(fields: Fields, service: Service) -> Decimal:
    """The USD per server per day of the configuration and options (hosting only)."""
    if service.id != HOSTING:
        for name in ("server_config_id", "server_options"):
            if fields.present(name):
                fields.fail("hosting_only", name)
        return Decimal(0)
    config = fields.choice("server_config_id", SERVER_CONFIGS, required=True)
    extra = _server_options(fields)
    return (SERVER_CONFIGS[config] if config else Decimal(0)) + extra


def _payer_currency(fields: Fields, merchant: str | None) -> str:
    currency = fields.choice("currency", currency_choices(merchant))
    if currency:
        return currency
    if merchant and USD not in MERCHANTS[merchant].currencies:
        return MERCHANTS[merchant].currencies[0]
    return USD


def parse_price(service: Service, payload: dict[str, Any], raw_lang: str | None) -> PriceInput:
    """Validate a price body (and ``lang``), collecting every problem (422 with the list)."""
    fields = Fields(payload)
    lang = _lang(raw_lang, fields)
    fields.lang = lang
    fields.integer("uid")
    _location(fields, service)
    quantity = fields.integer("quantity", (1, MAX_QUANTITY)) or 1
    period = fields.integer("period", (1, MAX_PERIOD)) or DAYS_PER_PRICE
    _multiport(fields, service)
    per_unit_day = service.per_day + _hosting(fields, service)
    discount = promocode(fields)
    merchant = fields.choice("merchant", MERCHANTS)
    currency = _payer_currency(fields, merchant)
    if fields.errors:
        raise validation(*fields.errors)
    return PriceInput(lang, per_unit_day, quantity, period, discount, merchant, currency)


def price_view(data: PriceInput) -> dict[str, Any]:
    """The answer, amounts as Decimals.

    ``amount`` is in USD before the discount; ``converted_amount`` (before) and
    ``payer_amount`` (after the discount) are in the payer currency.
    """
    amount = round_to(
        multiply(data.per_unit_day, Decimal(data.quantity), Decimal(data.period)), USD
    )
    return {
        "lang": data.lang,
        "discount": data.discount,
        "amount": amount,
        "converted_amount": convert(amount, data.currency),
        "merchant": data.merchant,
        "payer_amount": convert(amount, data.currency, data.discount),
        "payer_currency": data.currency,
    }
