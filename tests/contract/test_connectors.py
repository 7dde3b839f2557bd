"""One contract suite over REGISTRY: a connector added there is tested here at once.

Per-connector inputs live in tests/contract/samples.py; a registered connector
without samples fails the suite instead of being skipped.
"""

import json
from typing import Any

import msgspec
import pytest

from service.connectors import REGISTRY
from service.connectors.base import ConnectorBase
from service.domain.errors import OperationNotSupported, ProviderProtocolError
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.payments import PaymentMethodType
from service.domain.ports import Capability, Connector
from service.domain.webhooks import WebhookEvent, WebhookKind
from tests.contract.samples import SAMPLES, Samples

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
}
# Capabilities that send a request (a build_ then a parse_ of the reply); a
# notification is received, not requested: it is verified then parsed.
REQUESTS = sorted(set(Capability) - {Capability.WEBHOOKS})
# Capabilities whose build_/parse_ take no command.
WITHOUT_COMMAND = {Capability.EXCHANGE_RATES, Capability.HEALTH}
# Capabilities whose parse_ reads a payment's (or payout's) status from what it gets.
READ_STATUS = set(Capability) - WITHOUT_COMMAND
# Capabilities with a validate_ the orchestration calls before building.
VALIDATORS = {
    Capability.AUTHORIZE: "validate_authorize",
    Capability.REBILL: "validate_rebill",
    Capability.PAYOUT: "validate_credit",
}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Every (connector, request-sending capability it declares).
SUPPORTED = [(name, c) for name in NAMES for c in sorted(REGISTRY[name].supports) if c in REQUESTS]


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
    if call.body is not None:
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
        msgspec.convert({}, options)  # provider_options are optional: every field has a default


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
    assert call.method == "GET"
    assert call.body is None


@pytest.mark.parametrize("name", NAMES)
def test_scrub(name: str) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    call = connector.build_authorize(samples.authorize)
    text = f"{call.method} {call.path} {call.query} {call.body!r} {call.headers}"
    scrubbed = connector.scrub(text)
    if samples.authorize.card is None:
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
