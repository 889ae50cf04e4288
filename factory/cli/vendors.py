"""``pizza-factory vendors``: create and list vendors and their API keys."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from factory import vendors as vendor_service
from factory.cli import echo_json, echo_table, new_session
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


@click.group(cls=AppGroup)
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
    with new_session() as session:
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
    with new_session() as session:
        records = [vendor_record(v) for v in vendor_service.list_vendors(session)]
    if as_json:
        echo_json(records)
    else:
        echo_table([{**r, "roles": ",".join(r["roles"])} for r in records], COLUMNS)


def _find(session: Any, vendor_id: str) -> Vendor:
    try:
        return vendor_service.get_vendor(session, vendor_id)
    except vendor_service.VendorNotFound as exc:
        raise click.ClickException(str(exc)) from None


def _echo_vendor(vendor: Vendor, as_json: bool) -> None:
    record = vendor_record(vendor)
    if as_json:
        echo_json(record)
    else:
        echo_table([{**record, "roles": ",".join(record["roles"])}], COLUMNS)


@vendors.command()
@click.argument("vendor_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(vendor_id: str, as_json: bool) -> None:
    """Show one vendor."""
    with new_session() as session:
        _echo_vendor(_find(session, vendor_id), as_json)


@vendors.command("update")
@click.argument("vendor_id")
@click.option("--name")
@click.option("--email")
@click.option("--website")
@click.option("--phone")
@click.option("--github-url", "gitHubUrl")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def update_(vendor_id: str, as_json: bool, **changes: str | None) -> None:
    """Change profile fields; an empty value removes an optional field."""
    given = {key: (value or None) for key, value in changes.items() if value is not None}
    if given.get("name", "") is None:
        raise click.ClickException("a vendor needs a name")
    with new_session() as session:
        vendor = vendor_service.update_profile(session, _find(session, vendor_id), given)
        _echo_vendor(vendor, as_json)


@vendors.command()
@click.argument("vendor_id")
@click.confirmation_option("--yes", prompt="Delete this vendor (its orders stay in the ledger)?")
def delete(vendor_id: str) -> None:
    """Delete a vendor and its drills; its orders stay in the ledger."""
    with new_session() as session:
        vendor_service.delete_vendor(session, _find(session, vendor_id))
    click.echo(f"deleted vendor {vendor_id}")


@vendors.command("rotate-key")
@click.argument("vendor_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rotate_key(vendor_id: str, as_json: bool) -> None:
    """Issue a new API key (printed once); the old key stops working at once."""
    with new_session() as session:
        api_key = vendor_service.rotate_key(session, _find(session, vendor_id))
    if as_json:
        echo_json({"id": vendor_id, "apiKey": api_key})
    else:
        click.echo(f"new API key for {vendor_id} (store it now, it is not shown again): {api_key}")


def _switch(vendor_id: str, as_json: bool, change: Any) -> None:
    with new_session() as session:
        _echo_vendor(change(session, _find(session, vendor_id)), as_json)


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@vendors.command()
@click.argument("vendor_id")
@JSON_OPTION
def disable(vendor_id: str, as_json: bool) -> None:
    """Refuse the vendor's key (401) until enabled again."""
    _switch(vendor_id, as_json, lambda s, v: vendor_service.set_disabled(s, v, True))


@vendors.command()
@click.argument("vendor_id")
@JSON_OPTION
def enable(vendor_id: str, as_json: bool) -> None:
    """Accept the vendor's key again."""
    _switch(vendor_id, as_json, lambda s, v: vendor_service.set_disabled(s, v, False))


@vendors.command("grant-admin")
@click.argument("vendor_id")
@JSON_OPTION
def grant_admin(vendor_id: str, as_json: bool) -> None:
    """Give the vendor the admin role."""
    _switch(vendor_id, as_json, lambda s, v: vendor_service.set_admin(s, v, True))


@vendors.command("revoke-admin")
@click.argument("vendor_id")
@JSON_OPTION
def revoke_admin(vendor_id: str, as_json: bool) -> None:
    """Take the admin role away."""
    _switch(vendor_id, as_json, lambda s, v: vendor_service.set_admin(s, v, False))
