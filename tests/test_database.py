"""The engines: SQLite tuned for concurrent writers, and PostgreSQL connections that
idled through a database restart replaced."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


@contextlib.contextmanager
def pool_with_a_killed_connection(
    url: str, monkeypatch: pytest.MonkeyPatch, idle_ping_after: float
) -> Iterator[tuple[sa.Engine, int]]:
    """An engine whose one pooled connection's backend was terminated while it sat idle."""
    monkeypatch.setattr(database, "IDLE_PING_AFTER_SECONDS", idle_ping_after)
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            killed = _backend_pid(connection)
        _terminate(url, killed)
        yield engine, killed
    finally:
        engine.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_use(postgres_url, monkeypatch):
    with (
        pool_with_a_killed_connection(postgres_url, monkeypatch, 0.0) as (engine, killed),
        engine.connect() as connection,
    ):
        assert _backend_pid(connection) != killed


def test_a_connection_in_steady_use_is_not_pinged(postgres_url, monkeypatch):
    """Without a ping the dead connection is used, and fails: the check really is skipped."""
    with pool_with_a_killed_connection(postgres_url, monkeypatch, 3600.0) as (engine, killed):
        with pytest.raises(sa.exc.OperationalError), engine.connect() as connection:
            _backend_pid(connection)
        with engine.connect() as connection:
            assert _backend_pid(connection) != killed


@pytest.mark.parametrize("autocommit", [False, True], ids=["sessions", "hot path"])
def test_sqlite_connections_are_tuned_for_several_writers(tmp_path, autocommit):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'tuned.db'}", autocommit=autocommit)
    try:
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 1  # NORMAL: WAL commits skip fsync
            assert pragma("busy_timeout") == database.SQLITE_BUSY_TIMEOUT_MS
            assert pragma("wal_autocheckpoint") == database.SQLITE_WAL_AUTOCHECKPOINT_PAGES
    finally:
        engine.dispose()
