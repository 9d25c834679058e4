"""The live server's front door: one selector thread reads every request head, with a deadline.

A connection costs a thread only once its whole request (head and a small body) has arrived, so
clients that dribble one byte every few seconds, or connect and say nothing, hold no thread and
cannot starve anyone: each gets ``HEAD_DEADLINE`` seconds in total, then it is closed. At most
``MAX_PENDING`` connections may be half-read at once (the oldest is dropped for a new one) and at
most ``MAX_WORKERS`` complete requests are answered at once (more get a 503 at once).
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import OrderedDict
from typing import Callable, Optional

HEAD_DEADLINE = 5.0  # seconds for a client to send its whole request head and body
MAX_HEAD = 16 * 1024  # bytes of request line + headers
MAX_BODY = 1024  # bytes of body we wait for (POST bodies are ignored, but drained)
MAX_PENDING = 512  # half-read connections at once
MAX_WORKERS = 64  # requests being answered at once (event streams count)
BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Content-Length: 38\r\nConnection: close\r\n\r\n"
        b'{"error": "server busy", "status": 503}')


class _Pending:
    __slots__ = ("sock", "addr", "buf", "deadline", "need")

    def __init__(self, sock, addr, deadline: float) -> None:
        self.sock, self.addr, self.buf, self.deadline = sock, addr, bytearray(), deadline
        self.need: Optional[int] = None  # total bytes wanted once the head is complete


def _content_length(head: bytes) -> int:
    """The Content-Length the head declares, clipped to what we are willing to wait for."""
    for line in head.split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return max(0, min(int(value.strip()), MAX_BODY + 1))
            except ValueError:
                return 0  # the handler answers 400
    return 0


class Listener:
    """Accepts on ``sock``; gives ``handle(sock, addr, request_bytes)`` a worker thread."""

    def __init__(self, sock: socket.socket, handle: Callable, *,
                 head_deadline: float = HEAD_DEADLINE) -> None:
        self.sock = sock
        self.handle = handle
        self.head_deadline = head_deadline
        self.workers = threading.BoundedSemaphore(MAX_WORKERS)
        self.served = 0  # complete requests handed to a worker
        self.cut_off = 0  # connections closed for missing their deadline (or crowded out)
        self._stop = threading.Event()
        self._pending: "OrderedDict[int, _Pending]" = OrderedDict()
        self._sel = selectors.DefaultSelector()
        sock.setblocking(False)
        self._sel.register(sock, selectors.EVENT_READ, None)
        self.thread = threading.Thread(target=self._loop, name="live-http", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)

    # --- the selector loop -------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                for key, _ in self._sel.select(timeout=0.2):
                    if key.data is None:
                        self._accept()
                    else:
                        self._read(key.data)
                self._expire(time.monotonic())
        finally:
            for p in list(self._pending.values()):
                self._drop(p)
            self._sel.close()
            self.sock.close()

    def _accept(self) -> None:
        for _ in range(64):  # a burst at a time, then look at the others again
            try:
                conn, addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(self._pending) >= MAX_PENDING:
                self._drop(next(iter(self._pending.values())))  # the oldest makes room
            conn.setblocking(False)
            p = _Pending(conn, addr, time.monotonic() + self.head_deadline)
            self._pending[conn.fileno()] = p
            self._sel.register(conn, selectors.EVENT_READ, p)

    def _read(self, p: _Pending) -> None:
        try:
            chunk = p.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(p)
            return
        p.buf += chunk
        if p.need is None:
            end = p.buf.find(b"\r\n\r\n")
            size = 4
            if end < 0:
                end, size = p.buf.find(b"\n\n"), 2
            if end < 0:
                if len(p.buf) > MAX_HEAD:
                    self._dispatch(p)  # the handler answers 414/431 for an over-long head
                return
            p.need = end + size + _content_length(bytes(p.buf[:end]))
        if len(p.buf) >= p.need:
            self._dispatch(p)

    def _expire(self, now: float) -> None:
        for p in list(self._pending.values()):
            if p.deadline > now:
                break  # ordered by arrival, and every connection gets the same allowance
            self.cut_off += 1
            if p.need is not None:  # head complete, body short: let the handler say 400
                self._dispatch(p)
            else:
                self._drop(p)

    def _forget(self, p: _Pending) -> None:
        self._pending.pop(p.sock.fileno(), None)
        try:
            self._sel.unregister(p.sock)
        except (KeyError, ValueError):
            pass

    def _drop(self, p: _Pending) -> None:
        self._forget(p)
        try:
            p.sock.close()
        except OSError:
            pass

    def _dispatch(self, p: _Pending) -> None:
        self._forget(p)
        data = bytes(p.buf)
        if not self.workers.acquire(blocking=False):
            self._busy(p.sock)
            return
        self.served += 1
        threading.Thread(target=self._work, args=(p.sock, p.addr, data), daemon=True,
                         name="live-request").start()

    @staticmethod
    def _busy(conn: socket.socket) -> None:
        try:
            conn.setblocking(True)
            conn.settimeout(1.0)
            conn.sendall(BUSY)
        except OSError:
            pass
        finally:
            conn.close()

    def _work(self, conn: socket.socket, addr, data: bytes) -> None:
        try:
            conn.setblocking(True)
            self.handle(conn, addr, data)
        except Exception:
            pass  # a client that hangs up mid-answer is not news
        finally:
            self.workers.release()
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            conn.close()
