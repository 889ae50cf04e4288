"""Settings: a bad value stops start-up with a message naming the variable."""

from __future__ import annotations

import pytest

from factory import create_app
from factory.config import ConfigError, Settings
from factory.keystore import MissingRingError


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FACTORY_TOKEN_TTL", "soon"),
        ("FACTORY_TOKEN_TTL", "-5"),
        ("FACTORY_JWKS_MAX_AGE", "0"),
        ("FACTORY_DATABASE_URL", "mysql://x"),
        ("FACTORY_PUBLIC_URL", "pizza.example"),
        ("FACTORY_OPEN_REGISTRATION", "maybe"),
        ("FACTORY_LOG_LEVEL", "chatty"),
    ],
)
def test_bad_values_name_the_variable(variable, value):
    with pytest.raises(ConfigError, match=variable):
        Settings.load(environ={variable: value})


def test_defaults():
    settings = Settings.load(environ={})
    assert settings.token_ttl == 86400
    assert settings.database_url.startswith("sqlite:///") and "instance" in settings.database_url
    assert settings.keys_dir.name == "keys"
    assert settings.allows_any_origin
    assert settings.key_retention >= settings.token_ttl + 30


def test_environment_and_overrides():
    settings = Settings.load(
        environ={"FACTORY_TOKEN_TTL": "600", "FACTORY_CORS_ORIGINS": "https://a, https://b"},
        overrides={"issuer": "test-factory"},
    )
    assert settings.token_ttl == 600
    assert settings.cors_origins == ("https://a", "https://b")
    assert settings.issuer == "test-factory"


def test_unknown_override_is_refused():
    with pytest.raises(ConfigError, match="unknown settings: colour"):
        Settings.load(environ={}, overrides={"colour": "red"})


def test_tokens_outliving_their_key_are_refused():
    with pytest.raises(ConfigError, match="FACTORY_KEY_RETENTION"):
        Settings.load(environ={"FACTORY_TOKEN_TTL": "3600", "FACTORY_KEY_RETENTION": "3600"})


def test_service_without_a_key_refuses_to_start(tmp_path):
    with pytest.raises(MissingRingError, match="pizza-factory keys init"):
        create_app({"database_url": f"sqlite:///{tmp_path}/f.db", "keys_dir": str(tmp_path)})
