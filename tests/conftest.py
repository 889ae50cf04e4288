"""Fixtures: an app per database backend, real keys on disk, vendors, and real gunicorn.

Every database test runs on SQLite and, when ``FACTORY_TEST_DATABASE_URL`` is set,
on PostgreSQL too, each run in its own fresh schema.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from factory import create_app, keyring
from factory.cli.database import upgrade_database
from factory.keystore import KeyStore
from tests.support import Gunicorn, VendorKey, make_vendor

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_URL = os.environ.get("FACTORY_TEST_DATABASE_URL", "")


def _pg_base_url() -> str:
    url = PG_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not PG_URL, reason="FACTORY_TEST_DATABASE_URL not set"),
        ),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'factory.db'}"
        upgrade_database(url)
        yield url
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    base = _pg_base_url()
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def ring_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated ring, copied into each test's own keys directory (RSA keygen is slow)."""
    directory = tmp_path_factory.mktemp("ring-template")
    keyring.init_ring(KeyStore(directory), 2048)
    return directory


@pytest.fixture
def keys_dir(tmp_path: Path, ring_template: Path) -> Path:
    directory = tmp_path / "keys"
    shutil.copytree(ring_template, directory)
    return directory


@pytest.fixture
def app(database_url: str, keys_dir: Path) -> Iterator[Flask]:
    app = create_app({"database_url": database_url, "keys_dir": str(keys_dir)})
    app.config["TESTING"] = True
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def vendor(app: Flask) -> VendorKey:
    return make_vendor(app, "backend")


@pytest.fixture
def gunicorn_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[Gunicorn] = []

    def start(env: dict[str, str], workers: int = 2) -> Gunicorn:
        server = Gunicorn(env, tmp_path, workers)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
