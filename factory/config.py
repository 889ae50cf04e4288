"""Settings read once from ``FACTORY_*`` environment variables.

Every setting is parsed and checked at start-up so that a bad value stops the
service with a message naming the variable, instead of failing on a request.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Clock skew tolerated when checking ``iat``/``exp`` of a token.
CLOCK_SKEW_SECONDS = 30


class ConfigError(ValueError):
    """A setting has a value the service cannot run with."""


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'instance' / 'factory.db'}"


def _parse_positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive whole number")
    return number


def _parse_non_negative_float(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _parse_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _parse_networks(value: str) -> tuple[str, ...]:
    networks = _parse_list(value)
    for network in networks:
        ipaddress.ip_network(network, strict=False)
    return networks


def _parse_window(value: str) -> tuple[float, float]:
    low, separator, high = value.partition("-")
    if not separator:
        raise ValueError("must be MIN-MAX seconds, e.g. 0-600")
    window = (float(low), float(high))
    if window[0] < 0 or window[1] < window[0]:
        raise ValueError("must be MIN-MAX seconds with 0 <= MIN <= MAX")
    return window


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be 1/0, true/false, yes/no or on/off")


def _parse_database_url(value: str) -> str:
    if not value.startswith(("sqlite:", "postgresql")):
        raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
    if value.startswith("postgresql://"):
        return "postgresql+psycopg://" + value.removeprefix("postgresql://")
    return value


def _parse_public_url(value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def _setting(env: str, parse: Callable[[str], Any], default: Any) -> Any:
    return field(default=default, metadata={"env": env, "parse": parse})


@dataclass(frozen=True)
class Settings:
    """The service's configuration; field metadata names each variable."""

    database_url: str = _setting("FACTORY_DATABASE_URL", _parse_database_url, "")
    keys_dir: Path = _setting("FACTORY_KEYS_DIR", Path, PROJECT_ROOT / "keys")
    issuer: str = _setting("FACTORY_ISSUER", str, "pizza-factory")
    token_ttl: int = _setting("FACTORY_TOKEN_TTL", _parse_positive_int, 86400)
    public_url: str = _setting("FACTORY_PUBLIC_URL", _parse_public_url, "")
    cors_origins: tuple[str, ...] = _setting("FACTORY_CORS_ORIGINS", _parse_list, ())
    jwks_max_age: int = _setting("FACTORY_JWKS_MAX_AGE", _parse_positive_int, 300)
    key_retention: int = _setting("FACTORY_KEY_RETENTION", _parse_positive_int, 0)
    key_passphrases: tuple[str, ...] = _setting("FACTORY_KEY_PASSPHRASES", _parse_list, ())
    oven_full_delay: float = _setting("FACTORY_OVEN_FULL_DELAY", _parse_non_negative_float, 0.0)
    max_body_bytes: int = _setting("FACTORY_MAX_BODY_BYTES", _parse_positive_int, 64 * 1024)
    db_timeout: float = _setting("FACTORY_DB_TIMEOUT", _parse_non_negative_float, 1.5)
    log_level: str = _setting("FACTORY_LOG_LEVEL", str.upper, "INFO")
    metrics_token: str = _setting("FACTORY_METRICS_TOKEN", str, "")
    metrics_networks: tuple[str, ...] = _setting("FACTORY_METRICS_NETWORKS", _parse_networks, ())
    chaos_window: tuple[float, float] = _setting(
        "FACTORY_CHAOS_WINDOW", _parse_window, (0.0, 86400.0)
    )
    chaos_throttle_delay: float = _setting(
        "FACTORY_CHAOS_THROTTLE_DELAY", _parse_non_negative_float, 10.0
    )
    vendor_cache_seconds: float = _setting(
        "FACTORY_VENDOR_CACHE_SECONDS", _parse_non_negative_float, 1.0
    )
    open_registration: bool = _setting("FACTORY_OPEN_REGISTRATION", _parse_bool, False)

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", _default_database_url())
        if not self.key_retention:
            object.__setattr__(self, "key_retention", self.token_ttl + 5 * CLOCK_SKEW_SECONDS)
        if self.key_retention < self.token_ttl + CLOCK_SKEW_SECONDS:
            raise ConfigError(
                f"FACTORY_KEY_RETENTION={self.key_retention}s is shorter than "
                f"FACTORY_TOKEN_TTL={self.token_ttl}s plus {CLOCK_SKEW_SECONDS}s of clock "
                "skew: tokens would outlive the key that verifies them. Raise "
                "FACTORY_KEY_RETENTION or leave it unset to derive it from the TTL."
            )
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ConfigError("FACTORY_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")

    @property
    def allows_any_origin(self) -> bool:
        return not self.cors_origins or "*" in self.cors_origins

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> Settings:
        """Build settings from the environment, then apply typed overrides.

        Overrides may be keyed by field name (``token_ttl``) or by variable name
        (``FACTORY_TOKEN_TTL``); string values are parsed like the environment.
        """
        environ = os.environ if environ is None else environ
        overrides = dict(overrides or {})
        values: dict[str, Any] = {}
        for setting in fields(cls):
            env_name = setting.metadata["env"]
            parse = setting.metadata["parse"]
            for key in (setting.name, env_name):
                if key in overrides:
                    raw = overrides.pop(key)
                    break
            else:
                raw = environ.get(env_name)
            if raw is None:
                continue
            if isinstance(raw, str):
                try:
                    raw = parse(raw)
                except ValueError as exc:
                    raise ConfigError(f"{env_name}={raw!r} is not valid: {exc}") from None
            values[setting.name] = raw
        if overrides:
            raise ConfigError(f"unknown settings: {', '.join(sorted(overrides))}")
        return cls(**values)
