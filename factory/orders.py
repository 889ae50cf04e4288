"""Placing an order: who is ordering, the oven's rule, any running drill, signing, the ledger.

Every order runs here, so it uses one pooled Core connection and three
statements: the caller and its running drill in one query, the ledger INSERT,
and the COMMIT. The ORM would add a session and identity map to each order
and nothing this path needs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from factory import drills, ledger, tokens
from factory.keyring import Clock, KeyRing, utcnow
from factory.models import Drill, Vendor
from factory.vendors import authenticate_with

MAX_ITEMS = 20


class OvenFull(Exception):
    """The hosted factory's answer to an order with no items or more than it can bake."""


class ChaosFailure(Exception):
    """A ``fail`` drill is running for this vendor: the order fails on purpose."""

    def __init__(self, drill: drills.RunningDrill) -> None:
        super().__init__("chaos monkey")
        self.drill = drill


@dataclass(frozen=True)
class Orderer:
    """The vendor placing an order, and the drill running for it, if any."""

    vendor_id: str
    vendor_name: str
    drill: drills.RunningDrill | None = None


@dataclass(frozen=True)
class PlacedOrder:
    token: str
    drill: drills.RunningDrill | None = None


ORDERER = (
    select(
        Vendor.id,
        Vendor.name,
        Vendor.api_key_hash,
        Vendor.disabled_at,
        Drill.id.label("drill_id"),
        Drill.type.label("drill_type"),
        Drill.report_token,
        Drill.fix_code,
        Drill.first_failure_at,
    )
    .outerjoin(
        Drill,
        and_(
            Drill.vendor_id == Vendor.id,
            Drill.ended_at.is_(None),
            Drill.starts_at <= bindparam("now"),
        ),
    )
    .where(Vendor.api_key_hash == bindparam("digest"))
    .order_by(Drill.starts_at.desc())
)


def authenticate(
    connection: Connection, authorization: str | None, clock: Clock = utcnow
) -> Orderer:
    """The enabled vendor whose key is in the ``Authorization`` header, read with its drill."""
    row = authenticate_with(
        lambda digest: connection.execute(ORDERER, {"digest": digest, "now": clock()}).first(),
        authorization,
    )
    drill = None
    if row.drill_id is not None:
        drill = drills.RunningDrill(
            id=row.drill_id,
            type=drills.DrillType(row.drill_type),
            report_token=row.report_token,
            fix_code=row.fix_code,
            first_failure_at=row.first_failure_at,
        )
    return Orderer(row.id, row.name, drill)


def place_order(
    connection: Connection,
    ring: KeyRing,
    orderer: Orderer,
    diner: Mapping[str, Any],
    order: Mapping[str, Any],
    *,
    issuer: str,
    ttl_seconds: int,
    throttle_seconds: float = 0.0,
) -> PlacedOrder:
    """Sign the pizza and commit its ledger row; only then may the token be returned."""
    items = order.get("items") or []
    if not 1 <= len(items) <= MAX_ITEMS:
        raise OvenFull
    drill = orderer.drill
    if drill is not None:
        drills.record_failure(connection, drill)
        if drill.type == drills.DrillType.FAIL:
            raise ChaosFailure(drill)
        if drill.type == drills.DrillType.THROTTLE:
            time.sleep(throttle_seconds)
    claims = {
        "vendor": {"id": orderer.vendor_id, "name": orderer.vendor_name},
        "diner": diner,
        "order": order,
    }
    issued = tokens.issue(claims, ring, issuer=issuer, ttl_seconds=ttl_seconds)
    if drill is not None and drill.type == drills.DrillType.BADJWT:
        return PlacedOrder(_break_signature(issued.token), drill)
    ledger.record(connection, issued, vendor_id=orderer.vendor_id, diner=diner, order=order)
    return PlacedOrder(issued.token, drill)


def _break_signature(token: str) -> str:
    """A token that never verifies (and is never recorded): its signature reversed."""
    signing_input, _, signature = token.rpartition(".")
    return f"{signing_input}.{signature[::-1]}"
