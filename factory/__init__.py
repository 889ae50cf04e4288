"""pizza-factory: a self-hosted JWT Pizza Factory.

``create_app`` wires configuration, extensions, blueprints, error handlers and
CLI commands, in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Flask

from factory.config import Settings
from factory.keyring import KeyPolicy, KeyRing
from factory.keystore import KeyStore

try:
    __version__ = version("pizza-factory")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"


def key_policy(settings: Settings) -> KeyPolicy:
    return KeyPolicy(
        min_next_age=timedelta(seconds=settings.jwks_max_age),
        retention=timedelta(seconds=settings.key_retention),
    )


def key_store(settings: Settings) -> KeyStore:
    return KeyStore(settings.keys_dir, settings.key_passphrases)


def create_app(overrides: Mapping[str, Any] | None = None, *, load_keys: bool = True) -> Flask:
    """Build the app. ``load_keys=False`` is for CLI commands that create or repair keys."""
    from factory import cli, errors, observability
    from factory.api import admin, docs, health, orders, support, vendors, wellknown
    from factory.extensions import init_api, init_cors, init_database, init_orderer_cache

    settings = Settings.load(overrides=overrides)
    observability.configure_logging(settings.log_level)

    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        API_TITLE="pizza-factory",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=settings.max_body_bytes * orders.VERIFY_BODY_FACTOR,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]

    ring = KeyRing(key_store(settings), key_policy(settings))
    if load_keys:
        ring.load()
    app.extensions["keyring"] = ring

    database = init_database(app)
    init_orderer_cache(app, database)
    api = init_api(app)
    init_cors(app)
    observability.init_app(app)
    blueprints = (orders, vendors, admin, support, wellknown, docs, health)
    for blueprint in (module.blp for module in blueprints):
        api.register_blueprint(blueprint)

    errors.init_app(app)
    cli.init_app(app)
    return app
