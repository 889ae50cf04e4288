"""SQLAlchemy models: vendors and the order ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns timezone-aware datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Vendor(Base):
    """A service that orders pizzas; it authenticates with an API key stored only hashed."""

    __tablename__ = "vendors"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    website: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(50))
    github_url: Mapped[str | None] = mapped_column(String(500))
    roles: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return "admin" in (self.roles or [])


class Order(Base):
    """One issued pizza token: the ledger row committed before the token is returned."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_vendor_issued", "vendor_id", "issued_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: the ledger outlives a deleted vendor.
    vendor_id: Mapped[str] = mapped_column(String(100))
    order_ref: Mapped[str | None] = mapped_column(String(100))
    diner: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    order: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    item_count: Mapped[int] = mapped_column(Integer)
    total_price: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    kid: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class Drill(Base):
    """A chaos drill: from ``starts_at`` until resolved, the vendor's orders misbehave.

    The report token and fix code only end this drill, so they are kept as they
    are: every misbehaving order must repeat them in its ``reportUrl``.
    """

    __tablename__ = "drills"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vendor_id: Mapped[str] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    report_token: Mapped[str] = mapped_column(String(64), unique=True)
    fix_code: Mapped[str] = mapped_column(String(64))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index("ix_drills_vendor_open", "vendor_id", "ended_at"),)
