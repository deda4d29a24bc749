"""Frames on the server socket: 4-byte length, 1-byte kind, payload. Standard library only.

Client → server: REQUEST (JSON), STDIN (bytes; empty = end of input), CANCEL.
Server → client: ACCEPT, FALLBACK (JSON reason: do it yourself), OUT/ERR (bytes),
READ (JSON: the command wants a line of stdin), EXIT (JSON code), REPLY (JSON, control).
"""

from __future__ import annotations

import json
import socket
import struct

REQUEST, STDIN, CANCEL = b"Q", b"D", b"C"
ACCEPT, FALLBACK, OUT, ERR, READ, EXIT, REPLY = b"A", b"F", b"O", b"E", b"I", b"X", b"R"
_HEAD = struct.Struct(">IB")


def send(sock: socket.socket, kind: bytes, payload: bytes | dict = b"") -> None:
    if isinstance(payload, dict):
        payload = json.dumps(payload).encode()
    sock.sendall(_HEAD.pack(len(payload), kind[0]) + payload)


def _exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def recv(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """The next frame, or None when the peer has gone."""
    head = _exact(sock, _HEAD.size)
    if head is None:
        return None
    n, kind = _HEAD.unpack(head)
    body = _exact(sock, n) if n else b""
    if body is None:
        return None
    return bytes([kind]), body


def decode(body: bytes) -> dict:
    return json.loads(body.decode() or "{}")
