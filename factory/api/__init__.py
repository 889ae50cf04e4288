"""HTTP blueprints. Handlers stay thin: parse with a schema, call the domain, dump."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import flask_smorest
from flask import current_app, g, request
from flask_smorest.utils import resolve_schema_instance
from marshmallow import ValidationError
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser

from factory.config import Settings
from factory.database import Database
from factory.errors import MISSING_PARAMETERS_MESSAGE, ApiError
from factory.keyring import KeyRing
from factory.models import Vendor
from factory.orders import OrdererCache
from factory.vendors import AuthenticationFailed, authenticate

MISSING_FIELD_ERRORS = {"Missing data for required field.", "Field may not be null."}


def _is_missing_field(messages: Any) -> bool:
    if isinstance(messages, list):
        return any(m in MISSING_FIELD_ERRORS for m in messages if isinstance(m, str))
    return False


class JsonBodyParser(FlaskParser):
    """Turns schema errors into the hosted factory's 400 JSON answers."""

    def handle_error(
        self, error: ValidationError, req: Any, schema: Any, **_kwargs: Any
    ) -> NoReturn:
        messages = (
            error.messages.get("json", error.messages)
            if isinstance(error.messages, dict)
            else error.messages
        )
        if isinstance(messages, dict) and any(
            _is_missing_field(value) for value in messages.values()
        ):
            raise ApiError(400, MISSING_PARAMETERS_MESSAGE, errors=messages)
        raise ApiError(400, "invalid request body", errors=messages)

    def _handle_invalid_json_error(self, error: Exception, req: Any, *a: Any, **k: Any) -> NoReturn:
        raise ApiError(400, "request body is not valid JSON")


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """Build the request schema once: webargs instantiates a schema class on every
        request, and a nested schema costs deep copies of all its fields each time."""
        return super().arguments(resolve_schema_instance(schema), *args, **kwargs)

    def endpoint(
        self, *, example: str, response: Any, requires_auth: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Document an endpoint for /api/docs: an example call and its answer."""
        doc: dict[str, Any] = {"x-example": example, "x-response": response}
        if requires_auth:
            doc["security"] = [{"bearerAuth": []}]
        return self.doc(**doc)


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def key_ring() -> KeyRing:
    return current_app.extensions["keyring"]


def database() -> Database:
    return current_app.extensions["database"]


def orderer_cache() -> OrdererCache:
    return current_app.extensions["orderers"]


def db_session() -> Session:
    return database().session


def absolute_url(path: str) -> str:
    """``FACTORY_PUBLIC_URL`` + path, else the request's own scheme and host."""
    base = settings().public_url or request.host_url.rstrip("/")
    return base + path


def authenticated_admin() -> Vendor:
    """The calling vendor if it has the admin role; anyone else gets 401, as hosted."""
    vendor = authenticated_vendor()
    if not vendor.is_admin:
        raise AuthenticationFailed
    return vendor


def authenticated_vendor() -> Vendor:
    """The calling vendor; its id goes into the request log and metrics (never its key)."""
    vendor = authenticate(db_session(), request.headers.get("Authorization"))
    g.vendor_id = vendor.id
    return vendor
