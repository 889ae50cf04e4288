"""Placing an order: the oven's rule, signing, and the ledger write, in that order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from factory import ledger, tokens
from factory.keyring import KeyRing
from factory.models import Vendor

MAX_ITEMS = 20


class OvenFull(Exception):
    """The hosted factory's answer to an order with no items or more than it can bake."""


def place_order(
    session: Session,
    ring: KeyRing,
    vendor: Vendor,
    diner: Mapping[str, Any],
    order: Mapping[str, Any],
    *,
    issuer: str,
    ttl_seconds: int,
) -> tokens.IssuedToken:
    """Sign the pizza and commit its ledger row; only then may the token be returned."""
    items = order.get("items") or []
    if not 1 <= len(items) <= MAX_ITEMS:
        raise OvenFull
    claims = {"vendor": {"id": vendor.id, "name": vendor.name}, "diner": diner, "order": order}
    issued = tokens.issue(claims, ring, issuer=issuer, ttl_seconds=ttl_seconds)
    ledger.record(session, issued, vendor_id=vendor.id, diner=diner, order=order)
    return issued
