"""Bizon wallet tokens (Apple Pay / Google Pay): POST /orders/token_pay.

bizon.md: token_pay takes the Authorize optional fields "except fields pan, card.*,
secure3d.*, options.force3d, options.return_url, options.secure3d20_return_url".
"""

from typing import Any

import pytest

from service.connectors.bizon import BizonOptions
from service.domain.commands import Customer, ThreeDSData, WalletToken
from service.domain.money import Money
from service.domain.payments import CaptureMethod, CardSummary
from tests.unit.test_bizon_support import (
    AUTHORIZED,
    BACK,
    CARD,
    CVV,
    DOC_AUTH,
    FAILED,
    OK,
    PAN,
    TOKEN,
    USD,
    amounts,
    authorize,
    bizon,
    card,
    reply,
    sent,
    summary,
    wallet,
)

NOTIFY = "https://shop.example/3ds2-notify"
EVERYTHING = BizonOptions(
    force3d=True, secure3d20_return_url=NOTIFY, terminal="T12", recurring=True, segment="987"
)
FORBIDDEN = ("pan", "card", "secure3d")
FORBIDDEN_OPTIONS = ("force3d", "return_url", "secure3d20_return_url")


def test_build_token_pay() -> None:
    call = bizon.build_authorize(wallet())
    assert (call.method, call.path, call.query) == ("POST", "/orders/token_pay", {})
    assert call.headers["Authorization"] == DOC_AUTH
    assert sent(call) == {
        "amount": "9.99",
        "currency": "USD",
        "merchant_order_id": "pay_01",
        "options": {"auto_charge": 0},
        "location": {"ip": "8.8.8.8"},
        "dsrp": {"type": "apple_pay", "token": TOKEN},
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"capture": CaptureMethod.AUTOMATIC}, {"options": {"auto_charge": 1}}),
        (
            {"wallet": WalletToken("google_pay", TOKEN)},
            {"dsrp": {"type": "google_pay", "token": TOKEN}},
        ),
        ({"customer": Customer(ip="6.6.6.6")}, {"location": {"ip": "6.6.6.6"}}),
        ({"description": "Pay for cinema"}, {"description": "Pay for cinema"}),
        ({"money": Money(10000, "USD")}, {"amount": "100.00"}),
    ],
)
def test_build_token_pay_fields(changes: dict[str, Any], expected: dict[str, object]) -> None:
    payload = sent(bizon.build_authorize(wallet(**changes)))
    assert {key: payload.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"return_url": BACK},
        {"return_url": BACK, "provider_options": EVERYTHING},
        # Even a command that also carries card data (it should not) sends none of it.
        {"return_url": BACK, "card": CARD},
        {"card": card(three_d_secure=ThreeDSData(cavv="AAAB", eci="05"))},
    ],
    ids=["return-url", "every-option", "stray-card", "stray-3ds-data"],
)
def test_token_pay_never_sends_the_forbidden_fields(changes: dict[str, Any]) -> None:
    payload = sent(bizon.build_authorize(wallet(**changes)))
    assert [key for key in FORBIDDEN if key in payload] == []
    assert [key for key in FORBIDDEN_OPTIONS if key in payload["options"]] == []
    assert PAN not in (bizon.build_authorize(wallet(**changes)).body or b"").decode()


def test_token_pay_keeps_the_allowed_options() -> None:
    payload = sent(bizon.build_authorize(wallet(provider_options=EVERYTHING)))
    assert payload["options"] == {"auto_charge": 0, "recurring": 1, "terminal": "T12"}
    assert payload["segment"] == "987"


@pytest.mark.parametrize(
    ("cmd", "fields"),
    [
        (wallet(), []),
        (wallet(wallet=WalletToken("google_pay", TOKEN)), []),
        (wallet(wallet=None), ["payment_method.wallet_token.type"]),
        (wallet(wallet=WalletToken("samsung_pay", TOKEN)), ["payment_method.wallet_token.type"]),
        (wallet(wallet=WalletToken("Apple_Pay", TOKEN)), ["payment_method.wallet_token.type"]),
        (wallet(provider_options=BizonOptions(force3d=True)), ["provider_options.bizon.force3d"]),
        (wallet(customer=Customer(email="foo@bar.com")), ["customer.ip"]),
        (wallet(money=Money(1234, "KWD")), ["amount"]),
    ],
)
def test_validate_wallet(cmd: Any, fields: list[str]) -> None:
    assert [error.field for error in bizon.validate_authorize(cmd)] == fields


# -- parse: bizon.md's token_pay reply, and a decline in its shape --------------------------


def test_parse_token_pay_doc_reply() -> None:
    outcome = bizon.parse_authorize(wallet(money=Money(10000, "USD")), reply("token_pay_approved"))
    assert summary(outcome) == (OK, "69702830548094412")
    assert amounts(outcome.snapshot) == (AUTHORIZED, 10000, 0, 0)
    assert outcome.snapshot is not None
    assert outcome.snapshot.card == CardSummary("410937", "4320", "visa", 7, 2020)
    assert outcome.next_action is None


def test_parse_token_pay_declined() -> None:
    outcome = bizon.parse_authorize(wallet(money=Money(10000, "USD")), reply("token_pay_declined"))
    assert summary(outcome) == (FAILED, "69702830548094413", "do_not_honor", "05", "Do not honor")
    assert outcome.snapshot is not None
    assert outcome.snapshot.card == CardSummary("410937", "4320", "visa", 7, 2020)


# -- nothing secret in a repr --------------------------------------------------------------


def test_wallet_token_repr_hides_the_token() -> None:
    token = WalletToken("apple_pay", TOKEN)
    for text in (repr(token), str(token), f"{token}", repr(wallet()), str(wallet())):
        assert TOKEN not in text
        assert "apple_pay" in text


@pytest.mark.parametrize("cmd", [wallet(), authorize(), authorize(card=CARD, wallet=None)])
def test_http_call_repr_hides_token_pan_cvv_and_credentials(cmd: Any) -> None:
    call = bizon.build_authorize(cmd)
    for text in (repr(call), str(call), f"{call}", f"{[call]}"):
        assert TOKEN not in text
        assert PAN not in text
        assert f'"cvv":"{CVV}"' not in text
        assert DOC_AUTH.split()[1] not in text
    assert USD.currency in repr(call)  # the rest of the body stays readable
