"""Placing an order: the oven's rule, any running drill, signing, and the ledger write."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from factory import drills, ledger, tokens
from factory.keyring import KeyRing
from factory.models import Drill, Vendor

MAX_ITEMS = 20


class OvenFull(Exception):
    """The hosted factory's answer to an order with no items or more than it can bake."""


class ChaosFailure(Exception):
    """A ``fail`` drill is running for this vendor: the order fails on purpose."""

    def __init__(self, drill: Drill) -> None:
        super().__init__("chaos monkey")
        self.drill = drill


@dataclass(frozen=True)
class PlacedOrder:
    token: str
    drill: Drill | None = None


def place_order(
    session: Session,
    ring: KeyRing,
    vendor: Vendor,
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
    drill = drills.running(session, vendor.id)
    if drill is not None:
        drills.record_failure(session, drill)
        if drill.type == drills.DrillType.FAIL:
            raise ChaosFailure(drill)
        if drill.type == drills.DrillType.THROTTLE:
            time.sleep(throttle_seconds)
    claims = {"vendor": {"id": vendor.id, "name": vendor.name}, "diner": diner, "order": order}
    issued = tokens.issue(claims, ring, issuer=issuer, ttl_seconds=ttl_seconds)
    if drill is not None and drill.type == drills.DrillType.BADJWT:
        return PlacedOrder(_break_signature(issued.token), drill)
    ledger.record(session, issued, vendor_id=vendor.id, diner=diner, order=order)
    return PlacedOrder(issued.token, drill)


def _break_signature(token: str) -> str:
    """A token that never verifies (and is never recorded): its signature reversed."""
    signing_input, _, signature = token.rpartition(".")
    return f"{signing_input}.{signature[::-1]}"
