"""The orderer cache: an order skips the vendor query, and no change is missed for long.

"Another process" below is a separate engine on the same database, as the CLI
or another gunicorn worker would be: its commits do not pass through the app.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from factory import create_app, drills, vendors
from factory.models import Drill, Vendor
from tests.support import BACKEND_ORDER, VendorKey, make_vendor


@pytest.fixture
def app_with_cache(database_url, keys_dir) -> Iterator:
    apps: list[Flask] = []

    def build(ttl_seconds: float, **settings: str) -> Flask:
        app = create_app(
            {
                "database_url": database_url,
                "keys_dir": str(keys_dir),
                "vendor_cache_seconds": ttl_seconds,
                **settings,
            }
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["database"].dispose()


@pytest.fixture
def other_process(database_url) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def vendor_queries() -> Iterator[list[str]]:
    """Every statement sent to any database that reads the vendors table."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if "FROM vendors" in statement:
            seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.Engine, "before_cursor_execute", record)


def order(app: Flask, vendor: VendorKey) -> int:
    response = app.test_client().post("/api/order", json=BACKEND_ORDER, headers=vendor.headers)
    return response.status_code


def test_a_second_order_skips_the_vendor_query(app_with_cache, vendor_queries):
    app = app_with_cache(60)
    vendor = make_vendor(app, "backend")
    assert order(app, vendor) == 200
    assert len(vendor_queries) == 1
    assert order(app, vendor) == 200
    assert order(app, vendor) == 200
    assert len(vendor_queries) == 1


def test_a_zero_ttl_queries_every_order(app_with_cache, vendor_queries):
    app = app_with_cache(0)
    vendor = make_vendor(app, "backend")
    for _ in range(3):
        assert order(app, vendor) == 200
    assert len(vendor_queries) == 3


def test_changes_through_this_app_apply_at_once(app_with_cache):
    app = app_with_cache(3600)
    vendor = make_vendor(app, "backend")
    assert order(app, vendor) == 200
    with app.extensions["database"].new_session() as session:
        vendors.set_disabled(session, vendors.get_vendor(session, vendor.id), True)
    assert order(app, vendor) == 401


def test_a_rotated_key_stops_working_at_once(app_with_cache):
    app = app_with_cache(3600)
    vendor = make_vendor(app, "backend")
    assert order(app, vendor) == 200
    with app.extensions["database"].new_session() as session:
        new_key = vendors.rotate_key(session, vendors.get_vendor(session, vendor.id))
    assert order(app, vendor) == 401
    assert order(app, VendorKey(vendor.id, vendor.name, new_key)) == 200


def test_a_change_from_another_process_applies_within_the_ttl(app_with_cache, other_process):
    ttl = 0.3
    app = app_with_cache(ttl)
    vendor = make_vendor(app, "backend")
    assert order(app, vendor) == 200
    with other_process.begin() as connection:
        connection.execute(
            sa.update(Vendor).where(Vendor.id == vendor.id).values(disabled_at=datetime.now(UTC))
        )
    time.sleep(ttl + 0.1)
    assert order(app, vendor) == 401


def test_a_vendor_with_a_scheduled_drill_is_not_cached(app_with_cache, other_process):
    """The drill starts on time even though only the database knows its start moved."""
    app = app_with_cache(3600)
    vendor = make_vendor(app, "backend")
    with app.extensions["database"].new_session() as session:
        drill = drills.schedule(
            session, vendor.id, drills.DrillType.FAIL, datetime.now(UTC) + timedelta(hours=1)
        )
    assert order(app, vendor) == 200
    with other_process.begin() as connection:
        connection.execute(
            sa.update(Drill)
            .where(Drill.id == drill.id)
            .values(starts_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert order(app, vendor) == 500


def test_a_drill_scheduled_over_http_starts_on_the_next_order(app_with_cache):
    app = app_with_cache(3600, chaos_window="0-0")
    vendor = make_vendor(app, "backend")
    assert order(app, vendor) == 200
    client = app.test_client()
    assert client.put("/api/vendor/chaos/fail", headers=vendor.headers).status_code == 200
    assert order(app, vendor) == 500
