from tests.api.helpers import act, card_payment, create


async def test_authorize_capture_refund(client):
    created = await create(client, card_payment())
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["status"] == "authorized"
    captured = await act(client, payment["id"], "capture", {"amount": 500})
    assert captured.status_code == 200, captured.text
    assert captured.json()["status"] == "captured"
    refunded = await act(client, payment["id"], "refunds", {"amount": 200})
    assert refunded.json()["status"] == "partially_refunded", refunded.text
