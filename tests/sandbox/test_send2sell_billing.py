"""Send2Sell sandbox: routing, method spoofing, authentication and the form-only body."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.send2sell_fixtures import (
    S2S_AUTH,
    S2S_FORM,
    S2S_FORM_TYPE,
    S2S_PLAIN,
    S2S_SMALL,
    s2s_credits,
    s2s_errors,
    s2s_message,
    s2s_order,
    s2s_path,
    s2s_pay,
    s2s_raw,
    s2s_requests,
    s2s_sandbox_client,
)

pytest_plugins = ["tests.sandbox.send2sell_fixtures"]

POST_NOT_SUPPORTED = "The POST method is not supported for this route. Supported methods: PATCH."


async def assert_untouched(client: AsyncTestClient[Any], order_id: int = S2S_SMALL) -> None:
    order = await s2s_order(client, order_id)
    assert (order["status"], order["billing"], order["attempts"]) == ("Payment Pending", None, [])
    assert await s2s_credits(client) == "100.00"


# ---- PATCH and the spoofed POST --------------------------------------------------------------


async def test_patch_pays(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status"] == "Paid"
    assert await s2s_credits(s2s_client) == "85.00"


@pytest.mark.parametrize("spoofed", ["PATCH", "patch", " Patch "])
async def test_spoofed_post_pays(s2s_client: AsyncTestClient[Any], spoofed: str) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"_method": spoofed}, method="POST")
    assert response.status_code == 200, response.text
    assert response.json()["consumed_credits"] == 15
    order = await s2s_order(s2s_client, S2S_SMALL)
    assert order["status"] == "Paid"
    assert "_method" not in order["billing"]
    entries = await s2s_requests(s2s_client)
    assert [(e["method"], e["path"]) for e in entries] == [("POST", s2s_path(S2S_SMALL))]


async def test_patch_ignores_a_method_field(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"_method": "DELETE"})
    assert response.status_code == 200, response.text


async def test_post_without_method_field_is_405(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, method="POST")
    assert s2s_message(response, 405) == POST_NOT_SUPPORTED
    assert response.headers["allow"] == "PATCH"
    await assert_untouched(s2s_client)


async def test_post_spoofing_another_method_is_405(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"_method": "PUT"}, method="POST")
    message = s2s_message(response, 405)
    assert message == "The PUT method is not supported for this route. Supported methods: PATCH."


async def test_spoofing_disabled() -> None:
    async with s2s_sandbox_client(allow_method_spoofing=False) as client:
        spoofed = S2S_FORM | {"_method": "PATCH"}
        response = await s2s_pay(client, S2S_SMALL, spoofed, method="POST")
        assert s2s_message(response, 405) == POST_NOT_SUPPORTED
        await assert_untouched(client)
        assert (await s2s_pay(client, S2S_SMALL)).status_code == 200


async def test_method_field_is_read_from_a_form_only(s2s_client: AsyncTestClient[Any]) -> None:
    as_json = await s2s_client.post(
        s2s_path(S2S_SMALL), json=S2S_FORM | {"_method": "PATCH"}, headers=S2S_AUTH
    )
    assert s2s_message(as_json, 405) == POST_NOT_SUPPORTED
    in_query = await s2s_client.post(
        s2s_path(S2S_SMALL), params={"_method": "PATCH"}, data=S2S_FORM, headers=S2S_AUTH
    )
    assert s2s_message(in_query, 405) == POST_NOT_SUPPORTED
    await assert_untouched(s2s_client)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_methods_are_405(s2s_client: AsyncTestClient[Any], method: str) -> None:
    response = await s2s_client.request(method, s2s_path(S2S_SMALL), headers=S2S_AUTH)
    message = s2s_message(response, 405)
    assert (
        message == f"The {method} method is not supported for this route. Supported methods: PATCH."
    )
    assert response.headers["allow"] == "PATCH"


async def test_405_comes_before_authentication(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, headers={}, method="POST")
    assert s2s_message(response, 405) == POST_NOT_SUPPORTED


# ---- routing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("order_id", ["abc", "12a", "-1", "1.5", "+5", "%D9%A3", "%20"])
@pytest.mark.parametrize("method", ["PATCH", "POST", "GET"])
async def test_non_integer_id_is_not_found(
    s2s_client: AsyncTestClient[Any], order_id: str, method: str
) -> None:
    response = await s2s_pay(s2s_client, order_id, S2S_FORM | {"_method": "PATCH"}, method=method)
    assert s2s_message(response, 404) == "Not Found"


async def test_non_integer_id_needs_no_token(s2s_client: AsyncTestClient[Any]) -> None:
    assert s2s_message(await s2s_pay(s2s_client, "abc", headers={}), 404) == "Not Found"


@pytest.mark.parametrize("order_id", ["999999", "0", "1234567890123456789012345"])
async def test_unknown_order(s2s_client: AsyncTestClient[Any], order_id: str) -> None:
    message = s2s_message(await s2s_pay(s2s_client, order_id), 404)
    assert message == f"No query results for model [App\\Models\\Order] {order_id}"


async def test_leading_zeros_name_the_same_order(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, f"0{S2S_SMALL}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == S2S_SMALL


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("PATCH", "/api/order/370562"), ("GET", "/api/orders"), ("POST", "/api/x")],
)
async def test_unknown_routes(s2s_client: AsyncTestClient[Any], method: str, path: str) -> None:
    response = await s2s_client.request(method, path, headers=S2S_AUTH)
    assert s2s_message(response, 404) == "Not Found"


# ---- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "sandbox-token"},
        {"Authorization": "Basic sandbox-token"},
        {"Authorization": "Bearer sandbox-token-x"},
    ],
    ids=["none", "wrong", "no-token", "blank-token", "no-scheme", "basic", "longer"],
)
async def test_unauthenticated(s2s_client: AsyncTestClient[Any], headers: dict[str, str]) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, headers=headers)
    assert s2s_message(response, 401) == "Unauthenticated."
    await assert_untouched(s2s_client)


@pytest.mark.parametrize("value", ["bearer sandbox-token", "BEARER  sandbox-token "])
async def test_bearer_scheme_in_any_case(s2s_client: AsyncTestClient[Any], value: str) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, headers={"Authorization": value})
    assert response.status_code == 200, response.text


async def test_authentication_comes_before_the_order(s2s_client: AsyncTestClient[Any]) -> None:
    assert s2s_message(await s2s_pay(s2s_client, 999999, headers={}), 401) == "Unauthenticated."
    bad = await s2s_raw(s2s_client, S2S_SMALL, b"{}", "application/json")
    assert bad.status_code == 415
    unauthenticated_json = await s2s_client.patch(s2s_path(S2S_SMALL), json={})
    assert s2s_message(unauthenticated_json, 401) == "Unauthenticated."


async def test_custom_token() -> None:
    async with s2s_sandbox_client(token="t0ken") as client:
        default = await s2s_pay(client, S2S_SMALL)
        assert s2s_message(default, 401) == "Unauthenticated."
        custom = await s2s_pay(client, S2S_SMALL, headers={"Authorization": "Bearer t0ken"})
        assert custom.status_code == 200


# ---- form-encoded bodies only ----------------------------------------------------------------

MEDIA_MESSAGE = "The request body must be form-encoded (application/x-www-form-urlencoded)."


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"first_name": "Jane"}', "application/json"),
        (b"{}", "application/json; charset=utf-8"),
        (b"first_name=Jane", "text/plain"),
        (
            b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--x--",
            "multipart/form-data; boundary=x",
        ),
        (b"first_name=Jane", None),
    ],
    ids=["json", "json-charset", "text", "multipart", "no-content-type"],
)
async def test_body_must_be_form_encoded(
    s2s_client: AsyncTestClient[Any], body: bytes, content_type: str | None
) -> None:
    response = await s2s_raw(s2s_client, S2S_SMALL, body, content_type)
    assert s2s_message(response, 415) == MEDIA_MESSAGE
    await assert_untouched(s2s_client)


async def test_json_body_with_valid_fields_is_415(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_client.patch(s2s_path(S2S_SMALL), json=S2S_FORM, headers=S2S_AUTH)
    assert s2s_message(response, 415) == MEDIA_MESSAGE


async def test_unknown_order_comes_before_the_media_type(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_raw(s2s_client, 999999, b"{}", "application/json")
    assert s2s_message(response, 404).startswith("No query results for model")


async def test_empty_body_without_content_type_is_an_empty_form(
    s2s_client: AsyncTestClient[Any],
) -> None:
    errors = s2s_errors(await s2s_raw(s2s_client, S2S_SMALL, b"", None))
    assert list(errors) == ["first_name", "city", "state", "zip", "phone", "use_credits"]


@pytest.mark.parametrize(
    "content_type",
    [
        S2S_FORM_TYPE,
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-URLEncoded",
    ],
)
async def test_form_content_types(s2s_client: AsyncTestClient[Any], content_type: str) -> None:
    body = b"first_name=Jane&city=Austin&state=TX&zip=78701&phone=1&use_credits=1"
    response = await s2s_raw(s2s_client, S2S_SMALL, body, content_type)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe=\x80", b"first_name=%FF%FE&city=%", b"&&&==&", b"a" * 100_000, b"%00=%00"],
    ids=["bad-utf8", "bad-escapes", "separators", "long-key", "nul"],
)
async def test_odd_forms_are_422_not_500(s2s_client: AsyncTestClient[Any], body: bytes) -> None:
    errors = s2s_errors(await s2s_raw(s2s_client, S2S_SMALL, body, S2S_FORM_TYPE))
    assert "use_credits" in errors


async def test_plus_and_escapes_are_decoded(s2s_client: AsyncTestClient[Any]) -> None:
    body = (
        b"first_name=Jos%C3%A9+Mar%C3%ADa&city=San+Antonio&state=TX&zip=78205&phone=1&use_credits=1"
    )
    response = await s2s_raw(s2s_client, S2S_PLAIN, body, S2S_FORM_TYPE)
    assert response.status_code == 200, response.text
    billing = (await s2s_order(s2s_client, S2S_PLAIN))["billing"]
    assert (billing["first_name"], billing["city"]) == ("José María", "San Antonio")
