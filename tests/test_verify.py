"""POST /api/order/verify: every way a token can be wrong gets 403 (never a 500)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from factory import ledger, tokens
from tests.support import BACKEND_ORDER


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )


@pytest.fixture
def token(client, vendor) -> str:
    return client.post("/api/order", json=BACKEND_ORDER, headers=vendor.headers).get_json()["jwt"]


def verify(client, value, **kwargs):
    return client.post("/api/order/verify", json={"jwt": value}, **kwargs)


def assert_invalid(response, reason):
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.get_json() == {"message": "invalid", "reason": reason}


def test_valid_token_ignores_any_authorization_header(client, token):
    response = verify(client, token, headers={"Authorization": "Bearer diner-login-token"})
    assert response.status_code == 200
    assert response.get_json()["message"] == "valid"
    assert response.get_json()["revocationChecked"] is True


def test_alg_none_is_rejected(client, token):
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    assert_invalid(
        verify(client, forge({"alg": "none", "kid": kid}, claims)), "unsupported algorithm"
    )


def test_hs256_signed_with_the_public_key_pem_is_rejected(app, client, token):
    kid = jwt.get_unverified_header(token)["kid"]
    public_pem = (
        app.extensions["keyring"]
        .snapshot.verification_keys[kid]
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert_invalid(verify(client, f"{signing_input}.{b64(signature)}"), "unsupported algorithm")


def test_a_token_signed_by_a_foreign_key_with_a_forged_kid_is_rejected(client, token):
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, foreign, algorithm="RS256", headers={"kid": kid})
    assert_invalid(verify(client, forged), "bad signature")


@pytest.mark.parametrize("kid", ["../../etc/passwd", "no-such-key", "", "x" * 500])
def test_unknown_kids_are_rejected_without_touching_the_filesystem(client, token, kid):
    claims = jwt.decode(token, options={"verify_signature": False})
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, foreign, algorithm="RS256", headers={"kid": kid})
    assert_invalid(verify(client, forged), "unknown key")


def test_a_jku_header_is_ignored(client, token):
    claims = jwt.decode(token, options={"verify_signature": False})
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims,
        foreign,
        algorithm="RS256",
        headers={"kid": "attacker", "jku": "http://127.0.0.1:1/jwks.json"},
    )
    assert_invalid(verify(client, forged), "unknown key")


def test_a_tampered_payload_fails_the_signature(client, token):
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["order"]["items"][0]["price"] = 0
    tampered = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    assert_invalid(verify(client, tampered), "bad signature")


@pytest.mark.parametrize("payload", ["!!!", "e30.e30"], ids=["junk", "extra-dot"])
def test_a_good_header_over_a_broken_payload_is_malformed(client, token, payload):
    header, _payload, signature = token.split(".")
    assert_invalid(verify(client, f"{header}.{payload}.{signature}"), "malformed")


@pytest.mark.parametrize(
    "value",
    ["", "abc", "a.b.c", "a.b", "x" * 100_000, "\u0000\u2603.☃.☃", "eyJhbGciOiJSUzI1NiJ9..."],
    ids=["empty", "word", "three-junk-parts", "two-parts", "100KB", "unicode", "empty-parts"],
)
def test_malformed_strings_are_403(client, value):
    response = verify(client, value)
    assert response.status_code == 403
    assert response.get_json()["message"] == "invalid"


@pytest.mark.parametrize("value", [5, None, ["a"], {"jwt": "x"}, True])
def test_non_string_jwt_is_400(client, value):
    response = client.post("/api/order/verify", json={"jwt": value})
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_missing_jwt_is_400(client):
    response = client.post("/api/order/verify", json={})
    assert response.status_code == 400


def _issue_recorded(app, vendor, **kwargs):
    """Sign and record a token directly, with a chosen issuer or clock."""
    with app.app_context():
        issued = tokens.issue(
            {"vendor": {"id": vendor.id}, "diner": {}, "order": {"items": []}},
            app.extensions["keyring"],
            ttl_seconds=kwargs.pop("ttl_seconds", 60),
            **kwargs,
        )
        with app.extensions["database"].connect() as connection:
            ledger.record(connection, issued, vendor_id=vendor.id, diner={}, order={"items": []})
    return issued


def test_expired_token_is_rejected(app, client, vendor):
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    issued = _issue_recorded(app, vendor, issuer="pizza-factory", clock=lambda: long_ago)
    assert_invalid(verify(client, issued.token), "expired")


def test_clock_skew_of_thirty_seconds_is_allowed(app, client, vendor):
    just_expired = datetime.now(UTC) - timedelta(seconds=60 + 15)
    issued = _issue_recorded(app, vendor, issuer="pizza-factory", clock=lambda: just_expired)
    assert verify(client, issued.token).status_code == 200


def test_wrong_issuer_is_rejected(app, client, vendor):
    issued = _issue_recorded(app, vendor, issuer="someone-else")
    assert_invalid(verify(client, issued.token), "wrong issuer")


def test_a_signed_but_unrecorded_token_is_rejected(app, client):
    with app.app_context():
        issued = tokens.issue(
            {"vendor": {"id": "ghost"}},
            app.extensions["keyring"],
            issuer="pizza-factory",
            ttl_seconds=60,
        )
    assert_invalid(verify(client, issued.token), "unknown order")


def test_a_revoked_order_is_rejected(app, client, token):
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    with app.extensions["database"].new_session() as session:
        assert ledger.revoke(session, jti, "refunded") is not None
    assert_invalid(verify(client, token), "revoked")


def test_missing_required_claims_are_rejected(app, client):
    snapshot = app.extensions["keyring"].snapshot
    signing = snapshot.signing_key
    no_jti = jwt.encode(
        {"iss": "pizza-factory", "iat": 1, "exp": 4_000_000_000},
        signing.private_key,
        algorithm="RS256",
        headers={"kid": signing.kid},
    )
    response = verify(client, no_jti)
    assert response.status_code == 403
    assert response.get_json()["reason"] == "missing claim jti"
