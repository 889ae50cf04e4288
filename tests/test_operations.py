"""Health, metrics, logs and graceful failure, mostly against real gunicorn."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml
from sqlalchemy.engine import make_url

from factory import create_app
from tests.support import BACKEND_ORDER, TcpProxy, cli_env, run_cli
from tests.test_e2e import create_vendor_key, ledger_count, order, verify

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_healthz_touches_nothing(app, client, monkeypatch):
    monkeypatch.setattr(app.extensions["database"], "engine", None)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "keys": "ok"}}


def test_readyz_names_an_unreachable_database(tmp_path, keys_dir):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    app = create_app({"database_url": f"sqlite:///{blocked}/f.db", "keys_dir": str(keys_dir)})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"].startswith("failing")
    assert body["checks"]["keys"] == "ok"
    assert "database" in body["message"]


def test_readyz_fails_when_the_key_ring_breaks(client, keys_dir):
    shutil.rmtree(keys_dir)
    time.sleep(1.1)  # let the ring's once-a-second check notice
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["keys"].startswith("stale")


def test_request_id_is_echoed_or_generated(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id; drop"}).headers[
        "X-Request-ID"
    ]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_metrics_can_require_a_token(database_url, keys_dir):
    app = create_app(
        {"database_url": database_url, "keys_dir": str(keys_dir), "metrics_token": "s3cret"}
    )
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200
    assert b"pizza_factory_signing_key_age_seconds" in response.data


def test_metrics_show_drill_state(app, client, vendor):
    from factory import drills

    with app.extensions["database"].new_session() as session:
        drills.schedule(session, vendor.id, drills.DrillType.FAIL, drills.utcnow())
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "pizza_factory_drill_running", vendor=vendor.id, type="fail") == 1


def test_metrics_can_be_limited_to_networks(database_url, keys_dir):
    app = create_app(
        {"database_url": database_url, "keys_dir": str(keys_dir), "metrics_networks": "10.0.0.0/8"}
    )
    response = app.test_client().get("/metrics")
    assert response.status_code == 403
    assert response.is_json


def scrape(url: str) -> str:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    return response.text


def sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.e2e
def test_metrics_add_up_across_workers(database_url, keys_dir, gunicorn_factory):
    env = cli_env(database_url, keys_dir)
    api_key = create_vendor_key(env)
    server = gunicorn_factory(env, workers=3)
    count = 30
    with requests.Session() as http:
        for _ in range(count):
            # a fresh connection each time spreads the orders over the workers
            response = requests.post(
                f"{server.url}/api/order",
                json=BACKEND_ORDER,
                headers={"Authorization": f"Bearer {api_key}", "Connection": "close"},
                timeout=30,
            )
            assert response.status_code == 200
        for _ in range(3):
            assert order(http, server.url, "wrong").status_code == 401
    for _ in range(5):  # every scrape, whichever worker answers, shows the same totals
        text = scrape(server.url)
        assert sample(text, "pizza_factory_orders_issued_total", vendor="backend") == count
        assert (
            sample(text, "pizza_factory_orders_rejected_total", reason="invalid authentication")
            == 3
        )
    assert sample(text, "pizza_factory_published_keys", state="next") == 1
    assert "pizza_factory_request_duration_seconds_bucket" in text


@pytest.mark.e2e
def test_one_json_log_line_per_request_without_secrets(database_url, keys_dir, gunicorn_factory):
    passphrase = "correct-horse-battery-staple"
    env = cli_env(database_url, keys_dir, FACTORY_KEY_PASSPHRASES=passphrase)
    run_cli(env, "keys", "reencrypt")
    api_key = create_vendor_key(env)
    server = gunicorn_factory(env, workers=2)
    with requests.Session() as http:
        token = order(http, server.url, api_key).json()["jwt"]
        assert verify(http, server.url, token).status_code == 200
        http.get(f"{server.url}/healthz", headers={"X-Request-ID": "trace-42"})
        order(http, server.url, "pf_wrong-key")
    time.sleep(0.2)
    output = server.output()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "factory.access"]
    readiness_polls = [line for line in access if line["path"] == "/api/docs"]
    assert len(access) - len(readiness_polls) == 4
    ordered = next(line for line in access if line["path"] == "/api/order")
    for field in ("time", "request_id", "method", "path", "status", "duration_ms", "vendor_id"):
        assert field in ordered
    assert ordered["vendor_id"] == "backend" and ordered["status"] == 200
    assert any(line["request_id"] == "trace-42" for line in access)
    for secret in (api_key, token, token.split(".")[1], passphrase, "pf_wrong-key"):
        assert secret not in output


@pytest.mark.e2e
def test_database_outage_fails_fast_and_recovers(database_url, keys_dir, gunicorn_factory):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the outage is simulated on PostgreSQL")
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = cli_env(proxied, keys_dir)
    api_key = create_vendor_key(env)
    server = gunicorn_factory(env, workers=2)
    try:
        with requests.Session() as http:
            token = order(http, server.url, api_key).json()["jwt"]
            proxy.stop()
            for _ in range(4):
                started = time.monotonic()
                response = order(http, server.url, api_key)
                elapsed = time.monotonic() - started
                assert response.status_code == 503
                assert response.json()["message"]
                assert elapsed < 2.0, f"order took {elapsed:.2f}s during the outage"
            checked = verify(http, server.url, token)
            assert checked.status_code == 200
            assert checked.json()["revocationChecked"] is False
            ready = http.get(f"{server.url}/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("failing")
            assert http.get(f"{server.url}/healthz", timeout=10).status_code == 200

            proxy.start()
            deadline = time.monotonic() + 10
            while http.get(f"{server.url}/readyz", timeout=10).status_code != 200:
                assert time.monotonic() < deadline, "did not recover within 10 s"
                time.sleep(0.2)
            statuses = [order(http, server.url, api_key).status_code for _ in range(6)]
            assert statuses == [200] * 6
            assert verify(http, server.url, token).json()["revocationChecked"] is True
    finally:
        proxy.stop()
    assert ledger_count(database_url) == 7


@pytest.mark.e2e
def test_sigterm_during_a_burst_loses_nothing(database_url, keys_dir, gunicorn_factory):
    env = cli_env(database_url, keys_dir)
    api_key = create_vendor_key(env)
    server = gunicorn_factory(env, workers=2)
    ok, refused, reset, failed = [], [], [], []
    stop = threading.Event()

    def burst() -> None:
        while not stop.is_set():
            try:
                response = requests.post(
                    f"{server.url}/api/order",
                    json=BACKEND_ORDER,
                    headers={"Authorization": f"Bearer {api_key}"},
                    timeout=30,
                )
            except requests.ConnectionError as exc:
                if "refused" in str(exc).lower():
                    refused.append(str(exc))
                    return
                reset.append(str(exc))
                continue
            if response.status_code == 200:
                ok.append(response.json()["jwt"])
            else:
                failed.append(f"{response.status_code} {response.text}")

    threads = [threading.Thread(target=burst) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert ok, "no order completed before the SIGTERM"
    assert failed == []
    assert reset == []
    assert len(refused) == len(threads)
    assert ledger_count(database_url) == len(ok)


def test_alert_rules_are_valid():
    rules_file = PROJECT_ROOT / "docs" / "alerts.rules.yml"
    document = yaml.safe_load(rules_file.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in rules}
    assert {
        "PizzaFactoryOrderErrorRate",
        "PizzaFactoryVerifyFailureRate",
        "PizzaFactoryHighLatency",
        "PizzaFactoryNotReady",
        "PizzaFactorySigningKeyTooOld",
        "PizzaFactoryNextKeyMissing",
        "PizzaFactoryDrillRunning",
    } <= names
    for rule in rules:
        assert rule["expr"] and rule["labels"]["severity"] and rule["annotations"]["summary"]
        for metric in re.findall(r"pizza_factory_[a-z_]+", rule["expr"]):
            assert metric.removesuffix("_bucket").removesuffix("_count") in EXPORTED_METRICS
    promtool = shutil.which("promtool")
    if promtool:
        assert os.system(f"{promtool} check rules {rules_file} > /dev/null") == 0


EXPORTED_METRICS = {
    "pizza_factory_orders_issued_total",
    "pizza_factory_orders_rejected_total",
    "pizza_factory_verifications_total",
    "pizza_factory_database_errors_total",
    "pizza_factory_request_duration_seconds",
    "pizza_factory_signing_key_age_seconds",
    "pizza_factory_published_keys",
    "pizza_factory_key_ring_stale",
    "pizza_factory_ready",
    "pizza_factory_drill_running",
}


def test_drill_report_secrets_are_redacted_from_logged_paths(app):
    from factory.observability import loggable_path

    with app.test_request_context("/api/support/drill-token-123/report/fix-456"):
        assert loggable_path() == "/api/support/[redacted]/report/[redacted]"
    with app.test_request_context("/api/order/abc"):
        assert loggable_path() == "/api/order/abc"
