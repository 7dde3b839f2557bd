"""Provider connectors, registered in one place.

The contract suite runs over REGISTRY, so a connector added here is tested by
the shared suite at once.
"""

from service.connectors.base import ConnectorBase
from service.connectors.bizon import BizonConnector, BizonOptions

REGISTRY: dict[str, type[ConnectorBase]] = {c.name: c for c in (BizonConnector,)}

__all__ = ["REGISTRY", "BizonConnector", "BizonOptions", "ConnectorBase"]
