"""``/api/order``: order a pizza (vendor key) and verify one (no key)."""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from factory import drills, ledger, orders, tokens
from factory.api import (
    Blueprint,
    absolute_url,
    authenticated_vendor,
    database,
    db_session,
    key_ring,
    orderer_cache,
    settings,
)
from factory.errors import ApiError
from factory.ledger import SqlLedger
from factory.observability import DATABASE_ERRORS, ORDERS_ISSUED, ORDERS_REJECTED, VERIFICATIONS
from factory.schemas import (
    OrderPageSchema,
    OrderRecordSchema,
    OrderRequestSchema,
    OrderResponseSchema,
    PageArgsSchema,
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


@blp.after_request
def _count_orders(response: Response) -> Response:
    if request.endpoint == "orders.order":
        vendor = g.get("vendor_id") or "unknown"
        if response.status_code == 200:
            ORDERS_ISSUED.labels(vendor).inc()
        else:
            reason = g.get("rejection") or f"http {response.status_code}"
            ORDERS_REJECTED.labels(vendor, reason).inc()
    return response


@blp.route("", methods=["POST"])
@blp.arguments(OrderRequestSchema)
@blp.response(200, OrderResponseSchema)
@blp.endpoint(example=EXAMPLE_ORDER, response={"jwt": "eyJ..."}, requires_auth=True)
def order(body: dict[str, Any]) -> dict[str, Any]:
    """Order a pizza: returns a signed JWT, recorded in the ledger before it is returned."""
    config = settings()
    try:
        with database().connect() as connection:
            orderer = orders.authenticate(
                connection, request.headers.get("Authorization"), orderer_cache()
            )
            g.vendor_id = orderer.vendor_id
            placed = orders.place_order(
                connection,
                key_ring(),
                orderer,
                body["diner"],
                body["order"],
                issuer=config.issuer,
                ttl_seconds=config.token_ttl,
                throttle_seconds=config.chaos_throttle_delay,
            )
    except orders.ChaosFailure as failure:
        report_url = absolute_url(drills.report_path(failure.drill))
        raise ApiError(500, "chaos monkey", reason="chaos drill", reportUrl=report_url) from None
    if placed.drill is None:
        return {"jwt": placed.token}
    return {"jwt": placed.token, "reportUrl": absolute_url(drills.report_path(placed.drill))}


@blp.route("", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
@blp.endpoint(
    example='curl "$FACTORY/api/order?page=1&limit=20" -H "Authorization: Bearer $API_KEY"',
    response={"orders": [], "page": 1, "limit": 20, "total": 0},
    requires_auth=True,
)
def list_own_orders(args: dict[str, Any]) -> ledger.OrderPage:
    """The calling vendor's orders, newest first, paginated, with a total."""
    vendor = authenticated_vendor()
    where = ledger.OrderFilter(vendor_id=vendor.id)
    return ledger.list_orders(db_session(), where, page=args["page"], limit=args["limit"])


@blp.route("/<jti>", methods=["GET"])
@blp.response(200, OrderRecordSchema)
@blp.endpoint(
    example='curl $FACTORY/api/order/JTI -H "Authorization: Bearer $API_KEY"',
    response={"jti": "...", "vendorId": "...", "itemCount": 1, "revoked": None},
    requires_auth=True,
)
def show_own_order(jti: str) -> Any:
    """One of the calling vendor's orders; another vendor's order is 404."""
    vendor = authenticated_vendor()
    row = ledger.find(db_session(), jti, vendor_id=vendor.id)
    if row is None:
        raise ApiError(404, "unknown order")
    return row


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
        body["jwt"], key_ring(), SqlLedger(database().connect), issuer=settings().issuer
    )
    VERIFICATIONS.labels("valid" if verdict.valid else "invalid", verdict.reason or "").inc()
    if not verdict.revocation_checked:
        DATABASE_ERRORS.labels("revocation check").inc()
    if not verdict.valid:
        return {"message": "invalid", "reason": verdict.reason}, 403
    return {
        "message": "valid",
        "payload": verdict.claims,
        "revocationChecked": verdict.revocation_checked,
    }
