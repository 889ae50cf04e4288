"""The rest of the hosted API over HTTP: vendors, admins, the ledger, chaos drills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import update

from factory import create_app, drills
from factory.models import Drill
from tests.support import BACKEND_ORDER, make_vendor


@pytest.fixture
def admin(app):
    return make_vendor(app, "boss", admin=True)


def place(client, vendor):
    return client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers)


# --- vendors ---------------------------------------------------------------------


def test_self_registration_is_closed_by_default(client):
    response = client.post("/api/vendor", json={"id": "v1", "name": "V1"})
    assert response.status_code == 403
    assert response.get_json()["message"]


@pytest.fixture
def open_client(database_url, keys_dir):
    app = create_app(
        {"database_url": database_url, "keys_dir": str(keys_dir), "open_registration": "1"}
    )
    yield app.test_client()
    app.extensions["database"].dispose()


def test_open_registration_creates_a_vendor_and_returns_its_key_once(open_client):
    response = open_client.post(
        "/api/vendor", json={"id": "v1", "name": "V1", "email": "v1@pizza.example"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "v1" and body["apiKey"].startswith("pf_")
    mine = open_client.get("/api/vendor", headers={"Authorization": f"Bearer {body['apiKey']}"})
    assert mine.get_json()["email"] == "v1@pizza.example"
    assert "apiKey" not in mine.get_json()


def test_registration_without_id_is_400_and_duplicate_is_409(open_client):
    assert open_client.post("/api/vendor", json={"name": "V1"}).status_code == 400
    assert open_client.post("/api/vendor", json={"id": "v1", "name": "V1"}).status_code == 200
    duplicate = open_client.post("/api/vendor", json={"id": "v1", "name": "V1"})
    assert duplicate.status_code == 409


def test_get_vendor_returns_the_caller_without_secrets(client, vendor):
    response = client.get("/api/vendor", headers=vendor.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == vendor.id
    text = response.get_data(as_text=True)
    assert vendor.api_key not in text and "hash" not in text


def test_vendor_exists(client, vendor):
    assert client.get(f"/api/vendor/{vendor.id}").get_json() == {"exists": True}
    assert client.get("/api/vendor/nobody").get_json() == {"exists": False}


def test_vendor_updates_itself_and_null_removes_a_field(client, vendor):
    headers = vendor.headers
    client.put("/api/vendor", json={"id": vendor.id, "phone": "555-1234"}, headers=headers)
    response = client.put(
        "/api/vendor", json={"id": vendor.id, "phone": None, "name": "New"}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["phone"] is None and response.get_json()["name"] == "New"


def test_update_without_id_is_400(client, vendor):
    assert client.put("/api/vendor", json={"name": "x"}, headers=vendor.headers).status_code == 400


def test_non_admin_updating_another_vendor_is_401(app, client, vendor):
    other = make_vendor(app, "other")
    response = client.put("/api/vendor", json={"id": other.id, "name": "x"}, headers=vendor.headers)
    assert response.status_code == 401


def test_admin_updating_an_unknown_vendor_is_404(client, admin):
    response = client.put("/api/vendor", json={"id": "ghost", "name": "x"}, headers=admin.headers)
    assert response.status_code == 404


def test_admin_updates_another_vendor(client, admin, vendor):
    response = client.put(
        "/api/vendor", json={"id": vendor.id, "website": "https://p.example"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.get_json()["website"] == "https://p.example"


# --- admin -----------------------------------------------------------------------


def test_admin_endpoints_refuse_non_admins_with_401(client, vendor):
    for method, path in [
        ("get", "/api/admin/vendors"),
        ("put", "/api/admin/role"),
        ("delete", "/api/admin/vendor"),
        ("get", "/api/admin/orders"),
    ]:
        response = getattr(client, method)(path, json={}, headers=vendor.headers)
        assert response.status_code in (400, 401), path
        if method == "get":
            assert response.status_code == 401


def test_admin_lists_vendors(client, admin, vendor):
    response = client.get("/api/admin/vendors", headers=admin.headers)
    assert {v["id"] for v in response.get_json()} == {admin.id, vendor.id}


def test_admin_creates_a_vendor_and_sees_its_key_once(client, admin):
    response = client.post(
        "/api/admin/vendors", json={"id": "new", "name": "New"}, headers=admin.headers
    )
    assert response.status_code == 201
    key = response.get_json()["apiKey"]
    assert (
        place(client, type("K", (), {"headers": {"Authorization": f"Bearer {key}"}})).status_code
        == 200
    )


def test_admin_sets_roles(client, admin, vendor):
    response = client.put(
        "/api/admin/role", json={"id": vendor.id, "roles": ["admin"]}, headers=admin.headers
    )
    assert response.get_json()["roles"] == ["admin"]
    assert client.get("/api/admin/vendors", headers=vendor.headers).status_code == 200


def test_admin_deletes_a_vendor_but_keeps_its_orders(app, client, admin, vendor):
    token = place(client, vendor).get_json()["jwt"]
    response = client.delete(
        "/api/admin/vendor", json={"id": vendor.id, "deleteType": "all"}, headers=admin.headers
    )
    assert response.status_code == 204
    assert client.get(f"/api/vendor/{vendor.id}").get_json() == {"exists": False}
    assert place(client, vendor).status_code == 401
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    orders = client.get(f"/api/admin/orders?vendor={vendor.id}", headers=admin.headers)
    assert [o["jti"] for o in orders.get_json()["orders"]] == [jti]


def test_admin_delete_chaos_ends_the_vendors_drill(app, client, admin, vendor):
    start_drill(app, vendor.id, "fail")
    assert place(client, vendor).status_code == 500
    response = client.delete(
        "/api/admin/vendor", json={"id": vendor.id, "deleteType": "chaos"}, headers=admin.headers
    )
    assert response.status_code == 204
    assert place(client, vendor).status_code == 200


def test_admin_delete_needs_a_known_type(client, admin, vendor):
    response = client.delete(
        "/api/admin/vendor", json={"id": vendor.id, "deleteType": "some"}, headers=admin.headers
    )
    assert response.status_code == 400


# --- ledger ----------------------------------------------------------------------


def jti_of(token):
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def test_vendor_sees_its_own_order_and_not_anothers(app, client, vendor):
    other = make_vendor(app, "other")
    mine = jti_of(place(client, vendor).get_json()["jwt"])
    theirs = jti_of(place(client, other).get_json()["jwt"])
    response = client.get(f"/api/order/{mine}", headers=vendor.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["jti"] == mine and body["itemCount"] == 1 and body["totalPrice"] == "0.003800"
    assert client.get(f"/api/order/{theirs}", headers=vendor.headers).status_code == 404


def test_vendor_lists_its_orders_newest_first_with_a_total(client, vendor):
    jtis = [jti_of(place(client, vendor).get_json()["jwt"]) for _ in range(5)]
    page = client.get("/api/order?page=1&limit=2", headers=vendor.headers).get_json()
    assert page["total"] == 5 and page["page"] == 1 and page["limit"] == 2
    assert len(page["orders"]) == 2
    seen = []
    for number in (1, 2, 3):
        page = client.get(f"/api/order?page={number}&limit=2", headers=vendor.headers).get_json()
        seen += [o["jti"] for o in page["orders"]]
    assert sorted(seen) == sorted(jtis)
    assert client.get("/api/order?limit=0", headers=vendor.headers).status_code == 400


def test_admin_filters_orders_and_revokes_one(client, admin, vendor):
    token = place(client, vendor).get_json()["jwt"]
    place(client, admin)
    everything = client.get("/api/admin/orders", headers=admin.headers).get_json()
    assert everything["total"] == 2
    mine = client.get(f"/api/admin/orders?vendor={vendor.id}", headers=admin.headers).get_json()
    assert mine["total"] == 1
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    later = client.get(f"/api/admin/orders?since={future}", headers=admin.headers).get_json()
    assert later["total"] == 0
    revoked = client.post(
        f"/api/admin/orders/{jti_of(token)}/revoke", json={"reason": "fraud"}, headers=admin.headers
    )
    assert revoked.status_code == 200 and revoked.get_json()["revokedReason"] == "fraud"
    verdict = client.post("/api/order/verify", json={"jwt": token})
    assert verdict.status_code == 403 and verdict.get_json()["reason"] == "revoked"
    only = client.get("/api/admin/orders?revoked=true", headers=admin.headers).get_json()
    assert [o["jti"] for o in only["orders"]] == [jti_of(token)]
    missing = client.post(
        "/api/admin/orders/nope/revoke", json={"reason": "x"}, headers=admin.headers
    )
    assert missing.status_code == 404


# --- chaos drills ----------------------------------------------------------------


def start_drill(app, vendor_id, drill_type, starts_in=timedelta(0)):
    with app.extensions["database"].new_session() as session:
        starts_at = datetime.now(UTC) + starts_in
        return drills.schedule(session, vendor_id, drills.DrillType(drill_type), starts_at)


def move_start(app, drill_id, when):
    with app.extensions["database"].new_session() as session:
        session.execute(update(Drill).where(Drill.id == drill_id).values(starts_at=when))
        session.commit()


def test_scheduling_chaos_over_http(client, vendor):
    response = client.put("/api/vendor/chaos/fail", headers=vendor.headers)
    assert response.status_code == 200
    assert response.get_json()["type"] == "fail"
    assert client.put("/api/vendor/chaos/explode", headers=vendor.headers).status_code == 400
    assert client.put("/api/vendor/chaos/fail").status_code == 401


@pytest.mark.parametrize("drill_type", ["fail", "throttle", "badjwt"])
def test_drills_misbehave_only_after_their_start_and_only_for_their_vendor(
    app, client, vendor, drill_type, monkeypatch
):
    slept = []
    monkeypatch.setattr("factory.orders.time.sleep", slept.append)
    other = make_vendor(app, "bystander")
    drill = start_drill(app, vendor.id, drill_type, starts_in=timedelta(hours=1))
    before = place(client, vendor)
    assert before.status_code == 200 and "reportUrl" not in before.get_json()

    move_start(app, drill.id, datetime.now(UTC) - timedelta(seconds=1))
    during = place(client, vendor)
    body = during.get_json()
    assert body["reportUrl"].startswith("http://localhost/api/support/")
    assert vendor.api_key not in body["reportUrl"]
    if drill_type == "fail":
        assert during.status_code == 500 and body["message"] == "chaos monkey"
    elif drill_type == "throttle":
        assert during.status_code == 200 and slept == [10.0]
        assert client.post("/api/order/verify", json={"jwt": body["jwt"]}).status_code == 200
    else:
        assert during.status_code == 200
        assert client.post("/api/order/verify", json={"jwt": body["jwt"]}).status_code == 403
    assert place(client, other).get_json().keys() == {"jwt"}

    path = body["reportUrl"].removeprefix("http://localhost")
    resolved = client.get(path)
    assert resolved.status_code == 200
    assert resolved.get_json() == {"message": "Problem resolved. Pizza is back on the menu!"}
    after = place(client, vendor)
    assert after.status_code == 200 and after.get_json().keys() == {"jwt"}


def test_a_wrong_fix_code_is_400_and_the_drill_goes_on(app, client, vendor):
    start_drill(app, vendor.id, "fail")
    url = place(client, vendor).get_json()["reportUrl"]
    wrong = url.removeprefix("http://localhost").rsplit("/", 1)[0] + "/not-the-code"
    response = client.get(wrong)
    assert response.status_code == 400
    assert response.get_json() == {"message": "Problem unresolved"}
    assert place(client, vendor).status_code == 500


def test_report_without_a_running_drill(client):
    response = client.get("/api/support/no-such-token/report/whatever")
    assert response.status_code == 200
    assert response.get_json() == {"message": "No chaos currently executing"}


def test_report_url_uses_the_public_url(database_url, keys_dir):
    app = create_app(
        {
            "database_url": database_url,
            "keys_dir": str(keys_dir),
            "public_url": "https://factory.example.com/",
        }
    )
    vendor = make_vendor(app, "backend")
    start_drill(app, vendor.id, "fail")
    body = place(app.test_client(), vendor).get_json()
    assert body["reportUrl"].startswith("https://factory.example.com/api/support/")
    app.extensions["database"].dispose()


def test_drill_history_records_failures_and_time_to_resolve(app, client, vendor):
    drill = start_drill(app, vendor.id, "fail")
    url = place(client, vendor).get_json()["reportUrl"]
    place(client, vendor)
    client.get(url.removeprefix("http://localhost"))
    with app.extensions["database"].new_session() as session:
        [row] = drills.history(session, vendor.id)
        summary = drills.summary(row, datetime.now(UTC))
    assert row.id == drill.id
    assert summary["state"] == "ended" and summary["ended_by"] == "report"
    assert summary["failures"] == 2
    assert summary["time_to_resolve_seconds"] >= 0
