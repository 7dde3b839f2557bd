"""Typed settings, read once from the environment by `load_settings`.

Nothing reads the environment at import time; tests build `Settings(...)`.
A provider is enabled when its base URL is set.
"""

from collections.abc import Mapping
from urllib.parse import urlsplit

import msgspec


class Secret(str):
    """A string whose repr never shows its value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"

    def reveal(self) -> str:
        return str.__str__(self)


class SettingsError(Exception):
    """The environment does not make a valid configuration; the message lists why."""


class BizonSettings(msgspec.Struct, frozen=True):
    base_url: str
    login: str
    password: Secret
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    rebill_requires_cvv: bool = True


class PaySuperSettings(msgspec.Struct, frozen=True):
    base_url: str
    project_id: str | None
    secret_key: Secret
    signature_mode: str = "sha512"  # or "secret": the header carries the key itself
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0


class ProxySolutionsSettings(msgspec.Struct, frozen=True):
    base_url: str  # the server URL, ending in /api
    api_key: Secret
    api_key_header: str = "api-key"
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    merchants_ttl_seconds: float = 300.0


class Send2SellSettings(msgspec.Struct, frozen=True):
    base_url: str  # the site, e.g. https://www.send2sell.com (paths are /api/order/...)
    token: Secret
    method_spoofing: bool = False  # POST with _method=PATCH instead of PATCH
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0


class Settings(msgspec.Struct, frozen=True):
    database_url: str
    redis_url: str
    bizon: BizonSettings | None = None
    paysuper: PaySuperSettings | None = None
    proxy_solutions: ProxySolutionsSettings | None = None
    send2sell: Send2SellSettings | None = None
    reconcile_after_seconds: float = 60.0
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 40
    idempotency_ttl_seconds: int = 86_400
    exchange_rates_ttl_seconds: float = 60.0
    database_pool_size: int = 10
    redis_pool_size: int = 100
    log_level: str = "INFO"
    log_json: bool = True

    def provider_timeout(self, provider: str) -> float:
        section = getattr(self, provider, None)
        return float(getattr(section, "timeout_seconds", 30.0))


def _float(env: Mapping[str, str], name: str, default: float, errors: list[str]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{name} must be a number, got {raw!r}")
        return default
    if value <= 0:
        errors.append(f"{name} must be > 0, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool, errors: list[str]) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    errors.append(f"{name} must be true or false, got {raw!r}")
    return default


def _url(env: Mapping[str, str], name: str, schemes: set[str], errors: list[str]) -> str:
    raw = env.get(name, "")
    if not raw:
        errors.append(f"{name} is required")
        return ""
    parts = urlsplit(raw)
    # A unix socket has no host: "unix:///run/redis.sock", "postgresql:///db?host=/run".
    local = parts.scheme == "unix" or "host=" in parts.query
    if parts.scheme not in schemes or not (parts.hostname or local):
        errors.append(f"{name} must be a {'/'.join(sorted(schemes))} URL, got {parts.scheme}://…")
    return raw


def _bizon(env: Mapping[str, str], errors: list[str]) -> BizonSettings | None:
    if not env.get("BIZON_BASE_URL"):
        return None
    base_url = _url(env, "BIZON_BASE_URL", {"http", "https"}, errors).rstrip("/")
    login = env.get("BIZON_LOGIN", "")
    if not login:
        errors.append("BIZON_LOGIN is required when BIZON_BASE_URL is set")
    return BizonSettings(
        base_url=base_url,
        login=login,
        password=Secret(env.get("BIZON_PASSWORD", "")),
        timeout_seconds=_float(env, "BIZON_TIMEOUT_SECONDS", 30.0, errors),
        connect_timeout_seconds=_float(env, "BIZON_CONNECT_TIMEOUT_SECONDS", 5.0, errors),
        rebill_requires_cvv=_flag(env, "BIZON_REBILL_REQUIRES_CVV", True, errors),
    )


def _paysuper(env: Mapping[str, str], errors: list[str]) -> PaySuperSettings | None:
    if not env.get("PAYSUPER_BASE_URL"):
        return None
    base_url = _url(env, "PAYSUPER_BASE_URL", {"http", "https"}, errors).rstrip("/")
    secret = env.get("PAYSUPER_SECRET_KEY", "")
    if not secret:
        errors.append("PAYSUPER_SECRET_KEY is required when PAYSUPER_BASE_URL is set")
    mode = env.get("PAYSUPER_SIGNATURE_MODE", "sha512")
    if mode not in ("sha512", "secret"):
        errors.append(f"PAYSUPER_SIGNATURE_MODE must be sha512 or secret, got {mode!r}")
    return PaySuperSettings(
        base_url=base_url,
        project_id=env.get("PAYSUPER_PROJECT_ID") or None,
        secret_key=Secret(secret),
        signature_mode=mode,
        timeout_seconds=_float(env, "PAYSUPER_TIMEOUT_SECONDS", 30.0, errors),
        connect_timeout_seconds=_float(env, "PAYSUPER_CONNECT_TIMEOUT_SECONDS", 5.0, errors),
    )


def _proxy_solutions(env: Mapping[str, str], errors: list[str]) -> ProxySolutionsSettings | None:
    if not env.get("PROXY_SOLUTIONS_BASE_URL"):
        return None
    base_url = _url(env, "PROXY_SOLUTIONS_BASE_URL", {"http", "https"}, errors).rstrip("/")
    key = env.get("PROXY_SOLUTIONS_API_KEY", "")
    if not key:
        errors.append("PROXY_SOLUTIONS_API_KEY is required when PROXY_SOLUTIONS_BASE_URL is set")
    return ProxySolutionsSettings(
        base_url=base_url,
        api_key=Secret(key),
        api_key_header=env.get("PROXY_SOLUTIONS_API_KEY_HEADER", "api-key") or "api-key",
        timeout_seconds=_float(env, "PROXY_SOLUTIONS_TIMEOUT_SECONDS", 30.0, errors),
        connect_timeout_seconds=_float(env, "PROXY_SOLUTIONS_CONNECT_TIMEOUT_SECONDS", 5.0, errors),
        merchants_ttl_seconds=_float(env, "PROXY_SOLUTIONS_MERCHANTS_TTL_SECONDS", 300.0, errors),
    )


def _send2sell(env: Mapping[str, str], errors: list[str]) -> Send2SellSettings | None:
    if not env.get("SEND2SELL_BASE_URL"):
        return None
    base_url = _url(env, "SEND2SELL_BASE_URL", {"http", "https"}, errors).rstrip("/")
    token = env.get("SEND2SELL_TOKEN", "")
    if not token:
        errors.append("SEND2SELL_TOKEN is required when SEND2SELL_BASE_URL is set")
    return Send2SellSettings(
        base_url=base_url,
        token=Secret(token),
        method_spoofing=_flag(env, "SEND2SELL_METHOD_SPOOFING", False, errors),
        timeout_seconds=_float(env, "SEND2SELL_TIMEOUT_SECONDS", 30.0, errors),
        connect_timeout_seconds=_float(env, "SEND2SELL_CONNECT_TIMEOUT_SECONDS", 5.0, errors),
    )


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build and validate the settings; raise SettingsError naming every problem."""
    errors: list[str] = []
    database_url = _url(env, "DATABASE_URL", {"postgres", "postgresql"}, errors)
    redis_url = _url(env, "REDIS_URL", {"redis", "rediss", "unix"}, errors)
    bizon = _bizon(env, errors)
    paysuper = _paysuper(env, errors)
    proxy_solutions = _proxy_solutions(env, errors)
    send2sell = _send2sell(env, errors)
    burst_raw = env.get("RATE_LIMIT_BURST", "40")
    burst = int(burst_raw) if burst_raw.isdigit() and int(burst_raw) > 0 else 0
    if burst == 0:
        errors.append(f"RATE_LIMIT_BURST must be a positive integer, got {burst_raw!r}")
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        bizon=bizon,
        paysuper=paysuper,
        proxy_solutions=proxy_solutions,
        send2sell=send2sell,
        reconcile_after_seconds=_float(env, "RECONCILE_AFTER_SECONDS", 60.0, errors),
        rate_limit_per_second=_float(env, "RATE_LIMIT_PER_SECOND", 20.0, errors),
        rate_limit_burst=burst,
        exchange_rates_ttl_seconds=_float(env, "EXCHANGE_RATES_TTL_SECONDS", 60.0, errors),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        log_json=env.get("LOG_FORMAT", "json") != "console",
    )
    if errors:
        raise SettingsError("invalid configuration:\n  - " + "\n  - ".join(errors))
    return settings
