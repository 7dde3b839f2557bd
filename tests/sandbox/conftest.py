"""Fixtures of the Bizon sandbox tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.bizon import BizonSandboxConfig, create_bizon_sandbox
from tests.sandbox.helpers import PUBLIC_URL


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_bizon_sandbox(BizonSandboxConfig(public_url=PUBLIC_URL, slow_seconds=0.2))
    async with AsyncTestClient(app=app) as test_client:
        test_client.auth = ("sandbox", "sandbox")
        test_client.follow_redirects = False
        yield test_client
