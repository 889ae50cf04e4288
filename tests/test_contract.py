"""One test per row of the hosted factory's behaviour table (shared/CONTRACT.md)."""

from __future__ import annotations

import copy

import jwt
import pytest

from factory import tokens
from tests.support import BACKEND_ORDER


def test_order_with_valid_key_returns_a_jwt(client, vendor):
    response = client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"jwt"}
    claims = jwt.decode(body["jwt"], options={"verify_signature": False})
    assert claims["vendor"] == {"id": vendor.id, "name": vendor.name}
    assert claims["diner"] == BACKEND_ORDER["diner"]
    assert claims["order"] == BACKEND_ORDER["order"]


@pytest.mark.parametrize("missing", ["diner", "order"])
def test_order_without_diner_or_order_is_400(client, vendor, missing):
    body = {k: v for k, v in BACKEND_ORDER.items() if k != missing}
    response = client.post("/api/order", json=body, headers=vendor.headers)
    assert response.status_code == 400
    assert response.get_json()["message"] == "Missing required parameters"


@pytest.mark.parametrize("count", [0, 21])
def test_order_with_no_or_too_many_items_is_503_oven_full(client, vendor, count):
    body = copy.deepcopy(BACKEND_ORDER)
    body["order"]["items"] = [{"menuId": 1, "description": "Veggie", "price": 0.01}] * count
    response = client.post("/api/order", json=body, headers=vendor.headers)
    assert response.status_code == 503
    assert response.get_json() == {"message": "Unable to satisfy pizza order. The oven is full."}


def test_order_with_twenty_items_is_accepted(client, vendor):
    body = copy.deepcopy(BACKEND_ORDER)
    body["order"]["items"] = [{"menuId": 1, "description": "Veggie", "price": 0.01}] * 20
    assert client.post("/api/order", json=body, headers=vendor.headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer pf_not-a-real-key"}, {"authorization": "Basic abc"}],
    ids=["missing", "unknown", "wrong-scheme"],
)
def test_order_with_missing_or_unknown_key_is_401(client, headers):
    response = client.post("/api/order", json=BACKEND_ORDER, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"message": "invalid authentication"}


def test_verify_accepts_a_token_it_signed(client, vendor):
    token = client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).get_json()["jwt"]
    response = client.post("/api/order/verify", json={"jwt": token})
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "valid"
    assert body["payload"]["diner"] == BACKEND_ORDER["diner"]
    assert body["payload"]["vendor"]["id"] == vendor.id


def test_verify_rejects_anything_else_with_403(client):
    response = client.post("/api/order/verify", json={"jwt": "not.a.pizza"})
    assert response.status_code == 403
    assert response.get_json()["message"] == "invalid"


def test_jwks_lists_rsa_keys_by_thumbprint(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["e"] == "AQAB"
        assert key["use"] == "sig" and key["alg"] == "RS256"
        assert len(key["kid"]) == 43 and key["n"]


def test_docs_lists_endpoints_in_the_hosted_shape(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] and body["version"]
    paths = {(e["method"], e["path"]) for e in body["endpoints"]}
    assert {("POST", "/api/order"), ("POST", "/api/order/verify")} <= paths
    assert ("GET", "/.well-known/jwks.json") in paths
    for endpoint in body["endpoints"]:
        assert set(endpoint) == {
            "method",
            "path",
            "requiresAuth",
            "description",
            "example",
            "response",
        }
        assert endpoint["description"] and endpoint["example"]
    order = next(e for e in body["endpoints"] if e["path"] == "/api/order")
    assert order["requiresAuth"] is True


def test_unknown_path_is_404_json(client):
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.get_json() == {"message": "unknown endpoint"}


def test_unhandled_error_is_500_json_without_a_stack_trace(app, client, vendor, monkeypatch):
    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(tokens, "issue", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers)
    assert response.status_code == 500
    assert response.is_json
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
