"""The page's HTTP server: uvicorn in a thread of the resident process, on 127.0.0.1 only."""

from __future__ import annotations

import secrets
import socket
import threading

from memcli.ui.app import Backend, build_app


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (never another interface); port 0: a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


class UiServer:
    def __init__(self, backend: Backend, *, port: int = 0, read_only: bool = False) -> None:
        import uvicorn

        sock = bind_loopback(port)
        self.sock = sock
        self.port = sock.getsockname()[1]
        self.token = secrets.token_urlsafe(24)  # per start: a page from an earlier start is locked out
        self.read_only = read_only
        app = build_app(backend, token=self.token, port=self.port, read_only=read_only)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="mem-ui",
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
