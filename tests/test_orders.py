"""POST /api/order: validation, the ledger row, and failure without a token."""

from __future__ import annotations

import copy
from decimal import Decimal

import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from factory import ledger
from factory.models import Order
from tests.support import BACKEND_ORDER


def order_with(**changes):
    body = copy.deepcopy(BACKEND_ORDER)
    body["order"].update(changes)
    return body


def ledger_rows(app):
    with app.extensions["database"].new_session() as session:
        return list(session.scalars(select(Order)))


def test_the_ledger_row_is_committed_with_the_token(app, client, vendor):
    token = client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).get_json()["jwt"]
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    [row] = ledger_rows(app)
    assert row.jti == claims["jti"]
    assert row.vendor_id == vendor.id
    assert row.order_ref == "278"
    assert row.diner == BACKEND_ORDER["diner"]
    assert row.order == BACKEND_ORDER["order"]
    assert row.item_count == 1
    assert row.total_price == Decimal("0.0038")
    assert row.kid == header["kid"]
    assert int(row.issued_at.timestamp()) == claims["iat"]
    assert int(row.expires_at.timestamp()) == claims["exp"]
    assert row.revoked_at is None and row.revoked_reason is None


def test_token_has_registered_claims_in_the_payload(client, vendor):
    token = client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).get_json()["jwt"]
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": header["kid"]}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 86400
    assert claims["iss"] == "pizza-factory"
    assert len(claims["jti"]) == 32


def test_fields_the_schema_does_not_name_are_kept_as_sent(client, vendor):
    body = order_with(coupon={"code": "FREE", "pct": 10}, storeId="5", franchiseId=4)
    body["order"]["items"][0]["extraCheese"] = True
    body["diner"]["loyalty"] = "gold"
    token = client.post("/api/order", json=body, headers=vendor.headers).get_json()["jwt"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["order"] == body["order"]
    assert claims["diner"] == body["diner"]


@pytest.mark.parametrize(
    "body",
    [
        {"diner": "j", "order": BACKEND_ORDER["order"]},
        {"diner": BACKEND_ORDER["diner"], "order": [1, 2]},
        order_with(items="pizza"),
        order_with(items=[5]),
        order_with(items=[{"menuId": 1, "price": -1}]),
        order_with(items=[{"menuId": 1, "price": "1.00"}]),
        order_with(items=[{"menuId": 1, "price": True}]),
        order_with(items=[{"menuId": 1}]),
        [BACKEND_ORDER],
    ],
    ids=[
        "diner-not-object",
        "order-not-object",
        "items-not-list",
        "item-not-object",
        "negative-price",
        "string-price",
        "boolean-price",
        "missing-price",
        "array-body",
    ],
)
def test_invalid_bodies_are_400_json(app, client, vendor, body):
    response = client.post("/api/order", json=body, headers=vendor.headers)
    assert response.status_code == 400
    assert isinstance(response.get_json()["message"], str)
    assert ledger_rows(app) == []


def test_malformed_json_is_400(client, vendor):
    response = client.post(
        "/api/order",
        data=b'{"diner": {',
        headers={**vendor.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json() == {"message": "request body is not valid JSON"}


def test_non_json_body_is_400(client, vendor):
    response = client.post(
        "/api/order", data="diner=j", headers={**vendor.headers, "Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == "Missing required parameters"


def test_body_over_64_kib_is_413_json(client, vendor):
    body = order_with(note="x" * (64 * 1024))
    response = client.post("/api/order", json=body, headers=vendor.headers)
    assert response.status_code == 413
    assert response.get_json() == {"message": "request body too large"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_scheme_is_case_insensitive(client, vendor, scheme):
    headers = {"Authorization": f"{scheme} {vendor.api_key}"}
    assert client.post("/api/order", json=BACKEND_ORDER, headers=headers).status_code == 200


def test_a_failed_ledger_write_is_503_and_issues_nothing(app, client, vendor, monkeypatch):
    from sqlalchemy.engine import Connection

    execute = Connection.execute

    def refuse_ledger_inserts(self, statement, *args, **kwargs):
        if statement is ledger.INSERT_ORDER:
            raise OperationalError("INSERT", {}, Exception("database is unavailable"))
        return execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", refuse_ledger_inserts)
    response = client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers)
    monkeypatch.undo()
    assert response.status_code == 503
    body = response.get_json()
    assert "jwt" not in body and body["message"]
    with app.extensions["database"].new_session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
