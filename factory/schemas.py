"""Marshmallow schemas for every request and response body.

Order bodies keep the fields they do not name, exactly as sent: the pizza
backend may add fields to ``order`` and they belong in the signed pizza.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, validate


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


class DinerSchema(PassThroughSchema):
    id = fields.Raw(metadata={"example": 719})
    name = fields.Raw(metadata={"example": "j"})
    email = fields.Raw(metadata={"example": "j@jwt.com"})


class OrderItemSchema(PassThroughSchema):
    menuId = fields.Raw(metadata={"example": 1})
    description = fields.Raw(metadata={"example": "Veggie"})
    price = JsonNumber(
        required=True,
        validate=validate.Range(min=0),
        metadata={"type": "number", "example": 0.0038},
    )


class OrderSchema(PassThroughSchema):
    items = fields.List(fields.Nested(OrderItemSchema), load_default=list)
    storeId = fields.Raw(metadata={"example": "5"})
    franchiseId = fields.Raw(metadata={"example": 4})
    id = fields.Raw(metadata={"example": 278})


class OrderRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    diner = fields.Nested(DinerSchema, required=True)
    order = fields.Nested(OrderSchema, required=True)


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
