"""``/.well-known/jwks.json``: the published keys, served pre-serialised."""

from __future__ import annotations

from flask import Response, request

from factory.api import Blueprint, key_ring, settings
from factory.schemas import JwksSchema

blp = Blueprint("wellknown", __name__, url_prefix="/.well-known", description="Key set")


@blp.route("/jwks.json", methods=["GET"])
@blp.response(200, JwksSchema)
@blp.endpoint(
    example="curl $FACTORY/.well-known/jwks.json",
    response={"keys": [{"kty": "RSA", "kid": "...", "n": "...", "e": "AQAB"}]},
)
def jwks() -> Response:
    """Every key that verifies tokens: the active key first, then the next and retired ones."""
    snapshot = key_ring().snapshot
    headers = {
        "ETag": f'"{snapshot.etag}"',
        "Cache-Control": f"public, max-age={settings().jwks_max_age}",
    }
    # The headers are written as strings: werkzeug's cache-control and conditional
    # helpers cost more than the rest of this, the most frequently fetched endpoint.
    if request.if_none_match.contains(snapshot.etag):
        return Response(status=304, headers=headers)
    return Response(snapshot.jwks_body, mimetype="application/json", headers=headers)
