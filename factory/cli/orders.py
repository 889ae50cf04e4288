"""``pizza-factory orders``: look up, audit and revoke ledger rows."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from factory import ledger
from factory.cli import echo_json, echo_table, new_session
from factory.schemas import OrderRecordSchema

COLUMNS = ["jti", "vendorId", "orderId", "itemCount", "totalPrice", "issued", "revoked"]


@click.group(cls=AppGroup)
def orders() -> None:
    """The order ledger."""


@orders.command("list")
@click.option("--vendor", "vendor_id", default=None, help="Only this vendor's orders.")
@click.option("--since", type=click.DateTime(), default=None, help="ISO time (UTC if no zone).")
@click.option("--limit", type=click.IntRange(1, 10000), default=100)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(vendor_id: str | None, since: datetime | None, limit: int, as_json: bool) -> None:
    """Orders, newest first."""
    where = ledger.OrderFilter(vendor_id=vendor_id, since=_utc(since))
    with new_session() as session:
        page = ledger.list_orders(session, where, limit=limit)
        records = OrderRecordSchema(many=True).dump(page.orders)
    if as_json:
        echo_json({"orders": records, "total": page.total})
    else:
        echo_table(records, COLUMNS)
        click.echo(f"{len(records)} of {page.total} order(s)")


@orders.command()
@click.argument("jti")
def show(jti: str) -> None:
    """One order, as JSON."""
    with new_session() as session:
        row = ledger.find(session, jti)
        if row is None:
            raise click.ClickException(f"no order {jti}")
        echo_json(OrderRecordSchema().dump(row))


@orders.command()
@click.argument("jti")
@click.option("--reason", required=True, help="Why, for the audit trail.")
def revoke(jti: str, reason: str) -> None:
    """Revoke an order: its token fails verification from now on."""
    with new_session() as session:
        row = ledger.revoke(session, jti, reason)
        if row is None:
            raise click.ClickException(f"no order {jti}")
    click.echo(f"revoked {jti}")


@orders.command()
@click.option("--vendor", "vendor_id", default=None)
@click.option("--since", type=click.DateTime(), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(vendor_id: str | None, since: datetime | None, as_json: bool) -> None:
    """Counts and totals per vendor and per day."""
    where = ledger.OrderFilter(vendor_id=vendor_id, since=_utc(since))
    with new_session() as session:
        rows = ledger.stats(session, where)
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["day", "vendor", "orders", "items", "total", "revoked"])


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
