"""``pizza-factory chaos``: start, stop and review chaos drills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask.cli import AppGroup

from factory import drills, vendors
from factory.cli import Duration, echo_json, echo_table, new_session

COLUMNS = [
    "vendor",
    "type",
    "state",
    "starts_at",
    "failures",
    "ended_by",
    "time_to_resolve_seconds",
]


@click.group(cls=AppGroup)
def chaos() -> None:
    """Chaos drills: rehearse the factory failing."""


@chaos.command()
@click.argument("vendor_id")
@click.argument("drill_type", type=click.Choice([t.value for t in drills.DrillType]))
@click.option("--at", "at", type=click.DateTime(), default=None, help="Start time (ISO, UTC).")
@click.option("--in", "after", type=Duration(), default=None, help="Start after e.g. 10m.")
def start(vendor_id: str, drill_type: str, at: datetime | None, after: timedelta | None) -> None:
    """Start a drill for VENDOR_ID now, at a time, or after a delay."""
    if at is not None and after is not None:
        raise click.UsageError("give --at or --in, not both")
    now = drills.utcnow()
    starts_at = now
    if at is not None:
        starts_at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    elif after is not None:
        starts_at = now + after
    with new_session() as session:
        if not vendors.vendor_exists(session, vendor_id):
            raise click.ClickException(f"no vendor {vendor_id!r}")
        drill = drills.schedule(session, vendor_id, drills.DrillType(drill_type), starts_at)
    click.echo(f"{drill_type} drill for {vendor_id} starts at {starts_at.isoformat()}")
    click.echo(f"report path: {drills.report_path(drill)}")


@chaos.command()
@click.argument("vendor_id")
def stop(vendor_id: str) -> None:
    """End the vendor's drill now."""
    with new_session() as session:
        ended = drills.stop(session, vendor_id)
    click.echo(f"ended {ended} drill(s) for {vendor_id}")


@chaos.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(as_json: bool) -> None:
    """Drills scheduled or running."""
    with new_session() as session:
        now = drills.utcnow()
        rows = [drills.summary(d, now) for d in drills.open_drills(session)]
    _print(rows, as_json)


@chaos.command()
@click.option("--vendor", "vendor_id", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def history(vendor_id: str | None, as_json: bool) -> None:
    """Every drill: start, first failure, resolution and time to resolve."""
    with new_session() as session:
        now = drills.utcnow()
        rows = [drills.summary(d, now) for d in drills.history(session, vendor_id)]
    _print(rows, as_json)


def _print(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, COLUMNS)
