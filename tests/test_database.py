"""The engine's pool: connections that idled through a database restart are replaced."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from factory import database
from factory.database import create_database_engine


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if sa.engine.make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("SQLite connections are files; nothing can cut them")
    return database_url


def _backend_pid(connection: sa.Connection) -> int:
    return connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(url: str, pid: int) -> None:
    killer = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_use(postgres_url, monkeypatch):
    monkeypatch.setattr(database, "IDLE_PING_AFTER_SECONDS", 0.0)
    engine = create_database_engine(postgres_url)
    try:
        with engine.connect() as connection:
            killed = _backend_pid(connection)
        _terminate(postgres_url, killed)
        with engine.connect() as connection:
            assert _backend_pid(connection) != killed
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(postgres_url, monkeypatch):
    """Without a ping the dead connection is used, and fails: the check really is skipped."""
    monkeypatch.setattr(database, "IDLE_PING_AFTER_SECONDS", 3600.0)
    engine = create_database_engine(postgres_url)
    try:
        with engine.connect() as connection:
            killed = _backend_pid(connection)
        _terminate(postgres_url, killed)
        with pytest.raises(sa.exc.OperationalError), engine.connect() as connection:
            _backend_pid(connection)
        with engine.connect() as connection:
            assert _backend_pid(connection) != killed
    finally:
        engine.dispose()
