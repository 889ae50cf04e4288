"""Placing an order: who is ordering, the oven's rule, any running drill, signing, the ledger.

Every order runs here, so it uses one pooled Core connection and at most two
statements: the caller and its running drill in one query (skipped while the
caller is in this worker's ``OrdererCache``), and the ledger INSERT. The ORM
would add a session and identity map to each order and nothing this path needs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, exists, select
from sqlalchemy.orm import aliased

from factory import drills, ledger, tokens
from factory.keyring import Clock, KeyRing, utcnow
from factory.models import Drill, Vendor
from factory.vendors import authenticate_with

MAX_ITEMS = 20
#: Distinct vendor keys one worker remembers; beyond this the oldest is forgotten.
CACHED_ORDERERS = 1024


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


#: Any drill not yet ended, started or not: a vendor with one is never cached.
_OPEN_DRILL = aliased(Drill)
ORDERER = (
    select(
        Vendor.id,
        Vendor.name,
        Vendor.api_key_hash,
        Vendor.disabled_at,
        exists()
        .where(_OPEN_DRILL.vendor_id == Vendor.id, _OPEN_DRILL.ended_at.is_(None))
        .correlate(Vendor)
        .label("has_open_drill"),
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


class OrdererCache:
    """Vendors this worker has just authenticated, by key hash, for ``ttl_seconds``.

    A hit saves an order its vendor query, a round trip on PostgreSQL. A commit
    through this app's sessions (the vendor and admin API) empties it at once;
    a change made by another worker or process reaches this one within
    ``ttl_seconds``.
    A vendor with an open drill is never kept, so a drill's start is seen on
    time and its failures and end on the next order. ``ttl_seconds=0`` keeps
    nothing.
    """

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, Row[Any]]] = {}

    def get(self, digest: str) -> Row[Any] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires, row = entry
        if time.monotonic() >= expires:
            self._entries.pop(digest, None)
            return None
        return row

    def remember(self, digest: str, row: Row[Any]) -> None:
        """Keep an enabled vendor with no open drill; anything else is looked up every time."""
        if self.ttl_seconds <= 0 or row.disabled_at is not None or row.has_open_drill:
            return
        if len(self._entries) >= CACHED_ORDERERS:
            self._entries.pop(next(iter(self._entries)), None)
        self._entries[digest] = (time.monotonic() + self.ttl_seconds, row)

    def clear(self) -> None:
        self._entries.clear()


def authenticate(
    connection: Connection,
    authorization: str | None,
    cache: OrdererCache,
    clock: Clock = utcnow,
) -> Orderer:
    """The enabled vendor whose key is in the ``Authorization`` header, read with its drill."""

    def find(digest: str) -> Row[Any] | None:
        row = cache.get(digest)
        if row is None:
            row = connection.execute(ORDERER, {"digest": digest, "now": clock()}).first()
            if row is not None:
                cache.remember(digest, row)
        return row

    row = authenticate_with(find, authorization)
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
