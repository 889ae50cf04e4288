"""The admin CLI, run in-process through Flask's CLI runner against a real database."""

from __future__ import annotations

import json

import jwt

from tests.support import BACKEND_ORDER


def invoke(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result


def test_vendor_life_cycle(app, client):
    created = invoke(app, "vendors", "create", "cli", "--name", "CLI pizzas", "--json")
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)["apiKey"]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/order", json=BACKEND_ORDER, headers=headers).status_code == 200

    shown = json.loads(invoke(app, "vendors", "show", "cli", "--json").output)
    assert shown["name"] == "CLI pizzas" and "apiKey" not in shown
    updated = invoke(app, "vendors", "update", "cli", "--phone", "555", "--json")
    assert json.loads(updated.output)["roles"] == []
    assert json.loads(invoke(app, "vendors", "grant-admin", "cli", "--json").output)["roles"] == [
        "admin"
    ]
    assert client.get("/api/admin/vendors", headers=headers).status_code == 200
    invoke(app, "vendors", "revoke-admin", "cli")
    assert client.get("/api/admin/vendors", headers=headers).status_code == 401

    invoke(app, "vendors", "disable", "cli")
    assert client.post("/api/order", json=BACKEND_ORDER, headers=headers).status_code == 401
    invoke(app, "vendors", "enable", "cli")
    assert client.post("/api/order", json=BACKEND_ORDER, headers=headers).status_code == 200

    rotated = json.loads(invoke(app, "vendors", "rotate-key", "cli", "--json").output)["apiKey"]
    assert client.post("/api/order", json=BACKEND_ORDER, headers=headers).status_code == 401
    new_headers = {"Authorization": f"Bearer {rotated}"}
    assert client.post("/api/order", json=BACKEND_ORDER, headers=new_headers).status_code == 200

    listed = json.loads(invoke(app, "vendors", "list", "--json").output)
    assert [v["id"] for v in listed] == ["cli"]
    assert invoke(app, "vendors", "delete", "cli", "--yes").exit_code == 0
    assert json.loads(invoke(app, "vendors", "list", "--json").output) == []
    assert invoke(app, "vendors", "show", "cli").exit_code != 0


def test_duplicate_vendor_is_an_error(app):
    assert invoke(app, "vendors", "create", "dup", "--name", "D").exit_code == 0
    again = invoke(app, "vendors", "create", "dup", "--name", "D")
    assert again.exit_code != 0 and "already exists" in again.output


def test_orders_list_show_revoke_and_stats(app, client, vendor):
    tokens = [
        client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).get_json()["jwt"]
        for _ in range(3)
    ]
    jti = jwt.decode(tokens[0], options={"verify_signature": False})["jti"]
    listed = json.loads(invoke(app, "orders", "list", "--vendor", vendor.id, "--json").output)
    assert listed["total"] == 3
    assert json.loads(invoke(app, "orders", "show", jti).output)["jti"] == jti
    assert invoke(app, "orders", "revoke", jti, "--reason", "test").exit_code == 0
    verdict = client.post("/api/order/verify", json={"jwt": tokens[0]}).get_json()
    assert verdict["reason"] == "revoked"
    [row] = json.loads(invoke(app, "orders", "stats", "--json").output)
    assert row["vendor"] == vendor.id and row["orders"] == 3 and row["revoked"] == 1
    assert row["items"] == 3 and row["total"] == "0.0114"
    assert invoke(app, "orders", "show", "nope").exit_code != 0


def test_chaos_start_status_stop_history(app, client, vendor):
    started = invoke(app, "chaos", "start", vendor.id, "fail")
    assert started.exit_code == 0, started.output
    assert client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).status_code == 500
    [status] = json.loads(invoke(app, "chaos", "status", "--json").output)
    assert status["state"] == "running" and status["failures"] == 1
    assert invoke(app, "chaos", "stop", vendor.id).exit_code == 0
    assert client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).status_code == 200
    assert json.loads(invoke(app, "chaos", "status", "--json").output) == []
    [past] = json.loads(invoke(app, "chaos", "history", "--json").output)
    assert past["ended_by"] == "admin"

    later = invoke(app, "chaos", "start", vendor.id, "badjwt", "--in", "10m")
    assert later.exit_code == 0
    [scheduled] = json.loads(invoke(app, "chaos", "status", "--json").output)
    assert scheduled["state"] == "scheduled"
    assert invoke(app, "chaos", "start", "ghost", "fail").exit_code != 0
    assert invoke(app, "chaos", "start", vendor.id, "explode").exit_code != 0


def test_keys_commands(app):
    listed = json.loads(invoke(app, "keys", "list", "--json").output)
    assert sorted(k["state"] for k in listed) == ["active", "next"]
    refused = invoke(app, "keys", "rotate")
    assert refused.exit_code != 0 and "--force" in refused.output
    assert invoke(app, "keys", "rotate", "--if-older-than", "30d").exit_code == 0
    assert invoke(app, "keys", "rotate", "--force").exit_code == 0
    states = sorted(k["state"] for k in json.loads(invoke(app, "keys", "list", "--json").output))
    assert states == ["active", "next", "retired"]
    active = next(
        k
        for k in json.loads(invoke(app, "keys", "list", "--json").output)
        if k["state"] == "active"
    )
    assert invoke(app, "keys", "revoke", active["kid"], input="n\n").exit_code != 0
    assert invoke(app, "keys", "revoke", active["kid"], "--yes").exit_code == 0
    assert invoke(app, "keys", "prune").exit_code == 0
    assert invoke(app, "keys", "rotate", "--if-older-than", "soon").exit_code != 0
