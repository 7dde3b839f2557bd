"""Garbage in, problems out: random bodies never get a 500 or leave a half-written payment.

Hypothesis runs in a worker thread with a blocking client, so the service (on
this test's event loop) keeps serving while it does.
"""

import asyncio
import uuid

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.helpers import card_payment

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "amount",
    "currency",
    "provider",
    "capture",
    "payment_method",
    "customer",
    "metadata",
    "return_url",
    "provider_options",
    "description",
    "merchant_reference",
]


def _mutations():
    def mutate(field, value):
        body = card_payment()
        body[field] = value
        return body

    return st.builds(mutate, st.sampled_from(FIELDS), json_values)


def _run(base_url: str, api_key: str) -> list[int]:
    seen: list[int] = []
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"})

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(_mutations(), json_values))
    def check(body):
        response = client.post(
            "/v1/payments", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        seen.append(response.status_code)
        assert response.status_code != 500, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"]

    try:
        check()
    finally:
        client.close()
    return seen


async def test_random_bodies_never_500(service_url, api_key):
    statuses = await asyncio.to_thread(_run, service_url, api_key)
    assert statuses
    assert all(s in (201, 400, 413, 422) for s in statuses), sorted(set(statuses))
