"""Bizon's JSON, as bizon.md shows it (private to the connector)."""

import msgspec


class Operation(msgspec.Struct):
    type: str
    status: str
    amount: str | None = None
    iso_response_code: str | None = None
    iso_message: str | None = None


class Form3d(msgspec.Struct):
    """The form the cardholder's browser must post; its fields tell the step.

    3-D Secure 1: MD, PaReq, TermUrl. 3-D Secure 2 method: threeDSMethodData.
    3-D Secure 2 challenge: creq and/or threeDSSessionData (the /resume example).
    """

    action: str
    method: str = "POST"
    MD: str | None = None
    PaReq: str | None = None
    TermUrl: str | None = None
    threeDSMethodData: str | None = None
    creq: str | None = None
    threeDSSessionData: str | None = None

    def fields(self) -> dict[str, str]:
        values = {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if name not in ("action", "method")
        }
        return {name: value for name, value in values.items() if isinstance(value, str)}


class Card(msgspec.Struct):
    type: str | None = None
    holder: str | None = None
    expiration: str | None = None  # "7/20"


class Secure3d(msgspec.Struct):
    version: str | None = None
    authorization_status: str | None = None  # Y, A, N, U, R


class Order(msgspec.Struct):
    id: str | int
    status: str
    amount: str
    amount_charged: str = "0.00"
    amount_refunded: str = "0.00"
    currency: str = "USD"
    operations: list[Operation] = []
    form3d: Form3d | None = None
    card: Card | None = None
    pan: str | None = None
    secure3d: Secure3d | None = None


class Orders(msgspec.Struct):
    orders: list[Order]


class Rate(msgspec.Struct):
    base: str = msgspec.field(name="from")
    quote: str = msgspec.field(name="to")
    rate: str


class Rates(msgspec.Struct):
    exchange_rates: list[Rate]


class Pong(msgspec.Struct):
    message: str
    date: str | None = None


def decode_orders(body: bytes) -> list[Order] | None:
    """The orders in a reply, or None when the body is not an orders document."""
    try:
        return msgspec.json.decode(body, type=Orders).orders
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
