"""Loopback servers that never give a usable answer, one per way a connection fails.

Each is a context manager with a ``url``; standard library only. They answer at the speed a broken
server would (never, or a byte at a time), so the time a client spends on them is its own bound.
"""
from __future__ import annotations

import socket
import threading

JSON_HEADERS = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Result-Count: 1\r\n"
                b"Content-Length: 100000\r\n\r\n")
HTML_404 = (b"<!doctype html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
            b"<p>The requested URL was not found on this server.</p></body></html>")
HTML_400 = b"<html><head><title>400 Bad Request</title></head><body><center><h1>400 Bad Request</h1></center></body></html>"
# The first byte of a TLS handshake record: a ClientHello.
TLS_HANDSHAKE = b"\x16"


class LoopbackServer:
    """Accepts connections on 127.0.0.1 and gives each to ``serve(connection)`` in a thread of its own."""

    scheme = "http"

    def __init__(self, backlog=16):
        self.stopped = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(backlog)
        self.port = self.listener.getsockname()[1]
        self.connections = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self):
        return "%s://127.0.0.1:%d/" % (self.scheme, self.port)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        for sock in [self.listener] + self.connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.thread.join(5)

    def _accept(self):
        while not self.stopped.is_set():
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        try:
            self.serve(connection)
        except OSError:
            pass  # the client gave up and closed, or the server is stopping

    def serve(self, connection):
        raise NotImplementedError


def read_request(connection):
    """Read up to the end of a request's headers (or whatever arrives first)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class Silent(LoopbackServer):
    """Accepts and reads, never answers: a hung server; on an https:// URL, a plain server that waits for a request line
    while the client waits for the TLS handshake."""

    def __init__(self, scheme="http"):
        super().__init__()
        self.scheme = scheme

    def serve(self, connection):
        while connection.recv(4096):
            pass


class PlainHttp(LoopbackServer):
    """A plain-HTTP server behind an https:// URL. It answers HTTP requests (401 with JSON, as Waldur without a token);
    to a TLS hello it either waits for the end of a request line that never comes (``on_tls="wait"``: Python's
    http.server, gunicorn), or answers 400 with a page at once (``on_tls="reject"``: nginx), which the client's TLS
    layer reads as a record of a wrong version."""

    scheme = "https"

    def __init__(self, on_tls="wait"):
        super().__init__()
        self.on_tls = on_tls
        # The plain HTTP requests received, as they came.
        self.requests = []

    def serve(self, connection):
        request = read_request(connection) if connection.recv(1, socket.MSG_PEEK) != TLS_HANDSHAKE else b""
        if request:
            self.requests.append(request)
            connection.sendall(b"HTTP/1.0 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        elif self.on_tls == "reject":
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
                               b"Connection: close\r\n\r\n" % len(HTML_400) + HTML_400)
        else:
            while connection.recv(4096):
                pass
        connection.close()


class Trickle(LoopbackServer):
    """Answers at once, then sends the body one byte every ``pace`` seconds: each read succeeds, the whole takes
    ``limit`` seconds (then the connection is closed), far beyond any timeout a test sets."""

    def __init__(self, pace=0.2, limit=120):
        super().__init__()
        self.pace = pace
        self.limit = limit

    def serve(self, connection):
        read_request(connection)
        connection.sendall(JSON_HEADERS + b"[")
        for _tick in range(int(self.limit / self.pace)):
            if self.stopped.wait(self.pace):
                break
            connection.sendall(b" ")
        connection.close()


class Html404(LoopbackServer):
    """Any other web server: every path is an HTML 404 page."""

    def serve(self, connection):
        while read_request(connection):
            connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
                               % len(HTML_404) + HTML_404)


class Backlogged(LoopbackServer):
    """Listens but never accepts, its queue already full: new connections are dropped, as to an unreachable host."""

    def __init__(self):
        super().__init__(backlog=0)
        self.fillers = []

    def __enter__(self):
        for _index in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(filler)
        return self

    def __exit__(self, *exc_info):
        for filler in self.fillers:
            filler.close()
        self.listener.close()


class Refused:
    """A loopback port where nothing listens."""

    def __enter__(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d/" % probe.getsockname()[1]
        probe.close()
        return self

    def __exit__(self, *exc_info):
        pass
