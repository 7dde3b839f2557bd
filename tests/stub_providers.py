"""Deliberately broken providers, served for real on loopback (not mocks of our code)."""

import asyncio
from typing import Any

from litestar import Litestar, Request, Response, post


@post("/api/v1/order", status_code=200)
async def _order(request: Request[Any, Any, Any]) -> Response[bytes]:
    """A PaySuper that fails after receiving: 502, or a reply later than any timeout."""
    if b"slow" in await request.body():
        await asyncio.sleep(2)
        return Response(b'{"id": "late", "payment_form_url": "http://127.0.0.1/pay/late"}')
    return Response(b'{"message": "upstream failure", "code": "ps000500"}', status_code=502)


def failing_paysuper() -> Litestar:
    return Litestar([_order])
