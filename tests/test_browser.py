"""What the React front end needs: CORS with credentials, a cacheable JWKS."""

from __future__ import annotations

import pytest

from factory import create_app
from tests.support import BACKEND_ORDER

ORIGIN = "https://pizza.example.com"


def test_preflight_for_a_credentialed_verify(client):
    response = client.options(
        "/api/order/verify",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"content-type", "authorization"} <= allowed
    assert "Origin" in response.headers["Vary"]


def test_actual_verify_response_carries_cors_headers(client, vendor):
    token = client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).get_json()["jwt"]
    response = client.post(
        "/api/order/verify",
        json={"jwt": token},
        headers={"Origin": ORIGIN, "Authorization": "Bearer diner-token"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/api/docs"])
def test_browser_get_endpoints_echo_the_origin(client, path):
    response = client.get(path, headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_vendor_endpoints_send_no_cors_headers(client, vendor):
    response = client.post(
        "/api/order", json=BACKEND_ORDER, headers={**vendor.headers, "Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_configured_origins_reject_others(database_url, keys_dir):
    app = create_app(
        {"database_url": database_url, "keys_dir": str(keys_dir), "cors_origins": ORIGIN}
    )
    client = app.test_client()
    allowed = client.post("/api/order/verify", json={"jwt": "x"}, headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = client.post(
        "/api/order/verify", json={"jwt": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    app.extensions["database"].dispose()


def test_jwks_is_cacheable_with_an_etag(client):
    response = client.get("/.well-known/jwks.json")
    assert response.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    etag = response.headers["ETag"]
    assert etag
    cached = client.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.get_data() == b""
    stale = client.get("/.well-known/jwks.json", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_jwks_holds_the_active_key_first_and_the_next_key(app, client):
    snapshot = app.extensions["keyring"].snapshot
    kids = [key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert kids[0] == snapshot.signing_key.kid
    assert len(kids) == 2


def test_openapi_document_is_generated_from_the_schemas(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/order" in spec["paths"]
    assert "OrderRequest" in spec["components"]["schemas"]


def test_method_not_allowed_is_405_json(client):
    response = client.delete("/api/order")
    assert response.status_code == 405
    assert response.get_json() == {"message": "method not allowed"}
