"""Card data and secrets never reach a log line."""

import io
import json
import sys

import structlog

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
