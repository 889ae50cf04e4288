"""Helpers shared by the tests: the backend's exact order, vendors, the CLI and gunicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask

from factory.vendors import create_vendor

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

BACKEND_ORDER = {
    "diner": {"id": 719, "name": "j", "email": "j@jwt.com"},
    "order": {
        "items": [{"menuId": 1, "description": "Veggie", "price": 0.0038}],
        "storeId": "5",
        "franchiseId": 4,
        "id": 278,
    },
}


@dataclass(frozen=True)
class VendorKey:
    id: str
    name: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}


def make_vendor(app: Flask, vendor_id: str, *, admin: bool = False) -> VendorKey:
    with app.extensions["database"].new_session() as session:
        created = create_vendor(session, vendor_id, name=f"{vendor_id} pizzas", admin=admin)
    return VendorKey(vendor_id, f"{vendor_id} pizzas", created.api_key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env(database_url: str, keys_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTORY_")}
    env.update(FACTORY_DATABASE_URL=database_url, FACTORY_KEYS_DIR=str(keys_dir), **extra)
    return env


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(VENV_BIN / "pizza-factory"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"pizza-factory {' '.join(args)} failed: {result.stderr}")
    return result


class Gunicorn:
    """A real gunicorn serving wsgi:app on a free port, stopped at teardown."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(  # noqa: SIM115 - closed in stop()
            Path(env.get("TMPDIR", "/tmp")) / f"gunicorn-{self.port}.log", "w+"
        )
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "--config",
                str(PROJECT_ROOT / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited early:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/api/docs", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
