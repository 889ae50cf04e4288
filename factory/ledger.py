"""The order ledger: every issued token is a row, committed before the token leaves."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from factory.keyring import Clock, utcnow
from factory.models import Order
from factory.tokens import IssuedToken, LedgerStatus

log = logging.getLogger(__name__)

#: Built once: the hot paths execute them from SQLAlchemy's compiled cache.
INSERT_ORDER = Order.__table__.insert()
REVOCATION_STATUS = select(Order.revoked_at).where(Order.jti == bindparam("jti"))


class LedgerUnavailable(Exception):
    """The database could not take or answer a ledger operation."""


def order_total(items: list[Mapping[str, Any]]) -> Decimal:
    return sum((Decimal(str(item["price"])) for item in items), Decimal(0))


def record(
    connection: Connection,
    issued: IssuedToken,
    *,
    vendor_id: str,
    diner: Mapping[str, Any],
    order: Mapping[str, Any],
) -> None:
    """Insert and commit the order row; raise LedgerUnavailable if the write fails.

    A plain Core INSERT: the row is never read back here, so the ORM's unit of
    work would only add cost to every order. On an autocommit connection
    (``Database.connect``, on both backends) the INSERT commits as it returns.
    """
    items = order.get("items") or []
    order_id = order.get("id")
    row = dict(
        jti=issued.jti,
        vendor_id=vendor_id,
        order_ref=None if order_id is None else str(order_id)[:100],
        diner=dict(diner),
        order=dict(order),
        item_count=len(items),
        total_price=order_total(items),
        kid=issued.kid,
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
    )
    try:
        connection.execute(INSERT_ORDER, row)
        connection.commit()
    except SQLAlchemyError as exc:
        connection.rollback()
        log.error("ledger write failed for order %s: %s", issued.jti, exc.__class__.__name__)
        raise LedgerUnavailable("the order ledger is unavailable; try again shortly") from exc


def find(session: Session, jti: str, *, vendor_id: str | None = None) -> Order | None:
    statement = select(Order).where(Order.jti == jti)
    if vendor_id is not None:
        statement = statement.where(Order.vendor_id == vendor_id)
    return session.scalars(statement).one_or_none()


def revoke(session: Session, jti: str, reason: str, clock: Clock = utcnow) -> Order | None:
    """Mark an order revoked; its token fails verification from the commit on."""
    row = find(session, jti)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = clock()
        row.revoked_reason = reason
        session.commit()
    return row


class SqlLedger:
    """Answers ``tokens.verify``'s ledger question from the database.

    Asked on every verification, so it takes a pooled connection from
    ``connect`` for one Core query rather than an ORM session.
    """

    def __init__(self, connect: Callable[[], Connection]) -> None:
        self._connect = connect

    def status(self, jti: str) -> LedgerStatus:
        try:
            with self._connect() as connection:
                found = connection.execute(REVOCATION_STATUS, {"jti": jti}).one_or_none()
        except SQLAlchemyError as exc:
            log.warning(
                "revocation check skipped, database unavailable: %s", exc.__class__.__name__
            )
            return LedgerStatus.UNCHECKED
        if found is None:
            return LedgerStatus.UNKNOWN
        (revoked_at,) = found
        return LedgerStatus.REVOKED if revoked_at is not None else LedgerStatus.ISSUED


@dataclass(frozen=True)
class OrderFilter:
    vendor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    revoked: bool | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.vendor_id is not None:
            statement = statement.where(Order.vendor_id == self.vendor_id)
        if self.since is not None:
            statement = statement.where(Order.issued_at >= self.since)
        if self.until is not None:
            statement = statement.where(Order.issued_at < self.until)
        if self.revoked is not None:
            column = Order.revoked_at
            statement = statement.where(column.is_not(None) if self.revoked else column.is_(None))
        return statement


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    page: int
    limit: int
    total: int


def list_orders(
    session: Session, where: OrderFilter, *, page: int = 1, limit: int = 20
) -> OrderPage:
    """Orders newest first, one page at a time, with the total that match."""
    total = session.scalar(where.apply(select(func.count()).select_from(Order))) or 0
    rows = session.scalars(
        where.apply(select(Order))
        .order_by(Order.issued_at.desc(), Order.jti)
        .offset((page - 1) * limit)
        .limit(limit)
    )
    return OrderPage(list(rows), page, limit, total)


def stats(session: Session, where: OrderFilter) -> list[dict[str, Any]]:
    """Counts and totals per vendor and per day (UTC)."""
    day = func.date(Order.issued_at)
    statement = (
        where.apply(
            select(
                Order.vendor_id,
                day.label("day"),
                func.count().label("orders"),
                func.sum(Order.item_count).label("items"),
                func.sum(Order.total_price).label("total"),
                func.count(Order.revoked_at).label("revoked"),
            )
        )
        .group_by(Order.vendor_id, day)
        .order_by(day, Order.vendor_id)
    )
    return [
        {
            "vendor": row.vendor_id,
            "day": str(row.day),
            "orders": row.orders,
            "items": int(row.items or 0),
            "total": str(Decimal(row.total or 0).normalize()),
            "revoked": row.revoked,
        }
        for row in session.execute(statement)
    ]
