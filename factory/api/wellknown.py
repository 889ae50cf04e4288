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
    response = Response(snapshot.jwks_body, mimetype="application/json")
    response.set_etag(snapshot.etag)
    response.cache_control.public = True
    response.cache_control.max_age = settings().jwks_max_age
    return response.make_conditional(request)
