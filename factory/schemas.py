"""Marshmallow schemas for every request and response body.

Order bodies keep the fields they do not name, exactly as sent: the pizza
backend may add fields to ``order`` and they belong in the signed pizza.
"""

from __future__ import annotations

import math
from datetime import UTC
from types import SimpleNamespace
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, pre_dump, validate


class JsonNumber(fields.Field):
    """A JSON number (not a string, not a boolean), returned unchanged."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Not a number.")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError("Not a finite number.")
        return value


class PassThroughSchema(Schema):
    class Meta:
        unknown = INCLUDE


#: Documentation only: diner and order fields other than prices pass through unread.
EXAMPLE_DINER = {"id": 719, "name": "j", "email": "j@jwt.com"}
EXAMPLE_ORDER = {
    "items": [{"menuId": 1, "description": "Veggie", "price": 0.0038}],
    "storeId": "5",
    "franchiseId": 4,
    "id": 278,
}


class OrderItemSchema(PassThroughSchema):
    price = JsonNumber(
        required=True,
        validate=validate.Range(min=0),
        metadata={"type": "number", "example": 0.0038},
    )


class OrderSchema(PassThroughSchema):
    items = fields.List(fields.Nested(OrderItemSchema), load_default=list)


class OrderRequestSchema(Schema):
    """Only prices are checked; every other field is signed exactly as sent.

    Fields that are only passed through are documented by example rather than
    declared: each declared field costs every order a deserialisation step.
    """

    class Meta:
        unknown = EXCLUDE

    diner = fields.Dict(required=True, metadata={"example": EXAMPLE_DINER})
    order = fields.Nested(OrderSchema, required=True, metadata={"example": EXAMPLE_ORDER})


class OrderResponseSchema(Schema):
    jwt = fields.String(required=True)
    reportUrl = fields.String()


class VerifyRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    jwt = fields.String(required=True)


class VerifyResponseSchema(Schema):
    message = fields.String(required=True, metadata={"example": "valid"})
    payload = fields.Dict()
    reason = fields.String()
    revocationChecked = fields.Boolean()


class MessageSchema(Schema):
    message = fields.String(required=True)


class JwkSchema(Schema):
    kty = fields.String()
    kid = fields.String()
    use = fields.String()
    alg = fields.String()
    n = fields.String()
    e = fields.String()


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema))


class EndpointDocSchema(Schema):
    method = fields.String()
    path = fields.String()
    requiresAuth = fields.Boolean()
    description = fields.String()
    example = fields.String()
    response = fields.Raw()


class ApiDocsSchema(Schema):
    message = fields.String()
    version = fields.String()
    openapi = fields.String()
    endpoints = fields.List(fields.Nested(EndpointDocSchema))


class VendorSchema(Schema):
    """A vendor as the API shows it: never its API key or the key's hash."""

    id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    gitHubUrl = fields.String(attribute="github_url", allow_none=True)
    created = fields.DateTime(attribute="created_at")
    roles = fields.List(fields.String())
    disabled = fields.Function(lambda vendor: vendor.disabled_at is not None)


class NewVendorSchema(VendorSchema):
    """A vendor just created (a ``vendors.NewVendor``): its record plus the key, shown once."""

    apiKey = fields.String(attribute="api_key")

    @pre_dump
    def _flatten(self, created: Any, **_kwargs: Any) -> Any:
        vendor = created.vendor
        names = ("id", "name", "email", "website", "phone", "github_url", "created_at", "roles")
        return SimpleNamespace(
            **{name: getattr(vendor, name) for name in names},
            disabled_at=vendor.disabled_at,
            api_key=created.api_key,
        )


PROFILE_FIELDS = {
    "email": fields.String(allow_none=True, validate=validate.Length(max=320)),
    "website": fields.String(allow_none=True, validate=validate.Length(max=500)),
    "phone": fields.String(allow_none=True, validate=validate.Length(max=50)),
    "gitHubUrl": fields.String(allow_none=True, validate=validate.Length(max=500)),
}
VENDOR_ID = validate.Regexp(
    r"^[A-Za-z0-9._@-]{1,100}$", error="id must be 1-100 letters, digits or ._@-"
)


class VendorCreateSchema(Schema.from_dict(PROFILE_FIELDS)):  # type: ignore[misc]
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=VENDOR_ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class VendorUpdateSchema(Schema.from_dict(PROFILE_FIELDS)):  # type: ignore[misc]
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    name = fields.String(validate=validate.Length(min=1, max=200))


class VendorExistsSchema(Schema):
    exists = fields.Boolean()


class RoleChangeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    roles = fields.List(fields.String(validate=validate.Length(min=1, max=50)), required=True)


class VendorDeleteSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    deleteType = fields.String(required=True, validate=validate.OneOf(["chaos", "all"]))


class OrderRecordSchema(Schema):
    jti = fields.String()
    vendorId = fields.String(attribute="vendor_id")
    orderId = fields.String(attribute="order_ref", allow_none=True)
    diner = fields.Dict()
    order = fields.Dict()
    itemCount = fields.Integer(attribute="item_count")
    totalPrice = fields.Decimal(attribute="total_price", as_string=True)
    kid = fields.String()
    issued = fields.DateTime(attribute="issued_at")
    expires = fields.DateTime(attribute="expires_at")
    revoked = fields.DateTime(attribute="revoked_at", allow_none=True)
    revokedReason = fields.String(attribute="revoked_reason", allow_none=True)


class OrderPageSchema(Schema):
    orders = fields.List(fields.Nested(OrderRecordSchema))
    page = fields.Integer()
    limit = fields.Integer()
    total = fields.Integer()


class PageArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class AdminOrderArgsSchema(PageArgsSchema):
    vendor = fields.String()
    since = fields.AwareDateTime(default_timezone=UTC)
    until = fields.AwareDateTime(default_timezone=UTC)
    revoked = fields.Boolean()


class RevokeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ChaosScheduledSchema(Schema):
    message = fields.String()
    type = fields.String()
