"""Settings load once from the environment, typed, and fail fast and clearly."""

import pytest

from service.settings import Secret, SettingsError, load_settings

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
