"""Every error leaves as JSON ``{"message": ...}``: clients parse all bodies as JSON."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from factory.drills import UnknownDrillType
from factory.keyring import KeyRingError
from factory.ledger import LedgerUnavailable
from factory.observability import DATABASE_ERRORS
from factory.orders import OvenFull
from factory.vendors import AuthenticationFailed, VendorExists, VendorNotFound

log = logging.getLogger(__name__)

OVEN_FULL_MESSAGE = "Unable to satisfy pizza order. The oven is full."
MISSING_PARAMETERS_MESSAGE = "Missing required parameters"

HTTP_MESSAGES = {
    404: "unknown endpoint",
    405: "method not allowed",
    413: "request body too large",
}


class ApiError(Exception):
    """An error with the status and message the client should see."""

    def __init__(
        self, status: int, message: str, *, reason: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.extra = extra


def json_error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"message": message, **extra}), status


def rejected(reason: str) -> None:
    """Note why a request was refused, for the metrics of the endpoint that refused it."""
    g.rejection = reason


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> tuple[Response, int]:
        rejected(
            error.reason or ("invalid request" if error.status == 400 else f"http {error.status}")
        )
        return json_error(error.status, error.message, **error.extra)

    @app.errorhandler(AuthenticationFailed)
    def _unauthenticated(_error: AuthenticationFailed) -> tuple[Response, int]:
        rejected("invalid authentication")
        return json_error(401, "invalid authentication")

    @app.errorhandler(VendorNotFound)
    def _vendor_not_found(_error: VendorNotFound) -> tuple[Response, int]:
        return json_error(404, "unknown vendor")

    @app.errorhandler(VendorExists)
    def _vendor_exists(error: VendorExists) -> tuple[Response, int]:
        return json_error(409, str(error))

    @app.errorhandler(UnknownDrillType)
    def _unknown_drill(error: UnknownDrillType) -> tuple[Response, int]:
        return json_error(400, str(error))

    @app.errorhandler(OvenFull)
    def _oven_full(_error: OvenFull) -> tuple[Response, int]:
        rejected("oven full")
        return json_error(503, OVEN_FULL_MESSAGE)

    @app.errorhandler(LedgerUnavailable)
    def _ledger_unavailable(error: LedgerUnavailable) -> tuple[Response, int]:
        rejected("database unavailable")
        DATABASE_ERRORS.labels("ledger write").inc()
        return json_error(503, str(error))

    @app.errorhandler(SQLAlchemyError)
    def _database_unavailable(error: SQLAlchemyError) -> tuple[Response, int]:
        rejected("database unavailable")
        DATABASE_ERRORS.labels(request.endpoint or "unknown").inc()
        log.error("database error on %s: %s", request.endpoint, type(error).__name__)
        return json_error(503, "the database is unavailable; try again shortly")

    @app.errorhandler(KeyRingError)
    def _ring_unavailable(error: KeyRingError) -> tuple[Response, int]:
        rejected("keys unavailable")
        log.error("key ring unavailable: %s", error)
        return json_error(503, "signing keys are unavailable; try again shortly")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        rejected(f"http {status}")
        message = HTTP_MESSAGES.get(status) or (error.description or error.name)
        response, status = json_error(status, message)
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response, status

    @app.errorhandler(Exception)
    def _unhandled(error: Exception) -> tuple[Response, int]:
        rejected("internal error")
        log.exception("unhandled error", exc_info=error)
        return json_error(500, "internal server error")
