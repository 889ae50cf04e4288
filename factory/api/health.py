"""Liveness, readiness and Prometheus metrics for on-call."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from factory import drills
from factory.api import Blueprint, db_session, key_ring, settings
from factory.errors import ApiError
from factory.keyring import KeyRingError
from factory.keystore import KeyState
from factory.observability import address_allowed, render_metrics
from factory.vendors import bearer_key

blp = Blueprint("health", __name__, description="Health and metrics")


@blp.route("/healthz", methods=["GET"])
@blp.endpoint(example="curl $FACTORY/healthz", response={"status": "ok"})
def healthz() -> dict[str, Any]:
    """Liveness: the process answers. Touches neither the database nor the disk."""
    return {"status": "ok"}


def _check_database() -> str:
    engine = current_app.extensions["database"].engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"failing: {type(exc).__name__}"
    return "ok"


def _check_keys() -> str:
    ring = key_ring()
    try:
        snapshot = ring.snapshot
    except KeyRingError as exc:  # no ring was ever loaded
        return f"failing: {exc}"
    if ring.is_stale:
        return f"stale: {ring.last_error}"
    if not snapshot.state.by_state(KeyState.NEXT):
        return "failing: no next key"
    return "ok"


def readiness_checks() -> dict[str, str]:
    return {"database": _check_database(), "keys": _check_keys()}


@blp.route("/readyz", methods=["GET"])
@blp.endpoint(
    example="curl $FACTORY/readyz",
    response={"status": "ok", "checks": {"database": "ok", "keys": "ok"}},
)
def readyz() -> tuple[Response, int]:
    """Readiness: the database answers, signing and next keys are loaded and fresh."""
    checks = readiness_checks()
    failing = [name for name, result in checks.items() if result != "ok"]
    if failing:
        body = {
            "status": "unavailable",
            "message": f"not ready: {', '.join(failing)}",
            "checks": checks,
        }
        return jsonify(body), 503
    return jsonify({"status": "ok", "checks": checks}), 200


@blp.route("/metrics", methods=["GET"])
@blp.endpoint(example="curl $FACTORY/metrics", response="Prometheus text format")
def metrics() -> Response:
    """Prometheus metrics, summed over every gunicorn worker."""
    config = settings()
    if config.metrics_networks and not address_allowed(
        request.remote_addr, config.metrics_networks
    ):
        raise ApiError(403, "metrics are not available from this address")
    if config.metrics_token:
        supplied = bearer_key(request.headers.get("Authorization")) or ""
        if not hmac.compare_digest(supplied.encode(), config.metrics_token.encode()):
            raise ApiError(401, "invalid authentication")
    return render_metrics(key_ring(), readiness_checks(), _open_drills())


def _open_drills() -> list[tuple[str, str, bool]]:
    """(vendor, type, running) for each open drill; none while the database is down."""
    session = db_session()
    try:
        now = drills.utcnow()
        return [(d.vendor_id, d.type, d.starts_at <= now) for d in drills.open_drills(session)]
    except SQLAlchemyError:
        session.rollback()
        return []
