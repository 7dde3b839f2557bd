"""A Hypothesis stateful test: random capture/void/refund/sync sequences on payments.

A model of the state machine (service/domain/payments.py) predicts the answer of
every call, made through the HTTP API against the Bizon simulator; after each
step the payment read back must equal the model, and at the end of each example
the ledger's invariants must hold in PostgreSQL. The machine runs in a thread with
a blocking client, since the service under test serves from this test's event loop.
"""

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.api.helpers import card_payment
from tests.resilience.invariants import ledger_violations

pytestmark = pytest.mark.timeout(300)

EXAMPLES = 60
STEPS = 15
MAX_PAYMENTS = 3  # few payments, long lives: the later states get reached


@dataclass
class Model:
    id: str
    authorized: int
    status: str = "authorized"
    captured: int = 0
    refunded: int = 0
    operations: int = 1  # the authorize
    history: list[str] = field(default_factory=list)


def _amount(data: st.DataObject, limit: int) -> int | None:
    """An amount around `limit` (what the payment allows): the edges most often."""
    edge = max(limit, 1)
    return data.draw(
        st.one_of(
            st.sampled_from([None, edge, edge + 1, 1]),
            st.sampled_from([edge + 1, edge - 1 or 1]),
            st.integers(min_value=1, max_value=2 * edge + 1),
        )
    )


class PaymentLifecycle(RuleBasedStateMachine):
    """Bound to a running service by `bound()`."""

    payments = Bundle("payments")
    base_url = ""
    api_key = ""
    database_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=20
        )
        self.models: dict[str, Model] = {}

    def teardown(self) -> None:
        self.http.close()
        violations = asyncio.run(ledger_violations(self.database_url, set(self.models)))
        assert not violations, violations

    def _post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})

    def _expect(self, m: Model, r: httpx.Response, status: int, code: str | None) -> None:
        m.history.append(f"{r.request.url.path} -> {r.status_code}")
        assert r.status_code == status, (m.history, r.text)
        if code is not None:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == code, (m.history, r.text)
        else:
            m.operations += 1

    @initialize(target=payments, amount=st.integers(min_value=1, max_value=1_000))
    def first(self, amount: int) -> str:
        return self.authorize(amount, automatic=True)  # refunds reachable at once

    @precondition(lambda self: len(self.models) < MAX_PAYMENTS)
    @rule(
        target=payments,
        amount=st.integers(min_value=1, max_value=1_000),
        automatic=st.booleans(),
    )
    def another(self, amount: int, automatic: bool) -> str:
        return self.authorize(amount, automatic)

    def authorize(self, amount: int, automatic: bool) -> str:
        capture = "automatic" if automatic else "manual"
        r = self._post("/v1/payments", card_payment(amount=amount, capture=capture))
        assert r.status_code == 201, r.text
        body = r.json()
        m = Model(body["id"], amount)
        if automatic:
            m.status, m.captured, m.operations = "captured", amount, 2
        assert body["status"] == m.status, body
        self.models[m.id] = m
        return m.id

    @rule(payment=payments, data=st.data())
    def capture(self, payment: str, data: st.DataObject) -> None:
        m = self.models[payment]
        amount = _amount(data, m.authorized)
        r = self._post(f"/v1/payments/{payment}/capture", {"amount": amount})
        if m.status != "authorized":
            self._expect(m, r, 409, "invalid_state")
        elif amount is not None and amount > m.authorized:
            self._expect(m, r, 422, "amount_exceeds_capturable")
        else:
            self._expect(m, r, 200, None)
            m.captured = m.authorized if amount is None else amount
            m.status = "captured"

    @rule(payment=payments)
    def void(self, payment: str) -> None:
        m = self.models[payment]
        r = self._post(f"/v1/payments/{payment}/void")
        if m.status != "authorized":
            self._expect(m, r, 409, "invalid_state")
        else:
            self._expect(m, r, 200, None)
            m.status = "voided"

    @rule(payment=payments, data=st.data())
    def refund(self, payment: str, data: st.DataObject) -> None:
        m = self.models[payment]
        amount = _amount(data, m.captured - m.refunded)
        r = self._post(f"/v1/payments/{payment}/refunds", {"amount": amount})
        refundable = m.captured - m.refunded
        if m.status not in ("captured", "partially_refunded"):
            self._expect(m, r, 409, "invalid_state")
        elif amount is not None and amount > refundable:
            self._expect(m, r, 422, "amount_exceeds_refundable")
        else:
            self._expect(m, r, 200, None)
            m.refunded += refundable if amount is None else amount
            m.status = "refunded" if m.refunded >= m.captured else "partially_refunded"

    @rule(payment=payments)
    def sync(self, payment: str) -> None:
        m = self.models[payment]
        r = self._post(f"/v1/payments/{payment}/sync")
        m.history.append(f"sync -> {r.status_code}")
        assert r.status_code == 200, (m.history, r.text)  # and nothing to import

    @invariant()
    def payments_match_the_model(self) -> None:
        for m in self.models.values():
            body = self.http.get(f"/v1/payments/{m.id}").json()
            seen = (
                body["status"],
                body["amount_authorized"],
                body["amount_captured"],
                body["amount_refunded"],
                len(body["operations"]),
            )
            expected = (m.status, m.authorized, m.captured, m.refunded, m.operations)
            assert seen == expected, (m.history, body)
            assert not [o for o in body["operations"] if o["status"] != "succeeded"]


def bound(base_url: str, api_key: str, database_url: str) -> type[RuleBasedStateMachine]:
    return type(
        "BoundPaymentLifecycle",
        (PaymentLifecycle,),
        {"base_url": base_url, "api_key": api_key, "database_url": database_url},
    )


async def test_random_lifecycles_match_the_model(
    service_url: str, api_key: str, database_url: str
) -> None:
    machine = bound(service_url, api_key, database_url)
    config = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: every step is HTTP calls, and each rule's assertion already
        # carries the payment's history, so the unshrunk sequence reads well enough.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=config)
