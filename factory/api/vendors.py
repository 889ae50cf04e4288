"""``/api/vendor``: vendors manage themselves and schedule their own chaos drills."""

from __future__ import annotations

from typing import Any

from factory import drills, vendors
from factory.api import Blueprint, authenticated_vendor, db_session, settings
from factory.errors import ApiError
from factory.models import Vendor
from factory.schemas import (
    ChaosScheduledSchema,
    NewVendorSchema,
    VendorCreateSchema,
    VendorExistsSchema,
    VendorSchema,
    VendorUpdateSchema,
)

blp = Blueprint("vendors", __name__, url_prefix="/api/vendor", description="Vendors")


def create_from_body(body: dict[str, Any]) -> vendors.NewVendor:
    """Create a vendor from a request body; the key is in this answer and nowhere else."""
    profile = {k: v for k, v in body.items() if k in vendors.PROFILE_FIELDS and k != "name"}
    return vendors.create_vendor(db_session(), body["id"], name=body["name"], profile=profile)


@blp.route("", methods=["POST"])
@blp.arguments(VendorCreateSchema)
@blp.response(200, NewVendorSchema)
@blp.endpoint(
    example='curl -X POST $FACTORY/api/vendor -d \'{"id": "v1", "name": "Pizza backend"}\'',
    response={"id": "v1", "name": "Pizza backend", "apiKey": "pf_..."},
)
def register(body: dict[str, Any]) -> vendors.NewVendor:
    """Self-registration; off unless FACTORY_OPEN_REGISTRATION=1 (admins create vendors)."""
    if not settings().open_registration:
        raise ApiError(403, "registration is closed: ask an admin to create your vendor")
    return create_from_body(body)


@blp.route("", methods=["GET"])
@blp.response(200, VendorSchema)
@blp.endpoint(
    example='curl $FACTORY/api/vendor -H "Authorization: Bearer $API_KEY"',
    response={"id": "v1", "name": "Pizza backend", "roles": []},
    requires_auth=True,
)
def me() -> Vendor:
    """The calling vendor's record."""
    return authenticated_vendor()


@blp.route("/<vendor_id>", methods=["GET"])
@blp.response(200, VendorExistsSchema)
@blp.endpoint(example="curl $FACTORY/api/vendor/v1", response={"exists": True})
def exists(vendor_id: str) -> dict[str, bool]:
    """Whether a vendor id is taken."""
    return {"exists": vendors.vendor_exists(db_session(), vendor_id)}


@blp.route("", methods=["PUT"])
@blp.arguments(VendorUpdateSchema)
@blp.response(200, VendorSchema)
@blp.endpoint(
    example='curl -X PUT $FACTORY/api/vendor -H "Authorization: Bearer $API_KEY" '
    '-d \'{"id": "v1", "phone": null}\'',
    response={"id": "v1", "name": "Pizza backend"},
    requires_auth=True,
)
def update(body: dict[str, Any]) -> Vendor:
    """Update a vendor's profile (null removes a field); only admins may change others."""
    caller = authenticated_vendor()
    vendor_id = body.pop("id")
    if vendor_id != caller.id and not caller.is_admin:
        raise vendors.AuthenticationFailed
    target = vendors.get_vendor(db_session(), vendor_id)
    if body.get("name", "") is None:
        raise ApiError(400, "name cannot be removed")
    return vendors.update_profile(db_session(), target, body)


@blp.route("/chaos/<chaos_type>", methods=["PUT"])
@blp.response(200, ChaosScheduledSchema)
@blp.endpoint(
    example='curl -X PUT $FACTORY/api/vendor/chaos/fail -H "Authorization: Bearer $API_KEY"',
    response={"message": "Chaos scheduled", "type": "fail"},
    requires_auth=True,
)
def schedule_chaos(chaos_type: str) -> dict[str, str]:
    """Schedule a drill (fail, throttle or badjwt) at a random moment in the chaos window."""
    vendor = authenticated_vendor()
    drill_type = drills.parse_type(chaos_type)
    starts_at = drills.random_start(drills.utcnow(), settings().chaos_window)
    drills.schedule(db_session(), vendor.id, drill_type, starts_at)
    return {"message": "Chaos scheduled", "type": drill_type.value}
