"""The floor: bare Flask routes that do only the unavoidable work, served like the service.

Each endpoint of the service is measured against the route here that does its
irreducible part: signing a fixed payload, verifying a fixed token, echoing JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from flask import Flask, jsonify, request

#: What the service signs for the backend's order (bench/order.body.json).
PAYLOAD = {
    "vendor": {"id": "bench", "name": "bench"},
    **json.loads((Path(__file__).parent / "order.body.json").read_text()),
}

KEY = serialization.load_pem_private_key(Path(os.environ["FLOOR_KEY_FILE"]).read_bytes(), None)
PUBLIC_KEY = KEY.public_key()
TOKEN = jwt.encode(PAYLOAD, KEY, algorithm="RS256")

app = Flask(__name__)


@app.post("/api/order")
def sign():
    return jsonify({"jwt": jwt.encode(PAYLOAD, KEY, algorithm="RS256")})


@app.post("/api/order/verify")
def verify():
    return jsonify(
        {"message": "valid", "payload": jwt.decode(TOKEN, PUBLIC_KEY, algorithms=["RS256"])}
    )


@app.route("/.well-known/jwks.json", methods=["GET", "POST"])
def echo():
    return jsonify(request.get_json(silent=True) or request.args.to_dict())
