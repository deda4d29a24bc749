"""The page's guard (memcli/ui/app.py) in front of a fake backend: who may read, who may change."""

import json

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from memcli.ui.app import build_app  # noqa: E402

PORT, TOKEN = 40123, "s3cret-token"
ORIGIN = f"http://127.0.0.1:{PORT}"


class Backend:
    def __init__(self) -> None:
        self.writes = []

    def read(self, fn):
        return fn(self)

    def write(self, fn):
        self.writes.append(fn)
        return []

    def status(self):
        return {}

    def sources(self):  # what fn(memory) calls through read()
        return []


def client(read_only=False):
    backend = Backend()
    c = TestClient(build_app(backend, token=TOKEN, port=PORT, read_only=read_only), base_url=ORIGIN)
    return c, backend


def test_the_secret_in_the_address_becomes_a_strict_httponly_cookie():
    c, _ = client()
    r = c.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN in cookie
    page = c.get("/")  # the cookie now opens the page, which carries the token for its own POSTs
    assert page.status_code == 200 and f'content="{TOKEN}"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_changes_need_origin_and_header_and_are_refused_read_only():
    c, backend = client()
    c.cookies.set("mem_ui", TOKEN)
    body = json.dumps({"source": "/x.md"})
    assert c.post("/api/forget", content=body, headers={"origin": ORIGIN}).status_code == 403
    assert c.post("/api/forget", content=body, headers={"x-mem-token": TOKEN}).status_code == 403
    ok = c.post("/api/forget", content=body, headers={"origin": ORIGIN, "x-mem-token": TOKEN})
    assert ok.status_code == 200 and len(backend.writes) == 1
    ro, ro_backend = client(read_only=True)
    ro.cookies.set("mem_ui", TOKEN)
    r = ro.post("/api/forget", content=body, headers={"origin": ORIGIN, "x-mem-token": TOKEN})
    assert r.status_code == 403 and "read-only" in r.text and not ro_backend.writes
    assert ro.get("/api/sources").status_code == 200  # reading stays open
