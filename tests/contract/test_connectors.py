"""One contract suite over REGISTRY: a connector added there is tested here at once.

Per-connector inputs live in tests/contract/samples.py; a registered connector
without samples fails the suite instead of being skipped.
"""

import json

import msgspec
import pytest

from service.connectors import REGISTRY
from service.connectors.base import ConnectorBase
from service.domain.errors import OperationNotSupported, ProviderProtocolError
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.payments import OperationType, PaymentMethodType
from tests.contract.samples import SAMPLES, Samples

NAMES = sorted(REGISTRY)
# The operations a connector sends itself (a chargeback only ever arrives from the provider).
OUTBOUND = [op for op in OperationType if hasattr(ConnectorBase, f"build_{op.value}")]
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def samples_for(name: str) -> Samples:
    if name not in SAMPLES:
        pytest.fail(
            f"connector {name!r} is in REGISTRY but has no entry in tests/contract/samples.py"
        )
    return SAMPLES[name]


def assert_valid_call(call: object) -> None:
    assert isinstance(call, HttpCall)
    assert call.method in HTTP_METHODS
    assert call.path.startswith("/")
    if call.body is not None:
        json.loads(call.body)  # raises when the body is not JSON


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
    assert all(isinstance(op, OperationType) for op in cls.supports)
    assert isinstance(cls.methods, frozenset)
    assert cls.methods
    assert all(isinstance(method, PaymentMethodType) for method in cls.methods)
    options = cls.options_type
    if options is not None:
        assert issubclass(options, msgspec.Struct)
        msgspec.convert({}, options)  # provider_options are optional: every field has a default


@pytest.mark.parametrize("name", NAMES)
def test_samples_are_valid_for_the_connector(name: str) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    assert isinstance(connector, REGISTRY[name])
    assert samples.authorize.method in REGISTRY[name].methods
    assert connector.validate_authorize(samples.authorize) == []


@pytest.mark.parametrize("operation", OUTBOUND, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_build_supported_or_refused(name: str, operation: OperationType) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    build = getattr(connector, f"build_{operation.value}")
    command = getattr(samples, operation.value)
    if operation in REGISTRY[name].supports:
        assert_valid_call(build(command))
    else:
        with pytest.raises(OperationNotSupported):
            build(command)
        with pytest.raises(OperationNotSupported):
            getattr(connector, f"parse_{operation.value}")(command, HttpReply(200, b"{}"))


@pytest.mark.parametrize("name", NAMES)
def test_build_sync(name: str) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    if samples.sync is None:
        with pytest.raises(OperationNotSupported):
            connector.build_sync(samples.sync)  # type: ignore[arg-type]
        return
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
    assert samples.pan in text  # the request really carries the card data
    assert samples.cvv in text
    scrubbed = connector.scrub(text)
    assert samples.pan not in scrubbed
    assert samples.pan[:6] in scrubbed  # first6 / last4 are kept
    assert samples.pan[-4:] in scrubbed
    assert samples.cvv not in scrubbed
    leaked = [secret for secret in samples.secrets if secret in scrubbed]
    assert not leaked, f"credentials survive scrub(): {leaked}"


@pytest.mark.parametrize("name", NAMES)
def test_unknown_status_is_a_protocol_error(name: str) -> None:
    samples = samples_for(name)
    connector = samples.connector()
    expected = {op.value for op in REGISTRY[name].supports if op in OUTBOUND}
    if samples.sync is not None:
        expected.add("sync")
    missing = expected - set(samples.unknown_status)
    assert not missing, f"samples.unknown_status lacks {sorted(missing)}"
    for operation, reply in samples.unknown_status.items():
        command = getattr(samples, operation)
        with pytest.raises(ProviderProtocolError):
            getattr(connector, f"parse_{operation}")(command, reply)
