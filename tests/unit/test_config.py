"""Configuration from the environment; production refuses weak secrets."""

from __future__ import annotations

import pytest

import config


@pytest.mark.parametrize("secret", ["", "changeme", "short", "a" * 40, "dev"])
def test_production_refuses_weak_secret_key(monkeypatch, secret):
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load_config("production")


def test_production_accepts_strong_secret_and_hardens_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k3y-" + "x9Y2z!QpL0mN" * 4)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.internal/clusterpact")
    monkeypatch.setenv("TRUSTED_HOSTS", "clusterpact.example.org, www.clusterpact.example.org")
    cfg = config.load_config("production")
    assert cfg.SESSION_COOKIE_SECURE and cfg.SESSION_COOKIE_HTTPONLY
    assert cfg.SESSION_COOKIE_SAMESITE == "Lax"
    assert cfg.SESSION_COOKIE_NAME.startswith("__Host-")
    assert cfg.DATABASE_URL == "postgresql://db.internal/clusterpact"
    assert cfg.MAX_CONTENT_LENGTH > 0
    assert cfg.TRUSTED_HOSTS == ["clusterpact.example.org", "www.clusterpact.example.org"]
    assert cfg.REQUIRE_2FA_ROLES == {"admin", "legal"}
    assert cfg.TRUSTED_PROXIES == 0  # no forwarded header is trusted unless configured


@pytest.mark.parametrize("hosts", ["", " , ", "https://clusterpact.example.org"])
def test_production_needs_trusted_host_names(monkeypatch, hosts):
    monkeypatch.setenv("SECRET_KEY", "k3y-" + "x9Y2z!QpL0mN" * 4)
    monkeypatch.setenv("TRUSTED_HOSTS", hosts)
    with pytest.raises(config.ConfigError, match="TRUSTED_HOSTS"):
        config.load_config("production")


def test_development_trusts_any_host_and_no_proxy(monkeypatch, tmp_path):
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    cfg = config.load_config("development")
    assert cfg.TRUSTED_HOSTS is None and cfg.TRUSTED_PROXIES == 0
    assert not cfg.SESSION_COOKIE_SECURE and not cfg.SESSION_COOKIE_NAME.startswith("__Host-")


@pytest.mark.parametrize("value,roles", [
    ("admin,legal,coordinator", {"admin", "legal", "coordinator"}),
    ("partner", {"partner"}),
    ("", set()),
])
def test_roles_that_require_a_second_factor_are_configurable(monkeypatch, value, roles):
    monkeypatch.setenv("REQUIRE_2FA_ROLES", value)
    assert config.load_config("testing").REQUIRE_2FA_ROLES == roles


@pytest.mark.parametrize("name,value", [("REQUIRE_2FA_ROLES", "admin,superuser"),
                                        ("TRUSTED_PROXIES", "one"),
                                        ("TRUSTED_PROXIES", "-1")])
def test_bad_auth_settings_stop_the_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        config.load_config("testing")


def test_development_generates_and_keeps_a_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = config.load_config("development").SECRET_KEY
    second = config.load_config("development").SECRET_KEY
    assert first == second and config.is_strong_secret(first)
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_environment_name_is_an_error():
    with pytest.raises(config.ConfigError, match="CLUSTERPACT_ENV"):
        config.load_config("staging")
