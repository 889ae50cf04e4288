"""Gunicorn settings used by `make run`, the end-to-end tests and the benchmarks.

Override with GUNICORN_* style flags on the command line or these variables:
FACTORY_BIND (default 127.0.0.1:8000), FACTORY_WORKERS (default 2 x CPUs + 1).
"""

import multiprocessing
import os

bind = os.environ.get("FACTORY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FACTORY_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# The service writes its own structured log line per request.
accesslog = None
errorlog = "-"
# Load the app in the master: a missing key ring or bad setting stops start-up once, clearly.
preload_app = True
