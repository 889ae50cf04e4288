"""CPU time per request in one process: the service's endpoints against the floor's.

No sockets, no gunicorn, no wrk: each request is a direct WSGI call, timed with
`time.process_time` (best of several rounds), the service and its floor in
turn. On a shared machine this is steadier than `make bench`, so it is the tool
for checking whether a change to the request path saves time; `make bench`
stays the measure of the targets. It leaves out the HTTP parsing and socket
work both sides share, so compare its overhead column, not its ratio, with
`make bench`. `make bench-inprocess` runs it (`BENCH_ARGS="--database-url URL"`
for PostgreSQL instead of a fresh SQLite file).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

from factory import create_app, keyring
from factory.cli.database import upgrade_database
from factory.keystore import KeyStore
from factory.vendors import create_vendor

BENCH_DIR = Path(__file__).resolve().parent
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Call:
    """One prepared request; calling it runs the app once and returns status and body."""

    def __init__(self, app: Wsgi, path: str, body: bytes = b"", **headers: str) -> None:
        builder = EnvironBuilder(
            path=path,
            method="POST" if body else "GET",
            data=body,
            headers=headers,
            content_type="application/json" if body else None,
        )
        self.app = app
        self.environ = builder.get_environ()
        self.body = body

    def __call__(self) -> tuple[str, bytes]:
        environ = {**self.environ, "wsgi.input": io.BytesIO(self.body)}
        statuses: list[str] = []
        body = b"".join(self.app(environ, lambda status, _h, _exc=None: statuses.append(status)))
        return statuses[0], body


def cpu_per_call(call: Call, calls: int, rounds: int) -> float:
    status, _body = call()
    if not status.startswith("200"):
        raise SystemExit(f"{call.environ['PATH_INFO']} answered {status}")
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            call()
        best = min(best, (time.process_time() - started) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--calls", type=int, default=300, help="requests per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pizza-inprocess-"))
    keys_dir = workdir / "keys"
    keyring.init_ring(KeyStore(keys_dir), 2048)
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    upgrade_database(database_url)
    service = create_app({"database_url": database_url, "keys_dir": str(keys_dir)})
    # The access log is written as under gunicorn, into a file nobody reads.
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the run
    with service.extensions["database"].new_session() as session:
        api_key = create_vendor(session, "bench", name="bench").api_key

    # The floor signs with the service's key, read when bench/floor.py is imported.
    os.environ["FLOOR_KEY_FILE"] = str(next(keys_dir.glob("*.pem")))
    from floor import app as floor

    order_body = (BENCH_DIR / "order.body.json").read_bytes()
    place = Call(service.wsgi_app, "/api/order", order_body, Authorization=f"Bearer {api_key}")
    token = json.loads(place()[1])["jwt"]
    pairs = (
        ("POST /api/order", place, Call(floor.wsgi_app, "/api/order", order_body)),
        (
            "POST /api/order/verify",
            Call(service.wsgi_app, "/api/order/verify", json.dumps({"jwt": token}).encode()),
            Call(floor.wsgi_app, "/api/order/verify", b"{}"),
        ),
        (
            "GET /.well-known/jwks.json",
            Call(service.wsgi_app, "/.well-known/jwks.json"),
            Call(floor.wsgi_app, "/.well-known/jwks.json"),
        ),
    )
    print(f"{'endpoint':28s} {'service us':>10s} {'floor us':>9s} {'overhead us':>11s} ratio")
    for name, service_call, floor_call in pairs:
        ours = cpu_per_call(service_call, args.calls, args.rounds)
        bare = cpu_per_call(floor_call, args.calls, args.rounds)
        print(
            f"{name:28s} {ours * 1e6:10.0f} {bare * 1e6:9.0f} "
            f"{(ours - bare) * 1e6:11.0f} {bare / ours:6.2f}"
        )


if __name__ == "__main__":
    main()
