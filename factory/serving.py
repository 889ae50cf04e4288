"""A gunicorn sync worker that stops taking connections without resetting any.

Gunicorn's sync worker stops accepting as soon as SIGTERM arrives, so every
connection already queued on the listening socket is reset unread when the last
worker closes it. This worker first attaches a drop-everything socket filter to
the listening socket, so the kernel completes no new handshakes (clients see
their connection refused once the socket closes), then serves every connection
already queued, then closes the socket.
"""

from __future__ import annotations

import ctypes
import errno
import socket
import struct
import time

from gunicorn.workers.sync import SyncWorker

#: Upper bound on serving queued connections, well inside gunicorn's graceful timeout.
DRAIN_SECONDS = 5.0
QUEUE_EMPTY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBADF, errno.EINVAL)
SO_ATTACH_FILTER = 26
#: One classic BPF instruction, ``ret #0``: accept no packet.
DROP_ALL = (ctypes.c_uint8 * 8)(*struct.pack("HBBI", 0x06, 0, 0, 0))


def refuse_new_connections(listener: socket.socket) -> bool:
    """Make the listening socket ignore new SYNs; queued connections are unaffected."""
    program = struct.pack("HL", 1, ctypes.addressof(DROP_ALL))
    try:
        listener.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)
    except OSError:
        return False
    return True


class DrainingSyncWorker(SyncWorker):
    def run(self) -> None:
        super().run()
        for listener in self.sockets:
            refuse_new_connections(listener)
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
