"""PaySuper's wire types (timestamps, amounts) and what scrub() leaves of a transcript."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.connectors.paysuper import PaySuperOptions, PaySuperUser, wire
from tests.unit.test_paysuper_support import SECRET, authorize, connector, fixture

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# -- Timestamp ----------------------------------------------------------------------------


@pytest.mark.parametrize("nanos", [0, 69000000, 999999999])
def test_the_zero_time_is_never(nanos: int) -> None:
    assert wire.ZERO_TIME == -62135596800  # 0001-01-01T00:00:00Z, Go's zero time
    assert wire.Timestamp(wire.ZERO_TIME, nanos).when() is None


def test_the_docs_created_at() -> None:
    when = wire.Timestamp(1573882679, 69000000).when()
    assert when == datetime(2019, 11, 16, 5, 37, 59, 69000, tzinfo=UTC)
    assert when is not None
    assert when.tzinfo is UTC
    assert when.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("seconds", "nanos", "expected"),
    [
        (1573882679, 0, datetime(2019, 11, 16, 5, 37, 59, tzinfo=UTC)),
        (1573882700, 123456000, datetime(2019, 11, 16, 5, 38, 20, 123456, tzinfo=UTC)),
        (1573882679, 999999000, datetime(2019, 11, 16, 5, 37, 59, 999999, tzinfo=UTC)),
        (1573882679, 1000, datetime(2019, 11, 16, 5, 37, 59, 1, tzinfo=UTC)),
        (0, 0, EPOCH),
        (1, 500000000, datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)),
    ],
)
def test_a_real_time_keeps_its_nanos(seconds: int, nanos: int, expected: datetime) -> None:
    assert wire.Timestamp(seconds, nanos).when() == expected


def test_nanos_default_to_zero() -> None:
    stamp = msgspec.json.decode(b'{"seconds": 1573882679}', type=wire.Timestamp)
    assert stamp.when() == datetime(2019, 11, 16, 5, 37, 59, tzinfo=UTC)


@given(
    seconds=st.integers(min_value=0, max_value=2**32),
    micros=st.integers(min_value=0, max_value=999_999),
)
def test_every_microsecond_of_this_century_is_exact(seconds: int, micros: int) -> None:
    when = wire.Timestamp(seconds, micros * 1000).when()
    assert when == EPOCH + timedelta(seconds=seconds, microseconds=micros)


def test_the_docs_zero_times_decode_to_never() -> None:
    order = msgspec.json.decode(fixture("order_object_doc.json"), type=wire.Order)
    assert order.canceled_at is not None
    assert order.canceled_at.when() is None
    assert order.refunded_at is not None
    assert order.refunded_at.when() is None
    assert order.created_at is not None
    assert order.created_at.when() == datetime(2019, 11, 16, 5, 37, 59, 69000, tzinfo=UTC)


# -- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["0.12", "595", "9.99", "1.15", "595.00", "100.5"])
def test_amounts_decode_exactly_from_the_literal(literal: str) -> None:
    body = fixture("order_object_doc.json").replace(
        b'\n  "amount": 595,', b'\n  "amount": ' + literal.encode() + b","
    )
    assert msgspec.json.decode(body, type=wire.Order).amount == Decimal(literal)


@pytest.mark.parametrize("literal", ["9.99", "0.01", "1000.00", "9999999999999999.99"])
def test_amounts_encode_as_json_numbers_exactly(literal: str) -> None:
    encoded = wire.ENCODER.encode({"amount": Decimal(literal)})
    assert encoded == b'{"amount":' + literal.encode() + b"}"
    assert isinstance(json.loads(encoded)["amount"], float)


def test_the_doc_replies_decode() -> None:
    order = msgspec.json.decode(fixture("order_created.json"), type=wire.Created)
    assert (order.id, order.token) == ("726d9e07-1dc8-4159-8d52-f95941066bc8", None)
    token = msgspec.json.decode(fixture("token_created.json"), type=wire.Created)
    assert token.id is None
    assert token.token
    error = msgspec.json.decode(fixture("error_401.json"), type=wire.Error)
    assert (error.message, error.code) == ("Request signature is invalid", "ma000004")


# -- scrub ---------------------------------------------------------------------------------

TOKEN = PaySuperOptions(checkout="token", user=PaySuperUser(id="user_42"))


def transcript(mode: str, options: PaySuperOptions | None) -> tuple[str, str]:
    """A logged exchange (dict form and wire form of the headers) and its scrub()."""
    paysuper = connector(mode=mode)
    call = paysuper.build_authorize(authorize(options))
    wire_headers = "\n".join(f"{name}: {value}" for name, value in call.headers.items())
    text = f"{call.method} {call.path} {call.headers}\n{wire_headers}\n{call.body!r} {call!r}"
    return text, paysuper.scrub(text)


@pytest.mark.parametrize("options", [None, TOKEN], ids=["order", "token"])
def test_sha512_mode_never_carries_the_secret(options: PaySuperOptions | None) -> None:
    # The X-API-SIGNATURE is a one-way hash of body + secret: safe to log as it is.
    text, scrubbed = transcript("sha512", options)
    assert SECRET not in text
    assert SECRET not in scrubbed


@pytest.mark.parametrize("options", [None, TOKEN], ids=["order", "token"])
def test_secret_mode_scrubs_the_secret(options: PaySuperOptions | None) -> None:
    # In "secret" mode the X-API-SIGNATURE header IS the project's secret key.
    text, scrubbed = transcript("secret", options)
    assert SECRET in text  # the transcript really carries it
    assert SECRET not in scrubbed


def test_repr_of_a_call_shows_no_header() -> None:
    call = connector(mode="secret").build_authorize(authorize())
    assert SECRET not in repr(call)
    assert SECRET not in str(call)


def test_a_notification_transcript_keeps_no_card_number() -> None:
    body = fixture("notification_success.json").decode()
    with_pan = body.replace('"masked": "400000...0002"', '"masked": "4000000000000002"')
    scrubbed = connector().scrub(with_pan)
    assert "4000000000000002" not in scrubbed
    assert "400000" in scrubbed
