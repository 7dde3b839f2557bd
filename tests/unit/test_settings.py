"""Settings load once from the environment, typed, and fail fast and clearly."""

import pytest

from service.settings import (
    Secret,
    SettingsError,
    env_names,
    load_server_settings,
    load_settings,
)

BASE = {"DATABASE_URL": "postgresql://u@db:5432/p", "REDIS_URL": "redis://cache:6379/0"}


def test_minimal_environment():
    settings = load_settings(BASE)
    assert settings.bizon is None
    assert settings.rate_limit_burst == 40


def test_a_provider_is_enabled_by_its_base_url():
    settings = load_settings(
        BASE
        | {
            "BIZON_BASE_URL": "http://bizon:5001/",
            "BIZON_LOGIN": "project",
            "BIZON_PASSWORD": "s3cret",
            "BIZON_TIMEOUT_SECONDS": "12.5",
        }
    )
    assert settings.bizon is not None
    assert settings.bizon.base_url == "http://bizon:5001"
    assert settings.bizon.timeout_seconds == 12.5
    assert "s3cret" not in repr(settings)
    assert settings.bizon.password.reveal() == "s3cret"


def test_unix_sockets_are_urls_too():
    load_settings(
        {
            "DATABASE_URL": "postgresql://postgres:@/postgres?host=/tmp/pg",
            "REDIS_URL": "unix:///tmp/r.sock",
        }
    )


def test_every_problem_is_named_at_once():
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "DATABASE_URL": "mysql://x",
                "BIZON_BASE_URL": "ftp://bizon",
                "RATE_LIMIT_PER_SECOND": "fast",
                "RATE_LIMIT_BURST": "-1",
                "RECONCILE_AFTER_SECONDS": "0",
            }
        )
    message = str(caught.value)
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "BIZON_BASE_URL",
        "BIZON_LOGIN",
        "RATE_LIMIT_PER_SECOND",
        "RATE_LIMIT_BURST",
        "RECONCILE_AFTER_SECONDS",
    ):
        assert name in message


def test_secret_repr_is_masked():
    assert repr(Secret("x")) == "Secret('***')"


def test_server_settings_from_the_environment():
    settings = load_settings(BASE)
    server = load_server_settings(
        {"HOST": "0.0.0.0", "PORT": "9000", "WORKERS": "3", "PROMETHEUS_MULTIPROC_DIR": "/tmp/m"},
        settings,
    )
    assert (server.host, server.port, server.workers) == ("0.0.0.0", 9000, 3)
    assert server.shutdown_timeout_seconds == 90


def test_the_shutdown_grace_must_outlast_the_longest_provider_call():
    # Bizon: 3 x 5 s connect + 2 x 40 s read = 95 s > the default 90 s grace.
    slow = load_settings(
        BASE
        | {
            "BIZON_BASE_URL": "http://bizon",
            "BIZON_LOGIN": "p",
            "BIZON_TIMEOUT_SECONDS": "40",
        }
    )
    assert slow.longest_call_seconds() == 95
    with pytest.raises(SettingsError, match="SHUTDOWN_TIMEOUT_SECONDS"):
        load_server_settings({}, slow)
    assert load_server_settings({"SHUTDOWN_TIMEOUT_SECONDS": "100"}, slow).port == 8000


BIZON = BASE | {"BIZON_BASE_URL": "http://bizon", "BIZON_LOGIN": "p"}


def test_the_breaker_and_the_outbound_cap_have_defaults():
    settings = load_settings(BIZON)
    assert settings.circuit_failure_threshold == 5
    assert settings.circuit_open_seconds == 30
    assert settings.circuit_half_open_probes == 1
    assert settings.bizon is not None
    assert settings.bizon.max_concurrency == 100
    assert settings.bizon.total_timeout_seconds is None
    assert settings.longest_call_seconds() == 3 * 5 + 2 * 30  # call_limit_seconds


def test_a_total_timeout_overrides_the_call_limit():
    settings = load_settings(
        BIZON | {"BIZON_TOTAL_TIMEOUT_SECONDS": "36", "BIZON_MAX_CONCURRENCY": "3"}
    )
    assert settings.bizon is not None
    assert (settings.bizon.total_timeout_seconds, settings.bizon.max_concurrency) == (36, 3)
    assert settings.longest_call_seconds() == 36
    # The shutdown grace is checked against the override, not 3 x connect + 2 x read.
    assert load_server_settings({"SHUTDOWN_TIMEOUT_SECONDS": "40"}, settings).port == 8000


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # One attempt needs a connect and a read: 5 + 30 s by default.
        ({"BIZON_TOTAL_TIMEOUT_SECONDS": "34.9"}, "at least one attempt: connect \\+ read"),
        (
            {
                "BIZON_TOTAL_TIMEOUT_SECONDS": "5",
                "BIZON_TIMEOUT_SECONDS": "3",
                "BIZON_CONNECT_TIMEOUT_SECONDS": "2.5",
            },
            "= 5.5 s",
        ),
        ({"BIZON_TOTAL_TIMEOUT_SECONDS": "0"}, "BIZON_TOTAL_TIMEOUT_SECONDS must be > 0"),
        ({"BIZON_MAX_CONCURRENCY": "0"}, "BIZON_MAX_CONCURRENCY must be a positive integer"),
    ],
)
def test_a_total_timeout_shorter_than_one_attempt_is_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(BIZON | env)


def test_several_workers_need_a_metrics_directory():
    with pytest.raises(SettingsError, match="PROMETHEUS_MULTIPROC_DIR"):
        load_server_settings({"WORKERS": "2"}, load_settings(BASE))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_POOL_SIZE", "0"),
        ("REDIS_POOL_SIZE", "many"),
        ("IDEMPOTENCY_TTL_SECONDS", "-5"),
        ("RECONCILE_BATCH_SIZE", "1.5"),
        ("RECONCILE_IN_PROCESS", "sometimes"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
        ("CIRCUIT_FAILURE_THRESHOLD", "0"),
        ("CIRCUIT_OPEN_SECONDS", "-1"),
        ("CIRCUIT_HALF_OPEN_PROBES", "some"),
    ],
)
def test_bad_values_are_named(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings(BASE | {name: value})


def test_every_variable_read_is_listed():
    names = env_names()
    # Spot checks of each group; the Helm chart test compares the whole set.
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "BIZON_PASSWORD",
        "PAYSUPER_SECRET_KEY",
        "PROXY_SOLUTIONS_API_KEY",
        "SEND2SELL_TOKEN",
        "RECONCILE_IN_PROCESS",
        "SHUTDOWN_TIMEOUT_SECONDS",
        "WORKERS",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        assert name in names
    assert "SANDBOX_PORT" not in names  # make run's own, not the service's


# A valid, non-default value for every variable: a new one must be added here too.
EVERY = {
    "DATABASE_URL": "postgresql://u@db:5432/p",
    "REDIS_URL": "redis://cache:6379/0",
    "BIZON_BASE_URL": "http://bizon",
    "BIZON_LOGIN": "login",
    "BIZON_PASSWORD": "pw",
    "BIZON_TIMEOUT_SECONDS": "11",
    "BIZON_CONNECT_TIMEOUT_SECONDS": "2",
    "BIZON_TOTAL_TIMEOUT_SECONDS": "20",
    "BIZON_MAX_CONCURRENCY": "7",
    "BIZON_REBILL_REQUIRES_CVV": "false",
    "PAYSUPER_BASE_URL": "http://paysuper",
    "PAYSUPER_PROJECT_ID": "proj",
    "PAYSUPER_SECRET_KEY": "secret",
    "PAYSUPER_SIGNATURE_MODE": "secret",
    "PAYSUPER_TIMEOUT_SECONDS": "12",
    "PAYSUPER_CONNECT_TIMEOUT_SECONDS": "3",
    "PAYSUPER_TOTAL_TIMEOUT_SECONDS": "40",
    "PAYSUPER_MAX_CONCURRENCY": "8",
    "PROXY_SOLUTIONS_BASE_URL": "http://proxy/api",
    "PROXY_SOLUTIONS_API_KEY": "key",
    "PROXY_SOLUTIONS_API_KEY_HEADER": "X-Key",
    "PROXY_SOLUTIONS_TIMEOUT_SECONDS": "13",
    "PROXY_SOLUTIONS_CONNECT_TIMEOUT_SECONDS": "4",
    "PROXY_SOLUTIONS_TOTAL_TIMEOUT_SECONDS": "50",
    "PROXY_SOLUTIONS_MAX_CONCURRENCY": "9",
    "PROXY_SOLUTIONS_MERCHANTS_TTL_SECONDS": "7",
    "SEND2SELL_BASE_URL": "http://send2sell",
    "SEND2SELL_TOKEN": "tok",
    "SEND2SELL_METHOD_SPOOFING": "true",
    "SEND2SELL_TIMEOUT_SECONDS": "14",
    "SEND2SELL_CONNECT_TIMEOUT_SECONDS": "1",
    "SEND2SELL_TOTAL_TIMEOUT_SECONDS": "17",
    "SEND2SELL_MAX_CONCURRENCY": "10",
    "RECONCILE_AFTER_SECONDS": "30",
    "RECONCILE_INTERVAL_SECONDS": "2",
    "RECONCILE_BATCH_SIZE": "7",
    "RECONCILE_MAX_ATTEMPTS": "3",
    "RECONCILE_METRICS_PORT": "9102",
    "RECONCILE_IN_PROCESS": "true",
    "RATE_LIMIT_PER_SECOND": "5",
    "RATE_LIMIT_BURST": "9",
    "IDEMPOTENCY_TTL_SECONDS": "3600",
    "API_KEY_CACHE_SECONDS": "2.5",
    "IDEMPOTENCY_WAIT_SECONDS": "1.5",
    "EXCHANGE_RATES_TTL_SECONDS": "8",
    "DATABASE_POOL_SIZE": "4",
    "REDIS_POOL_SIZE": "6",
    "LOG_LEVEL": "DEBUG",
    "LOG_FORMAT": "console",
    "CIRCUIT_FAILURE_THRESHOLD": "3",
    "CIRCUIT_OPEN_SECONDS": "12",
    "CIRCUIT_HALF_OPEN_PROBES": "2",
    "HOST": "0.0.0.0",
    "PORT": "9000",
    "WORKERS": "2",
    "SHUTDOWN_TIMEOUT_SECONDS": "95",
    "PROMETHEUS_MULTIPROC_DIR": "/tmp/metrics",
}


def test_every_listed_variable_changes_something():
    """A name env_names() lists that no setting depends on would mislead deployers."""
    assert set(EVERY) == env_names()
    full = _loaded(EVERY)
    for name in sorted(EVERY):
        without = {k: v for k, v in EVERY.items() if k != name}
        assert _loaded(without) != full, name


def _loaded(env: dict[str, str]) -> str:
    try:
        settings = load_settings(env)
        return repr(settings) + repr(load_server_settings(env, settings))
    except SettingsError as exc:
        return str(exc)
