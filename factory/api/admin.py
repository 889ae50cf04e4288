"""``/api/admin``: vendor and order administration, for vendors with the admin role."""

from __future__ import annotations

from typing import Any

from flask import Response

from factory import drills, ledger, vendors
from factory.api import Blueprint, authenticated_admin, db_session
from factory.api.vendors import create_from_body
from factory.errors import ApiError
from factory.models import Order, Vendor
from factory.schemas import (
    AdminOrderArgsSchema,
    NewVendorSchema,
    OrderPageSchema,
    OrderRecordSchema,
    RevokeSchema,
    RoleChangeSchema,
    VendorCreateSchema,
    VendorDeleteSchema,
    VendorSchema,
)

blp = Blueprint("admin", __name__, url_prefix="/api/admin", description="Administration")
ADMIN = 'curl -H "Authorization: Bearer $ADMIN_KEY" '


@blp.route("/vendors", methods=["GET"])
@blp.response(200, VendorSchema(many=True))
@blp.endpoint(example=ADMIN + "$FACTORY/api/admin/vendors", response=[], requires_auth=True)
def list_vendors() -> list[Vendor]:
    """Every vendor."""
    authenticated_admin()
    return vendors.list_vendors(db_session())


@blp.route("/vendors", methods=["POST"])
@blp.arguments(VendorCreateSchema)
@blp.response(201, NewVendorSchema)
@blp.endpoint(
    example=ADMIN + '-X POST $FACTORY/api/admin/vendors -d \'{"id": "v1", "name": "Pizzas"}\'',
    response={"id": "v1", "apiKey": "pf_..."},
    requires_auth=True,
)
def create_vendor(body: dict[str, Any]) -> vendors.NewVendor:
    """Create a vendor; its API key is returned this once."""
    authenticated_admin()
    return create_from_body(body)


@blp.route("/role", methods=["PUT"])
@blp.arguments(RoleChangeSchema)
@blp.response(200, VendorSchema)
@blp.endpoint(
    example=ADMIN + '-X PUT $FACTORY/api/admin/role -d \'{"id": "v1", "roles": ["admin"]}\'',
    response={"id": "v1", "roles": ["admin"]},
    requires_auth=True,
)
def set_roles(body: dict[str, Any]) -> Vendor:
    """Replace a vendor's roles."""
    authenticated_admin()
    target = vendors.get_vendor(db_session(), body["id"])
    return vendors.set_roles(db_session(), target, body["roles"])


@blp.route("/vendor", methods=["DELETE"])
@blp.arguments(VendorDeleteSchema)
@blp.response(204)
@blp.endpoint(
    example=ADMIN + '-X DELETE $FACTORY/api/admin/vendor -d \'{"id": "v1", "deleteType": "all"}\'',
    response=None,
    requires_auth=True,
)
def delete_vendor(body: dict[str, Any]) -> Response:
    """deleteType "chaos" ends the vendor's drills; "all" deletes the vendor (not its orders)."""
    authenticated_admin()
    target = vendors.get_vendor(db_session(), body["id"])
    if body["deleteType"] == "chaos":
        drills.stop(db_session(), target.id)
    else:
        vendors.delete_vendor(db_session(), target)
    return Response(status=204)


@blp.route("/orders", methods=["GET"])
@blp.arguments(AdminOrderArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
@blp.endpoint(
    example=ADMIN
    + '"$FACTORY/api/admin/orders?vendor=v1&revoked=false&since=2026-12-01T00:00:00Z"',
    response={"orders": [], "page": 1, "limit": 20, "total": 0},
    requires_auth=True,
)
def list_orders(args: dict[str, Any]) -> ledger.OrderPage:
    """All orders, newest first, filtered by vendor, time range and revocation."""
    authenticated_admin()
    where = ledger.OrderFilter(
        vendor_id=args.get("vendor"),
        since=args.get("since"),
        until=args.get("until"),
        revoked=args.get("revoked"),
    )
    return ledger.list_orders(db_session(), where, page=args["page"], limit=args["limit"])


@blp.route("/orders/<jti>/revoke", methods=["POST"])
@blp.arguments(RevokeSchema)
@blp.response(200, OrderRecordSchema)
@blp.endpoint(
    example=ADMIN + '-X POST $FACTORY/api/admin/orders/JTI/revoke -d \'{"reason": "refund"}\'',
    response={"jti": "...", "revoked": "2026-12-04T12:00:00+00:00", "revokedReason": "refund"},
    requires_auth=True,
)
def revoke_order(body: dict[str, Any], jti: str) -> Order:
    """Revoke an order: its token fails verification from this commit on."""
    authenticated_admin()
    row = ledger.revoke(db_session(), jti, body["reason"])
    if row is None:
        raise ApiError(404, "unknown order")
    return row
