"""``pizza-factory vendors``: create and list vendors and their API keys."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app

from factory import vendors as vendor_service
from factory.cli import echo_json, echo_table
from factory.models import Vendor

COLUMNS = ["id", "name", "email", "roles", "created", "disabled"]


def vendor_record(vendor: Vendor) -> dict[str, Any]:
    """A vendor as printed: never the key or its hash."""
    return {
        "id": vendor.id,
        "name": vendor.name,
        "email": vendor.email,
        "roles": vendor.roles or [],
        "created": vendor.created_at.isoformat(),
        "disabled": vendor.disabled_at.isoformat() if vendor.disabled_at else None,
    }


def _session() -> Any:
    return current_app.extensions["database"].new_session()


@click.group()
def vendors() -> None:
    """Vendors (the services that order pizzas) and their API keys."""


@vendors.command()
@click.argument("vendor_id")
@click.option("--name", required=True, help="Display name, signed into every pizza.")
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Give the vendor the admin role.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create(vendor_id: str, name: str, email: str | None, admin: bool, as_json: bool) -> None:
    """Create a vendor and print its API key (shown only this once)."""
    with _session() as session:
        try:
            created = vendor_service.create_vendor(
                session, vendor_id, name=name, email=email, admin=admin
            )
        except vendor_service.VendorExists as exc:
            raise click.ClickException(str(exc)) from None
        record = {**vendor_record(created.vendor), "apiKey": created.api_key}
    if as_json:
        echo_json(record)
        return
    click.echo(f"created vendor {vendor_id}")
    click.echo(f"API key (store it now, it is not shown again): {created.api_key}")


@vendors.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List vendors."""
    with _session() as session:
        records = [vendor_record(v) for v in vendor_service.list_vendors(session)]
    if as_json:
        echo_json(records)
    else:
        echo_table([{**r, "roles": ",".join(r["roles"])} for r in records], COLUMNS)
