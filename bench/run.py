"""`make bench`: the service against its floor, in one run, with wrk.

Starts the real service (gunicorn.conf.py, as `make run`) on a fresh SQLite
database, and on PostgreSQL when FACTORY_TEST_DATABASE_URL is set; drives
POST /api/order, POST /api/order/verify and GET /.well-known/jwks.json with wrk,
each load between two runs of the same load against bench/floor.py under the
same gunicorn settings. Prints requests/s, p50, p99, non-2xx and each endpoint's ratio to its
floor, plus peak RSS per worker, and writes the table to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests
import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
ENDPOINTS = (
    ("POST /api/order", "order.lua", "/api/order"),
    ("POST /api/order/verify", "verify.lua", "/api/order/verify"),
    ("GET /.well-known/jwks.json", "jwks.lua", "/.well-known/jwks.json"),
)
FLOOR_NAMES = {
    "POST /api/order": "sign-only",
    "POST /api/order/verify": "verify-only",
    "GET /.well-known/jwks.json": "echo",
}
TARGETS = {
    "POST /api/order": 0.75,
    "POST /api/order/verify": 0.85,
    "GET /.well-known/jwks.json": 0.9,
}
PG_ORDER_TARGET = 0.6
ORDER_P99_MS = 20


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    requests: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the project's config, stopped with SIGTERM."""

    def __init__(self, app: str, env: dict[str, str], workers: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                str(PROJECT_ROOT / "gunicorn.conf.py"),
                "--bind",
                self.url.removeprefix("http://"),
                "--workers",
                str(workers),
                app,
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn for {app} exited; see {log}")
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"{self.url}/.well-known/jwks.json", timeout=2)
                return
            time.sleep(0.2)
        raise SystemExit(f"gunicorn for {app} did not start; see {log}")

    def worker_peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident set) of each worker process."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        peaks = []
        for child in children:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(name: str, url: str, script: str, args: argparse.Namespace, env: dict[str, str]) -> Result:
    command = [
        "wrk",
        f"--threads={min(args.connections, 2)}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--timeout=10s",
        f"--script={BENCH_DIR / script}",
        url,
    ]
    output = subprocess.run(
        command,
        env={**os.environ, **env, "BENCH_DIR": str(BENCH_DIR)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return Result(
        name=name,
        requests_per_s=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non2xx=data["non2xx"],
        socket_errors=data["socket_errors"],
        requests=data["requests"],
    )


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "pizza-factory"), *args], env=env, capture_output=True, text=True, check=True
    ).stdout


@contextlib.contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema for one run, dropped afterwards."""
    if base_url.startswith("postgresql://"):
        base_url = "postgresql+psycopg://" + base_url.removeprefix("postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def ledger_rows(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM orders"))
    finally:
        engine.dispose()


@dataclass
class Service:
    """The real service on one database, with a vendor to order as."""

    label: str
    database_url: str
    server: Server
    api_key: str
    tokens: Path


def start_service(label: str, database_url: str, workdir: Path, workers: int) -> Service:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FACTORY_")},
        "FACTORY_DATABASE_URL": database_url,
        "FACTORY_KEYS_DIR": str(workdir / "keys"),
    }
    cli(env, "db", "upgrade")
    api_key = json.loads(cli(env, "vendors", "create", "bench", "--name", "bench", "--json"))[
        "apiKey"
    ]
    server = Server("wsgi:app", env, workers, workdir / f"service-{label}.log")
    return Service(label, database_url, server, api_key, workdir / f"tokens-{label}.txt")


def issue_tokens(service: Service, count: int = 100) -> None:
    """Tokens for the verify load: just issued, so each verification reads a real ledger row."""
    body = (BENCH_DIR / "order.body.json").read_bytes()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {service.api_key}"}
    with requests.Session() as http:
        issued = [
            http.post(
                f"{service.server.url}/api/order", data=body, headers=headers, timeout=10
            ).json()["jwt"]
            for _ in range(count)
        ]
    service.tokens.write_text("\n".join(issued) + "\n")


def ledger_check(service: Service, order: Result, rows_before: int) -> str:
    """Every 200 of the order load has its row; rows beyond them are orders in flight at the end."""
    time.sleep(0.5)
    rows = ledger_rows(service.database_url) - rows_before
    successes = order.requests - order.non2xx
    verdict = "ok" if rows >= successes else "MISSING ROWS"
    return f"{rows} new ledger rows for {successes} successful orders ({verdict})"


def mean(first: Result, second: Result) -> Result:
    """The floor measured just before and just after the service loads it is compared with."""
    return Result(
        name=first.name,
        requests_per_s=(first.requests_per_s + second.requests_per_s) / 2,
        p50_ms=(first.p50_ms + second.p50_ms) / 2,
        p99_ms=(first.p99_ms + second.p99_ms) / 2,
        non2xx=first.non2xx + second.non2xx,
        socket_errors=first.socket_errors + second.socket_errors,
        requests=first.requests + second.requests,
    )


def run_loads(
    services: list[Service], floor: Server, args: argparse.Namespace
) -> tuple[dict[str, list[Result]], list[Result], list[float], dict[str, str]]:
    """Each endpoint: its floor, then every service, then its floor again.

    All servers stay up (idle ones cost nothing), so every service load sits
    between two floor loads a few seconds apart and machine drift over the
    run cannot bias a ratio; the floor's change between the two is reported.
    """
    results: dict[str, list[Result]] = {service.label: [] for service in services}
    floors: list[Result] = []
    drift: list[float] = []
    ledger: dict[str, str] = {}
    for name, script, path in ENDPOINTS:
        floor_env = {"API_KEY": "unused", "TOKENS_FILE": str(services[0].tokens)}
        before = wrk(f"floor {FLOOR_NAMES[name]}", f"{floor.url}{path}", script, args, floor_env)
        for service in services:
            env = {"API_KEY": service.api_key, "TOKENS_FILE": str(service.tokens)}
            url, label = f"{service.server.url}{path}", f"{service.label} {name}"
            if path != "/api/order":
                results[service.label].append(wrk(label, url, script, args, env))
                continue
            rows_before = ledger_rows(service.database_url)
            result = wrk(label, url, script, args, env)
            results[service.label].append(result)
            ledger[service.label] = ledger_check(service, result, rows_before)
            issue_tokens(service)  # for the verify load, which ENDPOINTS puts next
        after = wrk(f"floor {FLOOR_NAMES[name]}", f"{floor.url}{path}", script, args, floor_env)
        floors.append(mean(before, after))
        drift.append(after.requests_per_s / before.requests_per_s - 1)
    return results, floors, drift, ledger


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"{wrk_version.split(' Copyright')[0].strip()}"
    )


def verdict(label: str, name: str, ratio: float, result: Result) -> str:
    """The issue's targets for this row, each marked met or MISSED."""
    is_order = name == "POST /api/order"
    wanted = PG_ORDER_TARGET if label == "postgresql" and is_order else TARGETS[name]
    checks = [(f"ratio >= {wanted}", ratio >= wanted)]
    checks.append(("0 non-2xx", result.non2xx == 0 and result.socket_errors == 0))
    if is_order and label == "sqlite":
        checks.append((f"p99 <= {ORDER_P99_MS} ms", result.p99_ms <= ORDER_P99_MS))
    return ", ".join(f"{text} ({'met' if ok else 'MISSED'})" for text, ok in checks)


def render(
    service: dict[str, list[Result]],
    floor: list[Result],
    drift: list[float],
    rss: dict[str, list[float]],
    ledger: dict[str, str],
) -> str:
    floors = dict(zip([name for name, _, _ in ENDPOINTS], floor, strict=True))
    lines = [
        "| run | requests/s | p50 ms | p99 ms | non-2xx | socket errors | ratio to floor "
        "| target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result, change in zip(floor, drift, strict=True):
        lines.append(
            f"| {result.name} (mean of before and after; after {change:+.0%}) | "
            f"{result.requests_per_s:,.0f} | {result.p50_ms:.1f} | "
            f"{result.p99_ms:.1f} | {result.non2xx} | {result.socket_errors} | | |"
        )
    for label, results in service.items():
        for (name, _, _), result in zip(ENDPOINTS, results, strict=True):
            ratio = result.requests_per_s / floors[name].requests_per_s
            lines.append(
                f"| {result.name} | {result.requests_per_s:,.0f} | {result.p50_ms:.1f} | "
                f"{result.p99_ms:.1f} | {result.non2xx} | {result.socket_errors} | "
                f"{ratio:.2f} x {FLOOR_NAMES[name]} | {verdict(label, name, ratio, result)} |"
            )
    lines.append("")
    for label, peaks in rss.items():
        worst = max(peaks) if peaks else 0
        lines.append(
            f"- {label}: peak RSS per worker {', '.join(f'{p:.0f} MB' for p in peaks)} "
            f"(target ≤ 100 MB: {'met' if worst <= 100 else 'MISSED'}); {ledger[label]}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--key-bits", type=int, default=2048, choices=(2048, 3072, 4096))
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `apt-get install wrk` (make bench does this)")

    with tempfile.TemporaryDirectory(prefix="pizza-bench-") as tmp:
        workdir = Path(tmp)
        keys_env = {
            **os.environ,
            "FACTORY_KEYS_DIR": str(workdir / "keys"),
            "FACTORY_DATABASE_URL": f"sqlite:///{workdir / 'unused.db'}",
        }
        cli(keys_env, "keys", "init", "--bits", str(args.key_bits))
        key_file = next((workdir / "keys").glob("*.pem"))
        with contextlib.ExitStack() as stack:
            services = [
                start_service("sqlite", f"sqlite:///{workdir / 'bench.db'}", workdir, args.workers)
            ]
            stack.callback(services[0].server.stop)
            pg_url = os.environ.get("FACTORY_TEST_DATABASE_URL")
            if pg_url:
                url = stack.enter_context(postgres_schema(pg_url))
                services.append(start_service("postgresql", url, workdir, args.workers))
                stack.callback(services[-1].server.stop)
            floor_env = {**os.environ, "FLOOR_KEY_FILE": str(key_file)}
            floor = Server("bench.floor:app", floor_env, args.workers, workdir / "floor.log")
            stack.callback(floor.stop)
            results, floors, drift, ledger = run_loads(services, floor, args)
            rss = {each.label: each.server.worker_peak_rss_mb() for each in services}

    table = render(results, floors, drift, rss, ledger)
    print(table)
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (bench/run.py). The service and the floor apps "
        "(bench/floor.py) run in the same run under the same gunicorn settings "
        "(gunicorn.conf.py). Each service load runs between two loads of its floor; "
        "the floor row is their mean, and its change from the first to the second "
        "shows how much the machine drifted meanwhile.\n\n"
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"- machine: {machine()}\n"
        f"- settings: {args.duration} s per load, {args.connections} connections, "
        f"{args.workers} workers, {args.key_bits}-bit keys\n\n"
    )
    args.output.write_text(header + table + "\n")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
