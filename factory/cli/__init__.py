"""The ``pizza-factory`` command: one click group per noun, registered on the app."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from sqlalchemy.orm import Session

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class Duration(click.ParamType):
    """``90``, ``45s``, ``15m``, ``12h``, ``30d`` or ``2w``."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = DURATION.match(str(value))
        if not match:
            self.fail(f"{value!r} is not a duration like 45s, 15m, 12h or 30d", param, ctx)
        number, unit = match.groups()
        return timedelta(seconds=float(number) * UNIT_SECONDS[unit])


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def new_session() -> Session:
    """A database session for one CLI command (use it in a ``with`` block)."""
    return current_app.extensions["database"].new_session()


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def echo_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(_cell(row.get(c))) for row in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(_cell(row.get(c)).ljust(widths[c]) for c in columns).rstrip())


def init_app(app: Flask) -> None:
    from factory.cli import chaos, database, keys, orders, vendors

    for group in (keys.keys, vendors.vendors, orders.orders, chaos.chaos, database.db):
        app.cli.add_command(group)


def _create_cli_app() -> Flask:
    from factory import create_app

    return create_app(load_keys=False)


@click.group(cls=FlaskGroup, create_app=_create_cli_app, add_version_option=False)
def main() -> None:
    """Run and administer the pizza factory."""
