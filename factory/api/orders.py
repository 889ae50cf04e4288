"""``/api/order``: order a pizza (vendor key) and verify one (no key)."""

from __future__ import annotations

from typing import Any

from flask import request

from factory import tokens
from factory.api import Blueprint, authenticated_vendor, db_session, key_ring, settings
from factory.ledger import SqlLedger
from factory.orders import place_order
from factory.schemas import (
    OrderRequestSchema,
    OrderResponseSchema,
    VerifyRequestSchema,
    VerifyResponseSchema,
)

blp = Blueprint("orders", __name__, url_prefix="/api/order", description="Pizza orders")

#: A token is base64 of at most one order body, so verify bodies may be larger.
VERIFY_BODY_FACTOR = 4

EXAMPLE_ORDER = (
    'curl -X POST $FACTORY/api/order -H "Content-Type: application/json" '
    '-H "Authorization: Bearer $API_KEY" -d \'{"diner": {"id": 719, "name": "j", '
    '"email": "j@jwt.com"}, "order": {"items": [{"menuId": 1, "description": "Veggie", '
    '"price": 0.0038}], "storeId": "5", "franchiseId": 4, "id": 278}}\''
)
EXAMPLE_VERIFY = (
    'curl -X POST $FACTORY/api/order/verify -H "Content-Type: application/json" '
    '-d \'{"jwt": "eyJ..."}\''
)


@blp.before_request
def _limit_body_size() -> None:
    limit = settings().max_body_bytes
    if request.endpoint == "orders.verify":
        limit *= VERIFY_BODY_FACTOR
    request.max_content_length = limit


@blp.route("", methods=["POST"])
@blp.arguments(OrderRequestSchema)
@blp.response(200, OrderResponseSchema)
@blp.endpoint(example=EXAMPLE_ORDER, response={"jwt": "eyJ..."}, requires_auth=True)
def order(body: dict[str, Any]) -> dict[str, Any]:
    """Order a pizza: returns a signed JWT, recorded in the ledger before it is returned."""
    vendor = authenticated_vendor()
    config = settings()
    issued = place_order(
        db_session(),
        key_ring(),
        vendor,
        body["diner"],
        body["order"],
        issuer=config.issuer,
        ttl_seconds=config.token_ttl,
    )
    return {"jwt": issued.token}


@blp.route("/verify", methods=["POST"])
@blp.arguments(VerifyRequestSchema)
@blp.response(200, VerifyResponseSchema)
@blp.alt_response(403, schema=VerifyResponseSchema, description="Not a valid pizza")
@blp.endpoint(
    example=EXAMPLE_VERIFY,
    response={"message": "valid", "payload": {"vendor": {}, "diner": {}, "order": {}}},
)
def verify(body: dict[str, Any]) -> Any:
    """Verify a pizza JWT; needs no factory key and ignores any Authorization header."""
    verdict = tokens.verify(
        body["jwt"], key_ring(), SqlLedger(db_session()), issuer=settings().issuer
    )
    if not verdict.valid:
        return {"message": "invalid", "reason": verdict.reason}, 403
    return {
        "message": "valid",
        "payload": verdict.claims,
        "revocationChecked": verdict.revocation_checked,
    }
