"""``/api/docs``: the hosted factory's endpoint list, derived from the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import current_app

from factory.api import Blueprint
from factory.schemas import ApiDocsSchema

blp = Blueprint("docs", __name__, url_prefix="/api", description="Documentation")

HTTP_METHODS = ("get", "post", "put", "delete", "patch")


def endpoint_list(spec: dict[str, Any]) -> list[dict[str, Any]]:
    endpoints = []
    for path, operations in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            endpoints.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "requiresAuth": bool(operation.get("security")),
                    "description": operation.get("summary", ""),
                    "example": operation.get("x-example", ""),
                    "response": operation.get("x-response", {}),
                }
            )
    return endpoints


@blp.route("/docs", methods=["GET"])
@blp.response(200, ApiDocsSchema)
@blp.endpoint(
    example="curl $FACTORY/api/docs",
    response={"message": "welcome to the pizza factory", "version": "...", "endpoints": []},
)
def docs() -> dict[str, Any]:
    """List every endpoint with an example; the OpenAPI document is at /api/openapi.json."""
    api = current_app.extensions["factory_api"]
    return {
        "message": "welcome to the pizza factory",
        "version": current_app.config["API_VERSION"],
        "openapi": "/api/openapi.json",
        "endpoints": endpoint_list(api.spec.to_dict()),
    }
