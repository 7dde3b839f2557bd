"""Typed settings, read once from the environment by `load_settings`.

Nothing reads the environment at import time; tests build `Settings(...)`.
A provider is enabled when its base URL is set.
"""

import contextlib
from collections.abc import Mapping
from typing import Any
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


def call_limit_seconds(connect_timeout: float, read_timeout: float) -> float:
    """The hard limit of one provider call: three connects (two retried) and two reads."""
    return connect_timeout * 3 + read_timeout * 2


class BizonSettings(msgspec.Struct, frozen=True):
    base_url: str
    login: str
    password: Secret
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    total_timeout_seconds: float | None = None  # None: call_limit_seconds()
    max_concurrency: int = 100
    rebill_requires_cvv: bool = True


class PaySuperSettings(msgspec.Struct, frozen=True):
    base_url: str
    project_id: str | None
    secret_key: Secret
    signature_mode: str = "sha512"  # or "secret": the header carries the key itself
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    total_timeout_seconds: float | None = None  # None: call_limit_seconds()
    max_concurrency: int = 100


class ProxySolutionsSettings(msgspec.Struct, frozen=True):
    base_url: str  # the server URL, ending in /api
    api_key: Secret
    api_key_header: str = "api-key"
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    total_timeout_seconds: float | None = None  # None: call_limit_seconds()
    max_concurrency: int = 100
    merchants_ttl_seconds: float = 300.0


class Send2SellSettings(msgspec.Struct, frozen=True):
    base_url: str  # the site, e.g. https://www.send2sell.com (paths are /api/order/...)
    token: Secret
    method_spoofing: bool = False  # POST with _method=PATCH instead of PATCH
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    total_timeout_seconds: float | None = None  # None: call_limit_seconds()
    max_concurrency: int = 100


ProviderSection = BizonSettings | PaySuperSettings | ProxySolutionsSettings | Send2SellSettings


def total_timeout(section: ProviderSection) -> float:
    """A provider's hard limit of one call: its override, else `call_limit_seconds`."""
    if section.total_timeout_seconds is not None:
        return section.total_timeout_seconds
    return call_limit_seconds(section.connect_timeout_seconds, section.timeout_seconds)


class Settings(msgspec.Struct, frozen=True):
    database_url: str
    redis_url: str
    bizon: BizonSettings | None = None
    paysuper: PaySuperSettings | None = None
    proxy_solutions: ProxySolutionsSettings | None = None
    send2sell: Send2SellSettings | None = None
    reconcile_after_seconds: float = 60.0
    reconcile_interval_seconds: float = 5.0
    reconcile_batch_size: int = 50
    reconcile_max_attempts: int = 10
    # `python -m service reconcile` serves /metrics on this port (None: it serves none).
    reconcile_metrics_port: int | None = None
    reconcile_in_process: bool = False
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 40
    idempotency_ttl_seconds: int = 86_400
    idempotency_wait_seconds: float = 10.0
    api_key_cache_seconds: float = 5.0
    exchange_rates_ttl_seconds: float = 60.0
    database_pool_size: int = 10
    redis_pool_size: int = 4
    log_level: str = "INFO"
    log_json: bool = True
    # One circuit breaker per provider and process (service.orchestration.circuit).
    circuit_failure_threshold: int = 5
    circuit_open_seconds: float = 30.0
    circuit_half_open_probes: int = 1

    def provider_timeout(self, provider: str) -> float:
        section = getattr(self, provider, None)
        return float(getattr(section, "timeout_seconds", 30.0))

    def longest_call_seconds(self) -> float:
        """The longest any enabled provider's call can last (0 with none enabled)."""
        sections = (self.bizon, self.paysuper, self.proxy_solutions, self.send2sell)
        return max((total_timeout(s) for s in sections if s is not None), default=0.0)


class ServerSettings(msgspec.Struct, frozen=True):
    """How `python -m service serve` runs the HTTP server."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # In-flight requests get this long after SIGTERM; longer than any provider call,
    # so a payment being charged is recorded before the process exits.
    shutdown_timeout_seconds: float = 90.0
    metrics_multiproc_dir: str | None = None


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


def _seconds(env: Mapping[str, str], name: str, default: float, errors: list[str]) -> float:
    """A duration that may be 0 (off)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        errors.append(f"{name} must be a number of seconds from 0 to 3600, got {raw!r}")
        return default
    return value


def _int(env: Mapping[str, str], name: str, default: int, errors: list[str]) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) <= 0:
        errors.append(f"{name} must be a positive integer, got {raw!r}")
        return default
    return int(raw)


def _outbound(env: Mapping[str, str], prefix: str, errors: list[str]) -> dict[str, Any]:
    """What every provider section has: read, connect and total timeouts, the cap.

    <PREFIX>_TIMEOUT_SECONDS, _CONNECT_TIMEOUT_SECONDS, _TOTAL_TIMEOUT_SECONDS (at
    least one whole attempt, a connect and a read; unset: `call_limit_seconds`) and
    _MAX_CONCURRENCY.
    """
    read = _float(env, f"{prefix}_TIMEOUT_SECONDS", 30.0, errors)
    connect = _float(env, f"{prefix}_CONNECT_TIMEOUT_SECONDS", 5.0, errors)
    total: float | None = None
    name = f"{prefix}_TOTAL_TIMEOUT_SECONDS"
    if env.get(name):
        total = _float(env, name, 0.0, errors)
        if 0 < total < connect + read:
            errors.append(
                f"{name} ({total:g}) must be at least one attempt: "
                f"connect + read timeout = {connect + read:g} s"
            )
    return {
        "timeout_seconds": read,
        "connect_timeout_seconds": connect,
        "total_timeout_seconds": total,
        "max_concurrency": _int(env, f"{prefix}_MAX_CONCURRENCY", 100, errors),
    }


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
        **_outbound(env, "BIZON", errors),
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
        **_outbound(env, "PAYSUPER", errors),
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
        **_outbound(env, "PROXY_SOLUTIONS", errors),
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
        **_outbound(env, "SEND2SELL", errors),
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
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        bizon=bizon,
        paysuper=paysuper,
        proxy_solutions=proxy_solutions,
        send2sell=send2sell,
        reconcile_after_seconds=_float(env, "RECONCILE_AFTER_SECONDS", 60.0, errors),
        reconcile_interval_seconds=_float(env, "RECONCILE_INTERVAL_SECONDS", 5.0, errors),
        reconcile_batch_size=_int(env, "RECONCILE_BATCH_SIZE", 50, errors),
        reconcile_max_attempts=_int(env, "RECONCILE_MAX_ATTEMPTS", 10, errors),
        reconcile_metrics_port=_int(env, "RECONCILE_METRICS_PORT", 0, errors) or None,
        reconcile_in_process=_flag(env, "RECONCILE_IN_PROCESS", False, errors),
        rate_limit_per_second=_float(env, "RATE_LIMIT_PER_SECOND", 20.0, errors),
        rate_limit_burst=_int(env, "RATE_LIMIT_BURST", 40, errors),
        idempotency_ttl_seconds=_int(env, "IDEMPOTENCY_TTL_SECONDS", 86_400, errors),
        idempotency_wait_seconds=_seconds(env, "IDEMPOTENCY_WAIT_SECONDS", 10.0, errors),
        api_key_cache_seconds=_seconds(env, "API_KEY_CACHE_SECONDS", 5.0, errors),
        exchange_rates_ttl_seconds=_float(env, "EXCHANGE_RATES_TTL_SECONDS", 60.0, errors),
        database_pool_size=_int(env, "DATABASE_POOL_SIZE", 10, errors),
        redis_pool_size=_int(env, "REDIS_POOL_SIZE", 4, errors),
        log_level=_log_level(env, errors),
        log_json=_log_format(env, errors),
        circuit_failure_threshold=_int(env, "CIRCUIT_FAILURE_THRESHOLD", 5, errors),
        circuit_open_seconds=_float(env, "CIRCUIT_OPEN_SECONDS", 30.0, errors),
        circuit_half_open_probes=_int(env, "CIRCUIT_HALF_OPEN_PROBES", 1, errors),
    )
    if errors:
        raise SettingsError("invalid configuration:\n  - " + "\n  - ".join(errors))
    return settings


def _log_level(env: Mapping[str, str], errors: list[str]) -> str:
    level = (env.get("LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        errors.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}")
    return level


def _log_format(env: Mapping[str, str], errors: list[str]) -> bool:
    fmt = env.get("LOG_FORMAT") or "json"
    if fmt not in ("json", "console"):
        errors.append(f"LOG_FORMAT must be json or console, got {fmt!r}")
    return fmt != "console"


def load_server_settings(env: Mapping[str, str], settings: Settings) -> ServerSettings:
    """How to serve; the shutdown grace must outlast the longest provider call."""
    errors: list[str] = []
    server = ServerSettings(
        host=env.get("HOST") or "127.0.0.1",
        port=_int(env, "PORT", 8000, errors),
        workers=_int(env, "WORKERS", 1, errors),
        shutdown_timeout_seconds=_float(env, "SHUTDOWN_TIMEOUT_SECONDS", 90.0, errors),
        metrics_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
    )
    longest = settings.longest_call_seconds()
    if server.shutdown_timeout_seconds <= longest:
        errors.append(
            f"SHUTDOWN_TIMEOUT_SECONDS ({server.shutdown_timeout_seconds:g}) must be longer "
            f"than the longest provider call ({longest:g} s: its total timeout, by default "
            "3 x connect + 2 x read timeout)"
        )
    if server.workers > 1 and server.metrics_multiproc_dir is None:
        errors.append("PROMETHEUS_MULTIPROC_DIR is required with WORKERS > 1 (merged metrics)")
    if errors:
        raise SettingsError("invalid configuration:\n  - " + "\n  - ".join(errors))
    return server


class _Recorder(dict[str, str]):
    """An environment where every variable is set: it remembers which were read."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key: str, default: object = None) -> str:
        self.read.add(key)
        return "1"

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return "1"

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return True


def env_names() -> frozenset[str]:
    """Every environment variable the settings read: the deployment's contract.

    Computed by running the loaders over an environment that has everything set, so
    the list cannot drift from the code (the Helm chart is tested against it).
    """
    env = _Recorder()
    try:
        settings = load_settings(env)
    except SettingsError:
        settings = Settings(database_url="", redis_url="")
    with contextlib.suppress(SettingsError):
        load_server_settings(env, settings)
    return frozenset(env.read)
