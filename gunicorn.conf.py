"""Gunicorn settings used by `make run`, the end-to-end tests and the benchmarks.

FACTORY_BIND (default 127.0.0.1:8000) and FACTORY_WORKERS (default 2 x CPUs + 1)
override the address and worker count; command-line flags override both.
"""

import contextlib
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("FACTORY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FACTORY_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Serves requests already queued on the socket before exiting on SIGTERM.
worker_class = "factory.serving.DrainingSyncWorker"
timeout = 30
# SIGTERM: stop accepting, finish in-flight and queued requests, then exit.
graceful_timeout = 20
# The app writes one JSON line per request to stdout; gunicorn's access log is off.
accesslog = None
errorlog = "-"
# Gunicorn's control socket (for gunicornc) lives at one path per user, which several
# instances on one machine would share; the service does not use it.
control_socket_disable = True
# Load the app in the master: a missing key ring or bad setting stops start-up once, clearly.
preload_app = True

# Prometheus multiprocess mode: every worker writes its metrics to files in one
# directory that a scrape sums. It must exist, empty, before the app is imported.
_owned_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _owned_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="pizza-factory-metrics-")
else:
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _owned_metrics_dir:
        with contextlib.suppress(OSError):
            shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"])
