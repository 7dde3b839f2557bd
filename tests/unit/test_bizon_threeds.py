"""Bizon 3-D Secure: force3d and merchant 3DS data, the ACS forms, complete/complete3d20/resume.

Replies: bizon.md's own complete, complete3d20 and resume examples; the 3DS 2 method
and challenge forms and the declines are built in the same shape.
"""

import json
from typing import Any

import pytest

from service.connectors.bizon import BizonOptions
from service.domain.commands import ThreeDSData
from service.domain.errors import ProviderRejected
from service.domain.money import Money
from service.domain.outcomes import HttpReply, ProviderState
from service.domain.payments import ActionPurpose, Authentication, CardSummary, NextAction
from tests.unit.test_bizon_support import (
    ACTION,
    AUTHORIZED,
    CAPTURED,
    DOC_AUTH,
    FAILED,
    OK,
    PREPARED,
    USD,
    amounts,
    authenticate,
    authorize,
    bizon,
    body,
    card,
    edited,
    reply,
    sent,
    summary,
)

# -- authorize: force3d and 3-D Secure results the merchant obtained itself ----------------

CAVV, XID = "AAABCBVRA2EYZXQBV1EDAAAAAAA=", "8Rg2xYbxLUGsfZlkoh1JxAQFBM="
DS_TRANS = "Rcm70YAaT/7SZnqVGFQkm/NJnbQ="


def test_force3d_is_sent_as_one() -> None:
    call = bizon.build_authorize(authorize(provider_options=BizonOptions(force3d=True)))
    assert sent(call)["options"] == {"auto_charge": 0, "force3d": 1}
    assert "secure3d" not in sent(call)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            ThreeDSData(cavv=CAVV, eci="05", xid=XID, ds_trans_id=DS_TRANS),
            {"cavv": CAVV, "eci": "05", "xid": XID, "ds_trans_id": DS_TRANS},
        ),
        (ThreeDSData(cavv=CAVV, eci="05"), {"cavv": CAVV, "eci": "05"}),
        (
            ThreeDSData(cavv=CAVV, eci="", xid=None, ds_trans_id=DS_TRANS),
            {"cavv": CAVV, "ds_trans_id": DS_TRANS},
        ),
    ],
    ids=["all", "3ds1-without-xid", "empty-omitted"],
)
def test_merchant_three_ds_data(given: ThreeDSData, expected: dict[str, str]) -> None:
    cmd = authorize(card=card(three_d_secure=given), provider_options=BizonOptions(force3d=True))
    payload = sent(bizon.build_authorize(cmd))
    assert payload["secure3d"] == expected
    assert payload["options"]["force3d"] == 1


# -- build_authenticate --------------------------------------------------------------------

PARES, CRES = "YAED53A345D", "ewogICJhY3NUcmFuc0lEIiA6ICJkN2MxZWU5OSIKfQ=="


@pytest.mark.parametrize(
    ("answer", "path", "payload"),
    [
        ({"pares": PARES}, f"/orders/{PREPARED}/complete", {"PaRes": PARES}),
        ({"cres": CRES}, f"/orders/{PREPARED}/complete3d20", {"cres": CRES}),
        ({"resume": True}, f"/orders/{PREPARED}/resume", None),
    ],
    ids=["pares", "cres", "resume"],
)
def test_build_authenticate(answer: dict[str, Any], path: str, payload: object) -> None:
    call = bizon.build_authenticate(authenticate(**answer))
    assert (call.method, call.path, call.query) == ("POST", path, {})
    assert call.headers["Authorization"] == DOC_AUTH
    assert (call.body and json.loads(call.body)) == payload


def test_build_authenticate_quotes_the_reference() -> None:
    call = bizon.build_authenticate(authenticate("a/b c", pares=PARES))
    assert call.path == "/orders/a%2Fb%20c/complete"


# -- parse_authenticate --------------------------------------------------------------------

COMPLETED, COMPLETED_3DS2 = "43809080318125930", "57937457169525773"
NOT_AUTHENTICATED, DECLINED_AFTER_3DS = "57937457169525803", "57937457169525804"


@pytest.mark.parametrize(
    ("fixture", "money", "expected", "snapshot", "card_seen"),
    [
        (  # bizon.md's /complete: the PaRes finished 3DS 1 and the order was auto-charged
            "complete_charged",
            Money(10099, "USD"),
            (OK, COMPLETED),
            (CAPTURED, 10099, 10099, 0),
            CardSummary("411111", "1111", "unknown"),
        ),
        (  # bizon.md's /complete3d20
            "complete3d20_authorized",
            Money(12300, "USD"),
            (OK, COMPLETED_3DS2),
            (AUTHORIZED, 12300, 0, 0),
            CardSummary("510033", "0101", "mastercard", 10, 2022),
        ),
        (
            "complete3d20_declined_51",  # authenticated (Y), then declined by the issuer
            USD,
            (FAILED, DECLINED_AFTER_3DS, "insufficient_funds", "51", "Insufficient funds"),
            (ProviderState.FAILED, 0, 0, 0),
            CardSummary("510033", "0101", "mastercard", 10, 2022),
        ),
        (
            "complete_declined_3ds",  # authentication said N: nothing reached the issuer
            USD,
            (FAILED, NOT_AUTHENTICATED, "authentication_failed", "N", None),
            (ProviderState.FAILED, 0, 0, 0),
            CardSummary("510033", "0101", "mastercard", 10, 2022),
        ),
    ],
)
def test_parse_authenticate(
    fixture: str, money: Money, expected: Any, snapshot: Any, card_seen: CardSummary
) -> None:
    outcome = bizon.parse_authenticate(authenticate(money=money, pares=PARES), reply(fixture))
    assert summary(outcome) == expected
    assert outcome.next_action is None
    assert amounts(outcome.snapshot) == snapshot
    assert outcome.snapshot is not None
    assert outcome.snapshot.card == card_seen
    assert outcome.failure is None or outcome.failure.message


@pytest.mark.parametrize("status", ["N", "U", "R"])
def test_failed_authentication_is_not_the_issuers_decline(status: str) -> None:
    """Even when the order lists a failed authorize, N/U/R means authentication failed."""
    declined = {
        "type": "authorize",
        "status": "failure",
        "amount": "9.99",
        "iso_response_code": "05",
        "iso_message": "Do not honor",
    }
    raw = edited(
        "complete_declined_3ds",
        secure3d={"authorization_status": status, "version": "2"},
        operations=[declined],
    )
    outcome = bizon.parse_authenticate(authenticate(cres=CRES), HttpReply(200, raw))
    assert summary(outcome) == (
        FAILED,
        NOT_AUTHENTICATED,
        "authentication_failed",
        "05",
        "Do not honor",
    )


# -- the next action of a prepared order: which step, and how to finish it -----------------

THREE_DS1_FORM = {
    "MD": "MjMwMTQ4MDYwNzgwNjEzMDM=",
    "PaReq": "PaReq",
    "TermUrl": "http://localhost:5002/complete/secure3d",
}
CHALLENGE_TYPE = ActionPurpose.THREE_D_SECURE_2_CHALLENGE


def form(name: str) -> dict[str, str]:
    data = json.loads(body(name))["orders"][0]["form3d"]
    return {key: value for key, value in data.items() if key not in ("action", "method")}


@pytest.mark.parametrize(
    ("fixture", "money", "expected"),
    [
        (
            "authorize_3ds_prepared",
            USD,
            NextAction(
                "form",
                "http://localhost:5002/test/bank",
                "GET",
                THREE_DS1_FORM,
                ActionPurpose.THREE_D_SECURE_1,
                Authentication.PARES,
            ),
        ),
        (
            "authorize_3ds2_method",
            USD,
            NextAction(
                "form",
                "http://localhost:5002/test/acs/method",
                "POST",
                form("authorize_3ds2_method"),
                ActionPurpose.THREE_D_SECURE_2_METHOD,
                Authentication.RESUME,
            ),
        ),
        (
            "authorize_3ds2_challenge",
            USD,
            NextAction(
                "form",
                "http://localhost:5002/test/acs/challenge",
                "POST",
                form("authorize_3ds2_challenge"),
                CHALLENGE_TYPE,
                Authentication.CRES,
            ),
        ),
        (  # bizon.md's /resume: the method step is over, the challenge form follows
            "resume_prepared",
            Money(100, "EUR"),
            NextAction(
                "form",
                "http://checkout.***.local:80/complete/secure3d20",
                "POST",
                {"threeDSSessionData": "NjAzOTE5NzY5Mjk4MDY1NDE="},
                CHALLENGE_TYPE,
                Authentication.CRES,
            ),
        ),
    ],
    ids=["3ds1", "3ds2-method", "3ds2-challenge", "resume"],
)
def test_three_ds_step(fixture: str, money: Money, expected: NextAction) -> None:
    reference = json.loads(body(fixture))["orders"][0]["id"]
    for outcome in (
        bizon.parse_authorize(authorize(money=money), reply(fixture, 201)),
        bizon.parse_authenticate(authenticate(money=money, resume=True), reply(fixture)),
    ):
        assert summary(outcome) == (ACTION, reference)
        assert outcome.next_action == expected
        assert outcome.snapshot is not None
        assert outcome.snapshot.next_action == expected
        assert amounts(outcome.snapshot) == (ProviderState.AWAITING_CUSTOMER, 0, 0, 0)


BARE_FORM = {"action": "https://acs.example/x", "method": "post"}


@pytest.mark.parametrize(
    ("secure3d", "purpose", "answer"),
    [
        ({"version": "2"}, CHALLENGE_TYPE, Authentication.CRES),
        ({"version": "1"}, ActionPurpose.THREE_D_SECURE_1, Authentication.PARES),
        ({}, ActionPurpose.THREE_D_SECURE_1, Authentication.PARES),
        (None, ActionPurpose.THREE_D_SECURE_1, Authentication.PARES),
    ],
    ids=["version-2", "version-1", "no-version", "no-secure3d"],
)
def test_form_without_telling_fields_reads_the_version(
    secure3d: Any, purpose: ActionPurpose, answer: Authentication
) -> None:
    raw = edited("authorize_3ds_prepared", form3d=BARE_FORM, secure3d=secure3d)
    outcome = bizon.parse_authorize(authorize(), HttpReply(201, raw))
    assert outcome.next_action == NextAction(
        "form", BARE_FORM["action"], "POST", {}, purpose, answer
    )


def test_the_built_forms_carry_the_telling_field() -> None:
    assert list(form("authorize_3ds2_method")) == ["threeDSMethodData"]
    assert list(form("authorize_3ds2_challenge")) == ["creq"]


def test_already_completed_is_a_refusal() -> None:
    """bizon.md: resubmitting /complete answers "Order already completed" (no order)."""
    raw = b'{"failure_type": "validation", "failure_message": "Order already completed"}'
    with pytest.raises(ProviderRejected) as caught:
        bizon.parse_authenticate(authenticate(pares=PARES), HttpReply(400, raw))
    assert caught.value.provider_message == "Order already completed"
