"""End to end: real gunicorn, the real CLI, real HTTP, keys on disk."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
from sqlalchemy import create_engine, func, select

from factory.models import Order
from tests.support import BACKEND_ORDER, cli_env, run_cli

pytestmark = pytest.mark.e2e


def create_vendor_key(env, vendor_id="backend") -> str:
    result = run_cli(env, "vendors", "create", vendor_id, "--name", "Pizza backend", "--json")
    return json.loads(result.stdout)["apiKey"]


def order(session: requests.Session, url: str, api_key: str) -> requests.Response:
    """Exactly what the pizza backend sends."""
    return session.post(
        f"{url}/api/order",
        data=json.dumps(BACKEND_ORDER),
        headers={"Content-Type": "application/json", "authorization": f"Bearer {api_key}"},
        timeout=30,
    )


def verify(session: requests.Session, url: str, token: str) -> requests.Response:
    return session.post(f"{url}/api/order/verify", json={"jwt": token}, timeout=30)


def ledger_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(Order.__table__))
    finally:
        engine.dispose()


def verify_with_pyjwt_only(url: str, token: str) -> dict:
    """A third-party verifier: PyJWT and the published JWKS, no project code."""
    jwks = jwt.PyJWKSet.from_dict(requests.get(f"{url}/.well-known/jwks.json", timeout=10).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return jwt.decode(token, key, algorithms=["RS256"], issuer="pizza-factory")


def test_backend_orders_and_both_verifiers_accept(database_url, keys_dir, gunicorn_factory):
    env = cli_env(database_url, keys_dir)
    api_key = create_vendor_key(env)
    server = gunicorn_factory(env, workers=2)
    with requests.Session() as http:
        response = order(http, server.url, api_key)
        assert response.status_code == 200, response.text
        token = response.json()["jwt"]
        verified = verify(http, server.url, token)
        assert verified.status_code == 200
        assert verified.json()["message"] == "valid"
    claims = verify_with_pyjwt_only(server.url, token)
    assert claims["diner"] == BACKEND_ORDER["diner"]
    assert claims["order"] == BACKEND_ORDER["order"]
    assert claims == verified.json()["payload"]


def test_concurrent_orders_are_all_recorded(database_url, keys_dir, gunicorn_factory):
    env = cli_env(database_url, keys_dir)
    api_key = create_vendor_key(env)
    server = gunicorn_factory(env, workers=2)

    def place_fifty(_: int) -> list[str]:
        with requests.Session() as http:
            responses = [order(http, server.url, api_key) for _ in range(50)]
        assert [r.status_code for r in responses] == [200] * 50, responses[-1].text
        return [
            jwt.decode(r.json()["jwt"], options={"verify_signature": False})["jti"]
            for r in responses
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        jtis = [jti for batch in pool.map(place_fifty, range(8)) for jti in batch]
    assert len(jtis) == 400
    assert len(set(jtis)) == 400
    assert ledger_count(database_url) == 400
    assert "database is locked" not in server.output()


def test_rotation_under_load_fails_nothing(database_url, keys_dir, gunicorn_factory):
    env = cli_env(database_url, keys_dir)
    api_key = create_vendor_key(env)
    server = gunicorn_factory(env, workers=2)
    stop = threading.Event()
    failures: list[str] = []
    issued: list[tuple[float, str]] = []
    lock = threading.Lock()

    def client_loop() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                response = order(http, server.url, api_key)
                if response.status_code != 200:
                    failures.append(f"order {response.status_code} {response.text}")
                    continue
                token = response.json()["jwt"]
                with lock:
                    issued.append((time.monotonic(), token))
                check = verify(http, server.url, token)
                if check.status_code != 200:
                    failures.append(f"verify {check.status_code} {check.text}")

    threads = [threading.Thread(target=client_loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    rotations: list[float] = []
    kids = set()
    try:
        for _ in range(3):
            time.sleep(1.0)
            run_cli(env, "keys", "rotate", "--force")
            rotations.append(time.monotonic())
        time.sleep(2.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    with requests.Session() as http:
        for rotated_at in rotations:
            before = [token for at, token in issued if at < rotated_at]
            assert before, "no token was issued before a rotation"
            for token in before[-5:]:
                assert verify(http, server.url, token).status_code == 200
    for _, token in issued:
        kids.add(jwt.get_unverified_header(token)["kid"])
    assert len(kids) >= 3, "tokens should have been signed by the rotated keys"


def test_two_instances_share_keys_and_ledger(database_url, keys_dir, gunicorn_factory):
    env = cli_env(database_url, keys_dir)
    api_key = create_vendor_key(env)
    first = gunicorn_factory(env, workers=2)
    second = gunicorn_factory(env, workers=2)
    run_cli(env, "keys", "rotate", "--force")
    deadline = time.monotonic() + 2.0
    with requests.Session() as http:
        while True:
            jwks = [
                http.get(f"{s.url}/.well-known/jwks.json", timeout=10).json()
                for s in (first, second)
            ]
            if jwks[0] == jwks[1] and len(jwks[0]["keys"]) == 3:
                break
            assert time.monotonic() < deadline, "instances did not converge within 2 s"
            time.sleep(0.1)
        # every worker of both instances must have the new ring two seconds after the rotation
        time.sleep(max(0.0, deadline - time.monotonic()))
        for issuer in (first, second):
            token = order(http, issuer.url, api_key).json()["jwt"]
            assert jwt.get_unverified_header(token)["kid"] == jwks[0]["keys"][0]["kid"]
            for verifier in (first, second):
                assert verify(http, verifier.url, token).status_code == 200


def test_service_refuses_to_start_without_a_ring(database_url, tmp_path, gunicorn_factory):
    env = cli_env(database_url, tmp_path / "empty-keys")
    with pytest.raises(AssertionError, match="pizza-factory keys init"):
        gunicorn_factory(env, workers=1)
