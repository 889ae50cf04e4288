"""JSON logs with request ids, and Prometheus metrics that add up across gunicorn workers.

Under gunicorn, ``gunicorn.conf.py`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before the app is imported, so every worker writes its counters there
and one scrape sums them.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from factory.keyring import KeyRing, KeyState

REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Path segments that carry secrets are logged as this (e.g. drill report tokens).
REDACTED = "[redacted]"

ORDERS_ISSUED = Counter(
    "pizza_factory_orders_issued_total", "Pizza tokens issued and recorded.", ["vendor"]
)
ORDERS_REJECTED = Counter(
    "pizza_factory_orders_rejected_total", "Orders refused, by reason.", ["vendor", "reason"]
)
VERIFICATIONS = Counter(
    "pizza_factory_verifications_total", "Token verifications.", ["result", "reason"]
)
DATABASE_ERRORS = Counter(
    "pizza_factory_database_errors_total", "Database operations that failed.", ["operation"]
)
REQUEST_LATENCY = Histogram(
    "pizza_factory_request_duration_seconds",
    "Request latency by endpoint.",
    ["method", "endpoint", "status"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; request fields come from the record's ``extra``."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "vendor_id", "remote")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode_json(entry)


_encode_json = json.JSONEncoder(default=str).encode


def configure_logging(level: str) -> None:
    """Send every log line to stdout as JSON; safe to call more than once."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_pizza_factory", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stdout)
        handler._pizza_factory = True  # type: ignore[attr-defined]
        handler.setFormatter(JsonFormatter())
        for existing in list(root.handlers):
            root.removeHandler(existing)
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # The JSON lines carry no thread or process names; every record would look them up.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


access_log = logging.getLogger("factory.access")


def _request_id() -> str:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    return supplied if SAFE_REQUEST_ID.match(supplied) else uuid.uuid4().hex


def loggable_path() -> str:
    """The request path with secret-bearing segments redacted."""
    rule = request.url_rule
    if rule is None or "<" not in rule.rule:
        return request.path
    secret_args = {"token", "fix_code"}
    path = rule.rule
    for name, value in (request.view_args or {}).items():
        shown = REDACTED if name in secret_args else str(value)
        path = re.sub(rf"<(?:[^:<>]+:)?{re.escape(name)}>", shown, path)
    return path


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _request_id()


def _finish_request(response: Response) -> Response:
    duration = time.perf_counter() - g.get("request_started", time.perf_counter())
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    REQUEST_LATENCY.labels(request.method, endpoint, str(response.status_code)).observe(duration)
    path = loggable_path()
    access_log.info(
        "%s %s %s",
        request.method,
        path,
        response.status_code,
        extra={
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "vendor_id": g.get("vendor_id"),
            "remote": request.remote_addr,
        },
    )
    return response


class ScrapeTimeCollector(Collector):
    """Gauges computed when scraped: the scraping worker's key ring and readiness checks."""

    def __init__(
        self,
        ring: KeyRing,
        readiness: Mapping[str, str],
        drills: Iterable[tuple[str, str, bool]] = (),
    ) -> None:
        self.ring = ring
        self.readiness = readiness
        self.drills = list(drills)

    def collect(self) -> Iterator[Metric]:
        age = GaugeMetricFamily(
            "pizza_factory_signing_key_age_seconds", "Age of the active signing key."
        )
        published = GaugeMetricFamily(
            "pizza_factory_published_keys", "Keys in the JWKS, by state.", labels=["state"]
        )
        stale = GaugeMetricFamily(
            "pizza_factory_key_ring_stale", "1 while the last key ring reload failed."
        )
        snapshot = self.ring.snapshot
        active = snapshot.state.find(snapshot.signing_key.kid)
        if active is not None and active.activated_at is not None:
            age.add_metric([], (datetime.now(UTC) - active.activated_at).total_seconds())
        for state in (KeyState.ACTIVE, KeyState.NEXT, KeyState.RETIRED):
            count = sum(
                1
                for record in snapshot.state.by_state(state)
                if record.kid in snapshot.verification_keys
            )
            published.add_metric([state.value], count)
        stale.add_metric([], 1 if self.ring.is_stale else 0)
        ready = GaugeMetricFamily(
            "pizza_factory_ready", "1 while a readiness check passes.", labels=["check"]
        )
        for check, result in self.readiness.items():
            ready.add_metric([check], 1 if result == "ok" else 0)
        drill = GaugeMetricFamily(
            "pizza_factory_drill_running",
            "Open chaos drills: 1 running, 0 scheduled.",
            labels=["vendor", "type"],
        )
        for vendor, drill_type, is_running in self.drills:
            drill.add_metric([vendor, drill_type], 1 if is_running else 0)
        yield from (age, published, stale, ready, drill)


def render_metrics(
    ring: KeyRing, readiness: Mapping[str, str], drills: Iterable[tuple[str, str, bool]]
) -> Response:
    """All workers' metrics under gunicorn (this process's otherwise), plus the key gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shared = CollectorRegistry()
        MultiProcessCollector(shared)
    else:
        shared = REGISTRY
    keys = CollectorRegistry()
    keys.register(ScrapeTimeCollector(ring, readiness, drills))
    body = generate_latest(shared) + generate_latest(keys)
    return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0])


def address_allowed(remote: str | None, networks: Iterable[str]) -> bool:
    if remote is None:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def init_app(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
