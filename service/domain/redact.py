"""Redaction of card data and secrets from any text bound for a log or a reply."""

import re

from service.domain.cards import luhn_valid

# 13-19 digits, optionally grouped by spaces or dashes: anything that may be a PAN.
_PAN = re.compile(r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])")
_SECRET_FIELDS = re.compile(
    r'("(?:cvv|cvc|cvv2|password|PaRes|pares|cres|token|secret)"\s*:\s*)"[^"]*"', re.IGNORECASE
)
# The wire form (Authorization: Basic x) and dict/JSON forms ('Authorization': 'Basic x').
_AUTH_HEADER = re.compile(
    r"""(authorization["']?\s*[:=]\s*["']?)(basic|bearer)\s+[^\s"',}]+""", re.IGNORECASE
)
_API_KEY = re.compile(r"\bsk_[A-Za-z0-9_-]{16,}")


def _mask_pan(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # Only Luhn-valid runs are card numbers; provider order ids stay readable.
    if not luhn_valid(digits):
        return match.group(0)
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


# One scan says whether a text may hold anything the patterns below mask: six digits
# (each possibly after a space or dash: every PAN has them), or a keyword of the
# others. Most log values (ids, paths, statuses) hold none and cost just this scan.
_SUSPECT = re.compile(
    r"\d(?:[ -]?\d){5}|sk_|authoriz|cvv|cvc|password|pares|cres|token|secret", re.IGNORECASE
)


def scrub_text(text: str) -> str:
    """Mask PANs (keep first6/last4), card security codes, secrets and auth headers."""
    if not _SUSPECT.search(text):
        return text
    text = _PAN.sub(_mask_pan, text)
    text = _SECRET_FIELDS.sub(r'\1"***"', text)
    text = _API_KEY.sub("sk_***", text)
    return _AUTH_HEADER.sub(r"\1\2 ***", text)
