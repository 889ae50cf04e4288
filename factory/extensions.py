"""Extensions, created and bound per app in ``create_app``.

The API (OpenAPI spec) and the database engine belong to one app each, so
tests can run several apps (SQLite and PostgreSQL) in one process.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS
from flask_smorest import Api

from factory.database import Database
from factory.orders import OrdererCache

cors = CORS()

#: Browser-facing endpoints (the React front end calls them with credentials).
BROWSER_RESOURCES = (
    r"/api/order/verify$",
    r"/\.well-known/jwks\.json$",
    r"/api/docs$",
    r"/api/openapi\.json$",
)


def init_api(app: Flask) -> Api:
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    app.extensions["factory_api"] = api
    return api


def init_database(app: Flask) -> Database:
    database = Database()
    database.init_app(app)
    return database


def init_orderer_cache(app: Flask, database: Database) -> None:
    """Vendors remembered between orders; any commit through this app's sessions empties it."""
    cache = OrdererCache(app.config["SETTINGS"].vendor_cache_seconds)
    database.after_every_commit(cache.clear)
    app.extensions["orderers"] = cache


def init_cors(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    cors.init_app(
        app,
        resources={pattern: {} for pattern in BROWSER_RESOURCES},
        origins="*" if settings.allows_any_origin else list(settings.cors_origins),
        supports_credentials=True,
        allow_headers=["Content-Type", "Authorization"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
        vary_header=True,
    )
