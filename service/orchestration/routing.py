"""Choosing a connector: the one asked for, or the first enabled one able to."""

from collections.abc import Mapping

from service.domain.errors import FieldError, OperationNotSupported, ValidationFailed
from service.domain.ports import Capability, Connector


def connector_for(
    connectors: Mapping[str, Connector], provider: str | None, capability: Capability
) -> Connector:
    able = {name: c for name, c in connectors.items() if capability in c.supports}
    if provider is None and able:
        return next(iter(able.values()))
    if provider is not None and provider in able:
        return able[provider]
    if provider is not None and provider in connectors:
        raise OperationNotSupported(provider, f"{provider} does not offer {capability}")
    raise ValidationFailed(
        f"no enabled provider offers {capability}",
        [FieldError("provider", f"one of: {', '.join(sorted(able)) or 'none'}")],
    )
