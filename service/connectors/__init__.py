"""Provider connectors, registered in one place.

The contract suite runs over REGISTRY, so a connector added here is tested by
the shared suite at once.
"""

from service.connectors.base import ConnectorBase
from service.connectors.bizon import BizonConnector, BizonOptions
from service.connectors.paysuper import PaySuperConnector, PaySuperOptions
from service.connectors.proxy_solutions import ProxySolutionsConnector, ProxySolutionsOptions
from service.connectors.send2sell import Send2SellConnector, Send2SellOptions

REGISTRY: dict[str, type[ConnectorBase]] = {
    c.name: c
    for c in (BizonConnector, PaySuperConnector, ProxySolutionsConnector, Send2SellConnector)
}

__all__ = [
    "REGISTRY",
    "BizonConnector",
    "BizonOptions",
    "ConnectorBase",
    "PaySuperConnector",
    "PaySuperOptions",
    "ProxySolutionsConnector",
    "ProxySolutionsOptions",
    "Send2SellConnector",
    "Send2SellOptions",
]
