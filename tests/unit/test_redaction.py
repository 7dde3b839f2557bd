"""Card data and secrets never reach a log line."""

import io
import json
import sys

import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.commands import CardDetails
from service.domain.redact import scrub_text
from service.logs import configure_logging, redact


def test_scrub_masks_luhn_valid_pans_only():
    text = "card 4111111111111111 or 4111 1111 1111 1111; order 23014806643308174"
    out = scrub_text(text)
    assert "4111111111111111" not in out
    assert "4111 1111 1111 1111" not in out
    assert "411111******1111" in out
    assert "23014806643308174" in out  # not Luhn-valid: a provider id stays readable


def test_scrub_masks_cvv_auth_and_keys():
    text = (
        '{"cvv": "123", "password":"p"} Authorization: Basic dXNlcjpwYXNz sk_abcdefghijklmnopqrstu'
    )
    out = scrub_text(text)
    assert '"123"' not in out
    assert '"p"' not in out
    assert "dXNlcjpwYXNz" not in out
    assert "sk_abcdefghijklmnopqrstu" not in out


def test_processor_masks_sensitive_keys_and_nested_values():
    event = redact(
        None,
        "info",
        {
            "event": "x",
            "card": {"number": "4111111111111111", "cvv": "1"},
            "note": "pan 5555555555554444",
            "items": ["4242424242424242"],
        },
    )
    assert event["card"] == {"number": "***", "cvv": "***"}
    assert "5555555555554444" not in event["note"]
    assert event["items"] == ["424242******4242"]


def test_card_details_repr_hides_pan_and_cvv():
    card = CardDetails("4111111111111111", "123", 12, 2030, "J S")
    assert "4111111111111111" not in repr(card)
    assert "123" not in repr(card)


def test_configured_logging_writes_redacted_json(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stdout", buffer)
    configure_logging("INFO", json=True)
    structlog.get_logger("t").info("paid", pan="4111111111111111", body='{"cvv": "999"}')
    line = json.loads(buffer.getvalue().strip().splitlines()[-1])
    assert line["pan"] == "***"
    assert "999" not in line["body"]
    assert line["level"] == "info"
    assert line["timestamp"]


def _full_scrub(text: str) -> str:
    """scrub_text without its fast path: every pattern, always."""
    from service.domain import redact as r

    text = r._PAN.sub(r._mask_pan, text)
    text = r._SECRET_FIELDS.sub(r'\1"***"', text)
    text = r._API_KEY.sub("sk_***", text)
    return r._AUTH_HEADER.sub(r"\1\2 ***", text)


_PIECES = st.sampled_from(
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1",
        "5555555555554444",
        "378282246310005",
        '"cvv": "123"',
        '"PaRes":"eJzV"',
        '"token" : "tok_1"',
        "Authorization: Bearer abc.def",
        "authorization='Basic dXNlcjpwYXNz'",
        "sk_live_abcdefghijklmnop",
        "pay_01m7yx4cceczaysrc7yanxg4mv",
        "2026-11-21T12:17:51.755734Z",
        "order 23014806643308174",
        " ",
        "-",
        ", ",
    ]
)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=8).map("".join))
@settings(max_examples=400)
def test_the_fast_path_never_skips_what_the_patterns_mask(text: str) -> None:
    assert scrub_text(text) == _full_scrub(text)
