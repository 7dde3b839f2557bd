"""Bizon order statuses (the supplement's table) and the card a snapshot reports."""

from typing import Any

import pytest

from service.domain.errors import ProviderProtocolError
from service.domain.outcomes import HttpReply, ProviderState
from service.domain.payments import CardSummary
from tests.unit.test_bizon_support import authorize, bizon, edited, sync

# The twelve order statuses of bizon-supplement.md, "Order statuses and the operations
# each allows", in its order.
SUPPLEMENT_STATUSES = {
    "new": ProviderState.AWAITING_CUSTOMER,
    "prepared": ProviderState.AWAITING_CUSTOMER,
    "authorized": ProviderState.AUTHORIZED,
    "charged": ProviderState.CAPTURED,
    "reversed": ProviderState.VOIDED,
    "refunded": ProviderState.REFUNDED,
    "rejected": ProviderState.FAILED,
    "fraud": ProviderState.FAILED,
    "declined": ProviderState.FAILED,
    "chargedback": ProviderState.CHARGED_BACK,
    "credited": ProviderState.CREDITED,
    "error": ProviderState.FAILED,
}
DECLINE_05 = {
    "type": "authorize",
    "status": "failure",
    "amount": "9.99",
    "iso_response_code": "05",
    "iso_message": "Do not honor",
}


def synced(**order: Any) -> Any:
    return bizon.parse_sync(sync(), HttpReply(200, edited("order_info", **order)))


def test_the_table_has_twelve_statuses() -> None:
    assert len(SUPPLEMENT_STATUSES) == 12


@pytest.mark.parametrize(("status", "state"), SUPPLEMENT_STATUSES.items())
def test_every_supplement_status_maps(status: str, state: ProviderState) -> None:
    snap = synced(status=status)
    assert snap is not None
    assert snap.state is state
    assert (snap.failure is not None) == (state is ProviderState.FAILED)


# Without an operation to read, each failure status has its own code.
FAILURE_CODES = {
    "declined": "card_declined",
    "rejected": "rejected_by_provider",
    "fraud": "fraud_suspected",
    "error": "processing_error",
}


@pytest.mark.parametrize(("status", "code"), FAILURE_CODES.items())
def test_failure_statuses_have_their_own_code(status: str, code: str) -> None:
    snap = synced(status=status, operations=[])
    assert snap is not None
    assert snap.failure is not None
    assert (snap.failure.code, snap.failure.provider_code) == (code, status)
    assert snap.failure.message
    outcome = bizon.parse_authorize(
        authorize(), HttpReply(200, edited("order_info", status=status, operations=[]))
    )
    assert outcome.failure == snap.failure


def test_failure_codes_are_distinct() -> None:
    codes = set()
    for status in FAILURE_CODES:
        snap = synced(status=status, operations=[])
        assert snap is not None
        assert snap.failure is not None
        codes.add(snap.failure.code)
    assert len(codes) == 4


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("declined", "do_not_honor"),  # the ISO mapping of the failed authorize
        ("rejected", "rejected_by_provider"),
        ("fraud", "fraud_suspected"),
        ("error", "processing_error"),
    ],
)
def test_failure_status_with_a_failed_operation(status: str, code: str) -> None:
    snap = synced(status=status, operations=[DECLINE_05])
    assert snap is not None
    assert snap.failure is not None
    assert (snap.failure.code, snap.failure.provider_code) == (code, "05")
    assert snap.failure.provider_message == "Do not honor"


@pytest.mark.parametrize("status", ["rejected", "fraud", "error"])
def test_only_a_declined_order_reads_the_authentication_result(status: str) -> None:
    """The connector's docstring: "A declined order whose secure3d.authorization_status is
    N, U or R failed authentication". A rejected, fraud or error order keeps its own code.
    """
    snap = synced(status=status, operations=[], secure3d={"authorization_status": "N"})
    assert snap is not None
    assert snap.failure is not None
    assert snap.failure.code == FAILURE_CODES[status]


@pytest.mark.parametrize(
    "status", ["weird", "", "AUTHORIZED", "Authorized", "canceled", "pending", "charged "]
)
def test_unknown_status_raises(status: str) -> None:
    raw = HttpReply(200, edited("order_info", status=status))
    with pytest.raises(ProviderProtocolError):
        bizon.parse_sync(sync(), raw)
    with pytest.raises(ProviderProtocolError):
        bizon.parse_authorize(authorize(), raw)


# -- the card a snapshot reports: first6/last4 of the masked pan, brand, expiry -------------


@pytest.mark.parametrize(
    ("pan", "card", "expected"),
    [
        ("411111****1111", {"type": "visa"}, CardSummary("411111", "1111", "visa")),
        (
            "410937****4320",
            {"type": "visa", "expiration": "7/20"},
            CardSummary("410937", "4320", "visa", 7, 2020),
        ),
        (
            "510033****0101",
            {"type": "mastercard", "expiration": "10/22"},
            CardSummary("510033", "0101", "mastercard", 10, 2022),
        ),
        (
            "220138****0013",
            {"type": "mir", "expiration": "12/21"},
            CardSummary("220138", "0013", "mir", 12, 2021),
        ),
        (
            "411111****1111",
            {"type": "visa", "expiration": "7/2031"},
            CardSummary("411111", "1111", "visa", 7, 2031),
        ),
        (
            "411111****1111",
            {"type": "visa", "expiration": "7-20"},
            CardSummary("411111", "1111", "visa"),
        ),
        (
            "411111****1111",
            {"type": "visa", "expiration": "x/20"},
            CardSummary("411111", "1111", "visa"),
        ),
        (
            "411111****1111",
            {"type": "visa", "expiration": ""},
            CardSummary("411111", "1111", "visa"),
        ),
        ("411111****1111", {}, CardSummary("411111", "1111", "unknown")),
        ("411111****1111", None, CardSummary("411111", "1111", "unknown")),
        (None, {"type": "visa"}, None),
        ("", {"type": "visa"}, None),
        ("****1111", {"type": "visa"}, None),
        ("41111x****1111", {"type": "visa"}, None),
    ],
)
def test_card_summary(pan: str | None, card: Any, expected: CardSummary | None) -> None:
    snap = synced(pan=pan, card=card)
    assert snap is not None
    assert snap.card == expected


@pytest.mark.parametrize("expiration", ["0/0", "13/20", "0/21", "00/00"])
def test_impossible_expiry_is_no_expiry(expiration: str) -> None:
    """bizon.md's credit-without-order reply shows "0/0": a month must be 1 to 12."""
    snap = synced(card={"type": "mastercard", "expiration": expiration})
    assert snap is not None
    assert snap.card == CardSummary("411111", "1111", "mastercard")
