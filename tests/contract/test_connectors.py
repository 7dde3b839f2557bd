"""One contract suite over REGISTRY: a connector added there is tested here at once.

Per-connector inputs live in tests/contract/samples.py; a registered connector
without samples fails the suite instead of being skipped.
"""

import json
import sys
from typing import Any
from urllib.parse import parse_qs

import msgspec
import pytest

from service.connectors import REGISTRY
from service.connectors.base import ConnectorBase
from service.domain.errors import OperationNotSupported, ProviderProtocolError
from service.domain.money import Money, is_currency
from service.domain.outcomes import (
    HttpCall,
    HttpReply,
    OperationOutcome,
    OutcomeStatus,
    PaymentMethodOption,
    Quote,
)
from service.domain.payments import PaymentMethodType
from service.domain.ports import Capability, Connector, ReconcileStrategy
from service.domain.webhooks import WebhookEvent, WebhookKind
from tests.contract.samples import SAMPLES, Recorded, Samples

NAMES = sorted(REGISTRY)
# Each capability and the pair of methods that provides it (GET /v1/providers lists
# capabilities; the orchestration calls these methods for them).
METHODS: dict[Capability, tuple[str, str]] = {
    Capability.AUTHORIZE: ("build_authorize", "parse_authorize"),
    Capability.CAPTURE: ("build_capture", "parse_capture"),
    Capability.VOID: ("build_void", "parse_void"),
    Capability.REFUND: ("build_refund", "parse_refund"),
    Capability.SYNC: ("build_sync", "parse_sync"),
    Capability.AUTHENTICATE: ("build_authenticate", "parse_authenticate"),
    Capability.REBILL: ("build_rebill", "parse_rebill"),
    Capability.PAYOUT: ("build_credit", "parse_credit"),
    Capability.EXCHANGE_RATES: ("build_exchange_rates", "parse_exchange_rates"),
    Capability.HEALTH: ("build_ping", "parse_ping"),
    Capability.WEBHOOKS: ("verify_webhook", "parse_webhook"),
    Capability.PAY_ORDER: ("build_pay_order", "parse_pay_order"),
    Capability.PAYMENT_METHODS: ("build_payment_methods", "parse_payment_methods"),
    Capability.QUOTES: ("build_quote", "parse_quote"),
}
# Capabilities that send a request (a build_ then a parse_ of the reply); a
# notification is received, not requested: it is verified then parsed.
REQUESTS = sorted(set(Capability) - {Capability.WEBHOOKS})
# Capabilities whose build_/parse_ take no command.
WITHOUT_COMMAND = {Capability.EXCHANGE_RATES, Capability.HEALTH, Capability.PAYMENT_METHODS}
# Capabilities whose parse_ reads a payment's (or payout's) status from what it gets;
# a quote is a price, not a payment.
READ_STATUS = set(Capability) - WITHOUT_COMMAND - {Capability.QUOTES}
# Capabilities with a validate_ the orchestration calls before building.
VALIDATORS = {
    Capability.AUTHORIZE: "validate_authorize",
    Capability.REBILL: "validate_rebill",
    Capability.PAYOUT: "validate_credit",
    Capability.PAY_ORDER: "validate_pay_order",
}
# Capabilities a connector declaring them proves on recorded replies (samples.recorded),
# with the type each parse_ returns.
RECORDED: dict[Capability, type] = {
    Capability.PAY_ORDER: OperationOutcome,
    Capability.PAYMENT_METHODS: list,
    Capability.QUOTES: Quote,
}
# The requests that start a payment: an authorization, or paying a vendor order.
STARTS = (Capability.AUTHORIZE, Capability.PAY_ORDER)
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Every (connector, request-sending capability it declares).
SUPPORTED = [(name, c) for name in NAMES for c in sorted(REGISTRY[name].supports) if c in REQUESTS]
# Every (connector, declared capability that must be proven on recorded replies).
TO_RECORD = [(name, c) for name, c in SUPPORTED if c in RECORDED]


def operation(capability: Capability) -> str:
    """The operation's name: its Samples command and its samples.unknown_status key."""
    return METHODS[capability][1].removeprefix("parse_")


def samples_for(name: str) -> Samples:
    if name not in SAMPLES:
        pytest.fail(
            f"connector {name!r} is in REGISTRY but has no entry in tests/contract/samples.py"
        )
    return SAMPLES[name]


def command(samples: Samples, capability: Capability) -> Any:
    return getattr(samples, operation(capability))


def build(connector: ConnectorBase, samples: Samples, capability: Capability) -> Any:
    method = getattr(connector, METHODS[capability][0])
    return method() if capability in WITHOUT_COMMAND else method(command(samples, capability))


def parse(
    connector: ConnectorBase, samples: Samples, capability: Capability, reply: HttpReply
) -> Any:
    method = getattr(connector, METHODS[capability][1])
    if capability is Capability.WEBHOOKS:
        return method(reply.body)
    if capability in WITHOUT_COMMAND:
        return method(reply)
    return method(command(samples, capability), reply)


def tampered(body: bytes) -> list[bytes]:
    """The body with one byte flipped (first, middle, last) or one byte added."""
    flips = [body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :] for i in (0, len(body) // 2, -1)]
    return [*flips, body + b" ", b" " + body]


def assert_valid_call(call: object) -> None:
    assert isinstance(call, HttpCall)
    assert call.method in HTTP_METHODS
    assert call.path.startswith("/")
    if call.body is None:
        return
    if call.headers.get("Content-Type") == "application/x-www-form-urlencoded":
        assert parse_qs(call.body.decode("ascii"), strict_parsing=True)  # raises when not a form
    else:
        json.loads(call.body)  # raises when the body is not JSON


def test_every_capability_has_its_methods() -> None:
    assert set(METHODS) == set(Capability), "map every Capability to its pair of methods"
    for pair in METHODS.values():
        for method in pair:
            assert callable(getattr(ConnectorBase, method))
            assert callable(getattr(Connector, method)), f"{method} is not in the port"


def test_every_registered_connector_has_samples() -> None:
    missing = sorted(set(REGISTRY) - set(SAMPLES))
    stale = sorted(set(SAMPLES) - set(REGISTRY))
    assert not missing, f"REGISTRY connectors without samples: {missing}"
    assert not stale, f"samples for connectors not in REGISTRY: {stale}"


@pytest.mark.parametrize("name", NAMES)
def test_declares_its_capabilities(name: str) -> None:
    cls = REGISTRY[name]
    declared = vars(cls)
    for attribute in ("name", "supports", "methods", "options_type"):
        assert attribute in declared, f"{cls.__name__} must declare {attribute} itself"
    assert cls.name == name
    assert isinstance(cls.supports, frozenset)
    assert cls.supports
    assert all(isinstance(capability, Capability) for capability in cls.supports)
    assert isinstance(cls.methods, frozenset)
    assert cls.methods
    assert all(isinstance(method, PaymentMethodType) for method in cls.methods)
    options = cls.options_type
    if options is not None:
        assert issubclass(options, msgspec.Struct)
        if Capability.PAY_ORDER not in cls.supports:
            # provider_options are optional: every field has a default
            msgspec.convert({}, options)
    # A quote request type is declared exactly by a connector that calculates prices.
    quote = cls.quote_type
    assert (quote is not None) is (Capability.QUOTES in cls.supports)
    if quote is not None:
        assert "quote_type" in declared, f"{cls.__name__} must declare quote_type itself"
        assert issubclass(quote, msgspec.Struct)


@pytest.mark.parametrize("name", NAMES)
def test_pay_order_needs_its_options(name: str) -> None:
    """A vendor order is named by provider_options: without them the connector refuses.

    Where the options identify what is paid (the order), they cannot have defaults;
    the command is refused with field errors before anything is sent.
    """
    cls = REGISTRY[name]
    if Capability.PAY_ORDER not in cls.supports:
        return
    samples = samples_for(name)
    bare = msgspec.structs.replace(samples.pay_order, provider_options=None)
    errors = samples.connector().validate_pay_order(bare)
    assert errors, "a PayOrder without provider_options must be refused"
    assert all(error.field.startswith("provider_options") for error in errors), errors


@pytest.mark.parametrize("name", NAMES)
def test_implements_what_it_declares(name: str) -> None:
    """A declared capability is backed by the connector's own build_ and parse_."""
    cls = REGISTRY[name]
    for capability in cls.supports:
        for method in METHODS[capability]:
            assert getattr(cls, method) is not getattr(ConnectorBase, method), (
                f"{cls.__name__} declares {capability} but inherits {method}"
            )


@pytest.mark.parametrize("name", NAMES)
def test_samples_are_valid_for_the_connector(name: str) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    assert isinstance(connector, REGISTRY[name])
    assert samples.authorize.method in REGISTRY[name].methods
    for capability, validate in VALIDATORS.items():
        if capability in REGISTRY[name].supports:
            errors = getattr(connector, validate)(command(samples, capability))
            assert errors == [], f"{validate}: {errors}"
    declared = {operation(c): c for c in REGISTRY[name].supports}
    stale = sorted(set(samples.recorded) - set(declared))
    assert not stale, f"samples.recorded for undeclared operations: {stale}"
    for method, recorded in samples.recorded.items():
        capability = declared[method]
        for sample in recorded:
            if capability in VALIDATORS:
                errors = getattr(connector, VALIDATORS[capability])(sample.command)
                assert errors == [], f"{VALIDATORS[capability]}: {errors}"
            if capability is Capability.PAY_ORDER:
                assert sample.command.method in REGISTRY[name].methods
    if Capability.PAY_ORDER in REGISTRY[name].supports:
        assert samples.pay_order.method in REGISTRY[name].methods
    if Capability.QUOTES in REGISTRY[name].supports:
        quote_type = REGISTRY[name].quote_type
        assert quote_type is not None
        assert isinstance(samples.quote, quote_type)
        for sample in samples.recorded.get(operation(Capability.QUOTES), ()):
            assert isinstance(sample.command, quote_type)
    if Capability.SYNC in REGISTRY[name].supports:
        assert samples.sync is not None, "a connector that syncs needs a sample Sync"
    if Capability.WEBHOOKS in REGISTRY[name].supports:
        assert samples.webhook is not None, "a connector with webhooks needs a signed sample"


@pytest.mark.parametrize("capability", REQUESTS, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_build_supported_or_refused(name: str, capability: Capability) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    if capability in REGISTRY[name].supports:
        assert_valid_call(build(connector, samples, capability))
    else:
        with pytest.raises(OperationNotSupported):
            build(connector, samples, capability)
        with pytest.raises(OperationNotSupported):
            parse(connector, samples, capability, HttpReply(200, b"{}"))


@pytest.mark.parametrize("name", NAMES)
def test_payer_currency_supported_or_refused(name: str) -> None:
    """Paying a vendor order names the currency the payer pays in: the payment's."""
    samples = samples_for(name)
    connector = samples.connector()
    if Capability.PAY_ORDER not in REGISTRY[name].supports:
        with pytest.raises(OperationNotSupported):
            connector.payer_currency(samples.pay_order)
        return
    orders = [samples.pay_order, *(r.command for r in samples.recorded.get("pay_order", ()))]
    for order in orders:
        assert is_currency(connector.payer_currency(order))


def check_recorded(
    connector: ConnectorBase, capability: Capability, sample: Recorded, result: Any
) -> None:
    """What any connector's reading of a recorded 2xx reply must look like."""
    assert isinstance(result, RECORDED[capability]), type(result)
    if capability is Capability.PAYMENT_METHODS:
        assert result, "a recorded list of payment methods is not empty"
        assert all(isinstance(option, PaymentMethodOption) for option in result)
        assert all(option.code for option in result)
    elif capability is Capability.QUOTES:
        assert isinstance(result.amount, Money)  # ISO 4217, minor units, >= 0
        assert isinstance(result.payer_amount, Money)
    elif capability is Capability.PAY_ORDER:
        assert result.provider_reference, "the outcome must name the provider's reference"
        if result.status is not OutcomeStatus.FAILED:
            # The provider sets the price: a payment it accepted is priced by it,
            # in the currency the payment was recorded in.
            assert result.priced is not None
            assert result.priced.currency == connector.payer_currency(sample.command)
        if result.status is OutcomeStatus.ACTION_REQUIRED:
            assert result.next_action is not None
        if result.snapshot is not None:
            assert result.snapshot.reference == result.provider_reference


@pytest.mark.parametrize(("name", "capability"), TO_RECORD, ids=str)
def test_reads_its_recorded_replies(name: str, capability: Capability) -> None:
    """A declared capability builds a valid call for each sample and reads its reply."""
    samples = samples_for(name)
    recorded = samples.recorded.get(operation(capability), ())
    if not recorded:
        pytest.fail(f"connector {name!r} declares {capability} but has no samples.recorded")
    connector = samples.connector()
    build_name, parse_name = METHODS[capability]
    for sample in recorded:
        if capability in WITHOUT_COMMAND:
            assert sample.command is None
            call = getattr(connector, build_name)()
            result = getattr(connector, parse_name)(sample.reply)
        else:
            call = getattr(connector, build_name)(sample.command)
            result = getattr(connector, parse_name)(sample.command, sample.reply)
        assert_valid_call(call)
        check_recorded(connector, capability, sample, result)


@pytest.mark.parametrize("name", NAMES)
def test_webhooks_verified_or_refused(name: str) -> None:
    """A declared WEBHOOKS verifies its own signature, refuses a tampered body, parses."""
    samples = samples_for(name)
    connector = samples.connector()
    if Capability.WEBHOOKS not in REGISTRY[name].supports:
        signed = samples.webhook
        headers, body = (signed.headers, signed.body) if signed else ({}, b"{}")
        with pytest.raises(OperationNotSupported):
            connector.verify_webhook(headers, body)
        with pytest.raises(OperationNotSupported):
            connector.parse_webhook(body)
        return
    signed = samples.webhook
    if signed is None:
        pytest.fail(f"connector {name!r} declares webhooks but has no samples.webhook")
    assert connector.verify_webhook(signed.headers, signed.body) is True
    for body in tampered(signed.body):
        assert connector.verify_webhook(signed.headers, body) is False, body
    assert connector.verify_webhook({}, signed.body) is False
    event = connector.parse_webhook(signed.body)
    assert isinstance(event, WebhookEvent)
    assert event.event_id
    assert event.raw_type
    assert isinstance(event.kind, WebhookKind)
    assert event.provider_reference or event.payment_id, "the event must name its payment"


@pytest.mark.parametrize("name", NAMES)
def test_build_sync(name: str) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    if Capability.SYNC not in REGISTRY[name].supports:
        with pytest.raises(OperationNotSupported):
            connector.build_sync(samples.sync)  # type: ignore[arg-type]
        return
    assert samples.sync is not None
    call = connector.build_sync(samples.sync)
    assert_valid_call(call)
    if REGISTRY[name].sync_repeats_payment:
        # No status call: the sync is the payment's own request, sent again.
        assert call == connector.build_pay_order(samples.pay_order)
    else:
        assert call.method == "GET"
        assert call.body is None


@pytest.mark.parametrize("name", NAMES)
def test_the_reconcile_strategy_is_what_the_connector_can_do(name: str) -> None:
    """The reconciler follows the strategy: it must not promise a sync it cannot make."""
    connector = REGISTRY[name]
    strategy = connector.reconcile_strategy
    assert "reconcile_strategy" in vars(connector), f"{name} must declare its strategy"
    assert strategy.asks == (Capability.SYNC in connector.supports)
    assert (strategy is ReconcileStrategy.CONFIRM_AGAIN) == connector.sync_repeats_payment
    if strategy is ReconcileStrategy.WEBHOOKS:
        assert Capability.WEBHOOKS in connector.supports
    # Its module docstring says how it reads the provider for that (STYLE.md 17).
    assert f"strategy `{strategy.value}`" in (sys.modules[connector.__module__].__doc__ or "")


@pytest.mark.parametrize("name", NAMES)
def test_scrub(name: str) -> None:
    """The request that starts a payment (authorize, else pay_order) scrubs clean."""
    samples = samples_for(name)
    connector = samples.connector()
    starts = [c for c in STARTS if c in REGISTRY[name].supports]
    if not starts:
        pytest.fail(f"connector {name!r} starts no payment: declare one of {STARTS}")
    cmd = command(samples, starts[0])
    call = build(connector, samples, starts[0])
    text = f"{call.method} {call.path} {call.query} {call.body!r} {call.headers}"
    scrubbed = connector.scrub(text)
    if getattr(cmd, "card", None) is None:
        # A hosted page: the card is typed on the provider's form, never sent by us.
        assert samples.pan not in text
    else:
        assert samples.pan in text  # the request really carries the card data
        assert samples.cvv in text
        assert samples.pan not in scrubbed
        assert samples.pan[:6] in scrubbed  # first6 / last4 are kept
        assert samples.pan[-4:] in scrubbed
        assert samples.cvv not in scrubbed
    leaked = [secret for secret in samples.secrets if secret in scrubbed]
    assert not leaked, f"credentials survive scrub(): {leaked}"


@pytest.mark.parametrize(("name", "capability"), SUPPORTED, ids=str)
def test_scrub_every_request(name: str, capability: Capability) -> None:
    """Whatever a request carries, scrub() leaves no card number, CVV or credential."""
    samples = samples_for(name)
    connector = samples.connector()
    call = build(connector, samples, capability)
    # Card data travels in the body only: never in a URL, which proxies and logs keep.
    assert samples.pan not in f"{call.path} {call.query}"
    text = f"{call.method} {call.path} {call.query} {call.body!r} {call.headers} {call!r}"
    scrubbed = connector.scrub(text)
    assert samples.pan not in scrubbed
    if samples.pan in text:
        assert samples.pan[:6] in scrubbed
    assert f'"cvv":"{samples.cvv}"' not in scrubbed.replace(" ", "")
    leaked = [secret for secret in samples.secrets if secret in scrubbed]
    assert not leaked, f"credentials survive scrub(): {leaked}"
    shown = repr(call)
    assert samples.pan not in shown
    assert not [secret for secret in samples.secrets if secret in shown]


@pytest.mark.parametrize("name", NAMES)
def test_unknown_status_is_a_protocol_error(name: str) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    expected = {operation(c) for c in REGISTRY[name].supports if c in READ_STATUS}
    missing = expected - set(samples.unknown_status)
    assert not missing, f"samples.unknown_status lacks {sorted(missing)}"
    by_method = {operation(capability): capability for capability in METHODS}
    for method, reply in samples.unknown_status.items():
        with pytest.raises(ProviderProtocolError):
            parse(connector, samples, by_method[method], reply)
