"""Every Bizon request as bizon.md shows it: method and path, Basic auth, two-decimal
amounts, and no PAN, CVV, PaRes, cres or wallet token left after scrub().
"""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from service.domain.money import Money
from service.domain.outcomes import HttpCall
from tests.unit.test_bizon_support import (
    CARD,
    CVV,
    DOC_AUTH,
    PAN,
    PARENT,
    PREPARED,
    REF,
    TOKEN,
    authenticate,
    authorize,
    bizon,
    capture,
    credit,
    hosted,
    rebill,
    refund,
    sync,
    void,
    wallet,
)

PARES = "eJzVWNmSokgUfe+vqKh5NLrYBIUOuyMQ3BBFBBR/+Wi"  # an opaque base64 PaRes
CRES = "ewogICJhY3NUcmFuc0lEIiA6ICJkN2MxZWU5OS05NDc4LTQ0YTYtYjFmMi0zOTFlMjljNmIzNDAiCn0="
TO_CARD = {"source_reference": None, "card": CARD}

BUILDS: dict[str, tuple[Callable[[], HttpCall], str, str]] = {
    "authorize-card": (lambda: bizon.build_authorize(authorize()), "POST", "/orders/authorize"),
    "authorize-hosted": (lambda: bizon.build_authorize(hosted()), "POST", "/orders/create"),
    "authorize-wallet": (lambda: bizon.build_authorize(wallet()), "POST", "/orders/token_pay"),
    "capture": (lambda: bizon.build_capture(capture()), "PUT", f"/orders/{REF}/charge"),
    "void": (lambda: bizon.build_void(void()), "PUT", f"/orders/{REF}/reverse"),
    "refund": (lambda: bizon.build_refund(refund()), "PUT", f"/orders/{REF}/refund"),
    "sync": (lambda: bizon.build_sync(sync()), "GET", f"/orders/{REF}"),
    "sync-lost": (lambda: bizon.build_sync(sync(None)), "GET", "/orders/"),
    "complete": (
        lambda: bizon.build_authenticate(authenticate(pares=PARES)),
        "POST",
        f"/orders/{PREPARED}/complete",
    ),
    "complete3d20": (
        lambda: bizon.build_authenticate(authenticate(cres=CRES)),
        "POST",
        f"/orders/{PREPARED}/complete3d20",
    ),
    "resume": (
        lambda: bizon.build_authenticate(authenticate(resume=True)),
        "POST",
        f"/orders/{PREPARED}/resume",
    ),
    "rebill": (lambda: bizon.build_rebill(rebill()), "POST", f"/orders/{PARENT}/rebill"),
    "credit-order": (lambda: bizon.build_credit(credit()), "POST", f"/orders/{PARENT}/credit"),
    "credit-card": (lambda: bizon.build_credit(credit(**TO_CARD)), "POST", "/orders/credit"),
    "exchange-rates": (bizon.build_exchange_rates, "GET", "/exchange_rates/"),
    "ping": (bizon.build_ping, "GET", "/ping"),
}


@pytest.mark.parametrize("name", BUILDS)
def test_every_request_matches_the_doc(name: str) -> None:
    build, method, path = BUILDS[name]
    call = build()
    assert (call.method, call.path) == (method, path)
    assert call.headers["Authorization"] == DOC_AUTH  # bizon.md: Basic project:password
    assert call.headers["Accept"] == "application/json"
    if call.body is not None:
        assert call.headers["Content-Type"] == "application/json"
        assert isinstance(json.loads(call.body), dict)
    if method == "GET":
        assert call.body is None


def test_only_resume_void_and_reads_have_no_body() -> None:
    empty = sorted(name for name, (build, _, _) in BUILDS.items() if build().body is None)
    assert empty == ["exchange-rates", "ping", "resume", "sync", "sync-lost", "void"]


# -- amounts: decimal strings with two decimals, whatever the currency's exponent ----------

WITH_AMOUNT: dict[str, Callable[[Money], HttpCall]] = {
    "authorize-card": lambda money: bizon.build_authorize(authorize(money=money)),
    "authorize-hosted": lambda money: bizon.build_authorize(hosted(money=money)),
    "authorize-wallet": lambda money: bizon.build_authorize(wallet(money=money)),
    "capture": lambda money: bizon.build_capture(capture(money)),
    "refund": lambda money: bizon.build_refund(refund(money)),
    "rebill": lambda money: bizon.build_rebill(rebill(money=money)),
    "credit-order": lambda money: bizon.build_credit(credit(money=money)),
    "credit-card": lambda money: bizon.build_credit(credit(money=money, **TO_CARD)),
}
AMOUNTS = [
    (Money(999, "USD"), "9.99"),
    (Money(1, "USD"), "0.01"),
    (Money(100, "EUR"), "1.00"),
    (Money(123456789012, "USD"), "1234567890.12"),
    (Money(500, "JPY"), "500.00"),
    (Money(1230, "KWD"), "1.23"),
    (Money(1000, "BHD"), "1.00"),
]
TWO_DECIMALS = re.compile(r"^\d+\.\d{2}$")


@pytest.mark.parametrize(("money", "expected"), AMOUNTS, ids=lambda v: str(v))
@pytest.mark.parametrize("name", WITH_AMOUNT)
def test_amounts_are_two_decimal_strings(name: str, money: Money, expected: str) -> None:
    payload = json.loads(WITH_AMOUNT[name](money).body or b"")
    assert isinstance(payload["amount"], str)
    assert TWO_DECIMALS.match(payload["amount"])
    assert payload["amount"] == expected


# -- scrub(): no card data or 3-D Secure / wallet secret survives -------------------------

SECRETS: dict[str, tuple[Callable[[], HttpCall], tuple[str, ...]]] = {
    "authorize-card": (BUILDS["authorize-card"][0], (PAN, CVV)),
    "authorize-wallet": (BUILDS["authorize-wallet"][0], (TOKEN,)),
    "complete": (BUILDS["complete"][0], (PARES,)),
    "complete3d20": (BUILDS["complete3d20"][0], (CRES,)),
    "rebill": (BUILDS["rebill"][0], (CVV,)),
    "credit-card": (BUILDS["credit-card"][0], (PAN,)),
}


def transcript(call: HttpCall, form: str) -> str:
    raw = (call.body or b"").decode()
    if form == "body":
        return raw
    if form == "wire":
        head = [f"{call.method} {call.path} HTTP/1.1"]
        return "\n".join(head + [f"{k}: {v}" for k, v in call.headers.items()] + ["", raw])
    if form == "repr":
        return f"{call.body!r} {call.headers}"
    return json.dumps({"headers": call.headers, "body": json.loads(raw)}, indent=2)


def found(secret: str, text: str) -> bool:
    """Whether `secret` is still there (a CVV only as the cvv field's value)."""
    squeezed = re.sub(r"\s", "", text)
    return f'"cvv":"{secret}"' in squeezed if secret == CVV else secret in text


@pytest.mark.parametrize("form", ["body", "wire", "repr", "json"])
@pytest.mark.parametrize("name", SECRETS)
def test_scrub_hides_every_secret(name: str, form: str) -> None:
    build, secrets = SECRETS[name]
    text = transcript(build(), form)
    assert all(found(secret, text) for secret in secrets)  # the request really carries them
    scrubbed = bizon.scrub(text)
    assert [secret for secret in secrets if found(secret, scrubbed)] == []
    assert DOC_AUTH.split()[1] not in scrubbed
    if PAN in secrets:
        assert "411111******1111" in scrubbed  # first6/last4 kept


@pytest.mark.parametrize("name", SECRETS)
def test_scrubbed_body_is_still_json(name: str) -> None:
    build, _ = SECRETS[name]
    scrubbed: dict[str, Any] = json.loads(bizon.scrub((build().body or b"").decode()))
    flat = json.dumps(scrubbed)
    assert "***" in flat
    assert set(scrubbed) == set(json.loads(build().body or b""))
