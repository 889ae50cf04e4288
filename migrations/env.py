"""Alembic environment: the URL comes from the CLI (``pizza-factory db upgrade``) or settings."""

from __future__ import annotations

from alembic import context

from factory.config import Settings
from factory.database import create_database_engine
from factory.models import Base

config = context.config
database_url = config.attributes.get("database_url") or Settings.load().database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_database_engine(database_url, timeout_seconds=30)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
