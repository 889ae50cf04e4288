"""A gunicorn sync worker that answers the connections already queued when it stops.

Gunicorn's sync worker stops accepting as soon as SIGTERM arrives, so every
connection queued on the listening socket is reset unread when the last worker
closes it. This worker first serves what is queued, for at most
``DRAIN_SECONDS`` (a client that keeps reconnecting must not keep it alive until
the master's graceful timeout kills it mid-request), then closes the socket.
"""

from __future__ import annotations

import errno
import time

from gunicorn.workers.sync import SyncWorker

DRAIN_SECONDS = 1.0
QUEUE_EMPTY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBADF, errno.EINVAL)


class DrainingSyncWorker(SyncWorker):
    def run(self) -> None:
        super().run()
        self.drain(time.monotonic() + DRAIN_SECONDS)

    def drain(self, deadline: float) -> None:
        for listener in self.sockets:
            while time.monotonic() < deadline:
                try:
                    self.accept(listener)
                except OSError as exc:
                    if exc.errno == errno.ECONNABORTED:
                        continue
                    if exc.errno in QUEUE_EMPTY:
                        break
                    raise
            listener.close()
