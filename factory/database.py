"""The database engine and the per-request session, bound to the app in ``init_app``.

SQLite is tuned for several gunicorn workers writing at once (WAL, a busy
timeout, ``synchronous=NORMAL``, infrequent checkpoints); PostgreSQL gets
connect and statement timeouts so an outage answers quickly instead of hanging
requests.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, g
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 15000
#: WAL pages (4 KiB each) written before a commit checkpoints them into the database
#: file. SQLite's default of 1,000 made every few hundredth order wait for a
#: checkpoint's two fsyncs; an order appends the same few hot pages, so a longer WAL
#: costs far fewer page writes in all. The WAL file grows to about 40 MiB and stays.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
#: A PostgreSQL connection idle in the pool at least this long is pinged before use.
IDLE_PING_AFTER_SECONDS = 1.0


def create_database_engine(
    url: str, timeout_seconds: float = 1.5, *, autocommit: bool = False
) -> Engine:
    """An engine with the settings this service needs for ``url``'s backend.

    ``autocommit`` makes each statement its own transaction, set once per
    connection when it is opened.
    """
    parsed = make_url(url)
    isolation = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # Best effort: the service must start even when the database is unusable.
            with contextlib.suppress(OSError):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **isolation
        )
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_timeout=timeout_seconds,
        connect_args={"connect_timeout": max(1, math.ceil(timeout_seconds))},
        **isolation,
    )
    statement_timeout_ms = int(timeout_seconds * 1000)
    event.listen(
        engine, "connect", lambda conn, _: _set_statement_timeout(conn, statement_timeout_ms)
    )
    event.listen(engine, "checkin", _note_idle_since)
    event.listen(engine, "checkout", _ping_when_idle(engine.dialect))
    return engine


def _note_idle_since(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_when_idle(dialect: Dialect) -> Callable[..., None]:
    """Check a connection before use only if it sat idle in the pool.

    ``pool_pre_ping`` would cost every request a round trip. A connection
    that was in use a moment ago is alive, and one that fails mid-request
    invalidates the whole pool; only a connection that idled through a
    database restart needs checking. DisconnectionError makes the pool
    replace it with a new connection.
    """

    def check(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_AFTER_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc

    return check


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _set_statement_timeout(dbapi_connection: Any, milliseconds: int) -> None:
    previous_autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {int(milliseconds)}")
    dbapi_connection.autocommit = previous_autocommit


class Database:
    """Owns the engine; hands each request (app context) one session."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._hot_path_engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        settings = app.config["SETTINGS"]
        self.engine = create_database_engine(settings.database_url, settings.db_timeout)
        self._hot_path_engine = create_database_engine(
            settings.database_url, settings.db_timeout, autocommit=True
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        app.extensions["database"] = self
        app.teardown_appcontext(self._close_session)

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.new_session()
        return g.db_session

    def connect(self) -> Connection:
        """A pooled Core connection for the order and verify paths.

        It comes from a second pool whose connections are in autocommit mode:
        each statement is its own transaction, and an order's INSERT has
        committed when it returns. PostgreSQL is saved the BEGIN and COMMIT
        round trips. SQLite holds its write lock only while the INSERT runs, so
        another worker's write rarely finds it taken; a writer that does sleeps
        in SQLite's busy handler for at least a millisecond. Only for work
        whose statements each stand alone.
        """
        if self._hot_path_engine is None:
            raise RuntimeError("Database.init_app() has not been called")
        return self._hot_path_engine.connect()

    def after_every_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after each commit of this app's ORM sessions, e.g. an admin's change."""
        event.listen(self._session_factory(), "after_commit", lambda _session: callback())

    def dispose(self) -> None:
        """Close every pooled connection, e.g. before the database is dropped."""
        for engine in (self.engine, self._hot_path_engine):
            if engine is not None:
                engine.dispose()

    def new_session(self) -> Session:
        return self._session_factory()()

    def _session_factory(self) -> sessionmaker[Session]:
        if self._sessions is None:
            raise RuntimeError("Database.init_app() has not been called")
        return self._sessions

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
