"""`mem ui`: a local web page over the same Memory methods and JSON shapes as `--json`.

Served by the home's resident process (memcli/server/daemon.py starts it) on 127.0.0.1
only. Every request passes ``Guard``: the Host must be this server's own 127.0.0.1/localhost
address (a DNS-rebinding page names another host), an Origin, when sent, must be that same
address, and the per-start secret must come with it — once in the URL `mem ui` opens
(exchanged at once for an HttpOnly, SameSite=Strict cookie and a redirect that drops it
from the address bar), then as that cookie. A state change is a POST that also carries the
secret in a header the page reads from its own HTML, needs an Origin, and is refused when
``serve.ui_read_only``. No CORS headers are ever sent.

Reads run on the UI's own Memory (sharing the server's models), one at a time; writes go
through the server's one-writer queue, behind any CLI write. The page is static HTML and a
small hand-written script (static/app.js) over this JSON API; the graph and the timeline
are drawn by cytoscape.js and vis-timeline, vendored from npm (static/vendor/VERSIONS.txt).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

STATIC = Path(__file__).with_name("static")
COOKIE = "mem_ui"


class Backend(Protocol):
    def read(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(memory)`` on the page's reading Memory, one call at a time."""

    def write(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(memory)`` through the home's one writer (the server's queue)."""

    def status(self) -> dict:
        """The resident process: pid, uptime, models, queue."""


def _json_default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def loopback_hosts(port: int) -> set[str]:
    """The Host values a server on 127.0.0.1:``port`` answers to (anything else: DNS rebinding)."""
    return {f"127.0.0.1:{port}", f"localhost:{port}"}


def request_headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def same_secret(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class Guard:
    """ASGI middleware: Host, Origin, token; POST also header token, Origin, not read-only."""

    def __init__(self, app, *, token: str, port: int, read_only: bool) -> None:
        self.app, self.token, self.read_only = app, token, read_only
        self.hosts = loopback_hosts(port)
        self.origins = {f"http://{h}" for h in self.hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = request_headers(scope)
        why = self._refuse(scope, headers)
        if why == "exchange":
            return await _redirect_with_cookie(send, self.token)
        if why:
            return await _plain(send, 403, f"forbidden: {why}\n")
        return await self.app(scope, receive, send)

    def _refuse(self, scope, headers: dict) -> str | None:
        if headers.get("host") not in self.hosts:
            return "unknown Host"
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return "foreign Origin"
        if scope["method"] == "GET" and scope["path"] == "/":
            given = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
            if given is not None:
                return "exchange" if same_secret(given, self.token) else "wrong token"
        cookie = _cookies(headers.get("cookie", "")).get(COOKIE)
        if not same_secret(cookie, self.token):
            return "no token (open the address `mem ui` prints)"
        if scope["method"] not in ("GET", "HEAD"):
            if origin is None:
                return "a change needs an Origin"
            if not same_secret(headers.get("x-mem-token"), self.token):
                return "a change needs the page's token"
            if self.read_only:
                return "this page is read-only (serve.ui_read_only)"
        return None


def _cookies(raw: str) -> dict[str, str]:
    out = {}
    for part in raw.split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            out[k] = v
    return out


async def _plain(send, status: int, body: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body.encode()})


async def _redirect_with_cookie(send, token: str) -> None:
    cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                            (b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]})
    await send({"type": "http.response.body", "body": b""})


SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'",
    "x-frame-options": "DENY", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def build_app(backend: Backend, *, token: str, port: int, read_only: bool = False):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from memcli.errors import MemError

    def reply(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, default=_json_default, ensure_ascii=False), status_code=status,
                        media_type="application/json", headers=SECURITY_HEADERS)

    def api(fn: Callable[[Request], Any]):
        def endpoint(request: Request) -> Response:
            try:
                return reply(fn(request))
            except MemError as e:
                return reply({"error": e.message, "hint": e.hint}, 404 if type(e).__name__ == "NotFoundError" else 400)
            except (KeyError, ValueError) as e:
                return reply({"error": f"bad request: {e}"}, 400)
        return endpoint

    async def body_of(request: Request) -> dict:
        return json.loads(await request.body() or b"{}")

    def index(request: Request) -> Response:
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        html = html.replace("{{token}}", token).replace("{{read_only}}", "true" if read_only else "false")
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    def search(r: Request):
        q, k = r.query_params["q"], int(r.query_params.get("k", 10))
        mode = r.query_params.get("mode") or None
        explain = r.query_params.get("explain", "1") != "0"
        from memcli.markup import prose

        # ``prose``: the hit as a person reads it ([[./note|alias]] as "alias", no markup), as the CLI shows it.
        return backend.read(lambda m: {"query": q, "mode": mode or m.settings.search.mode,
                                       "hits": [h.to_dict() | {"prose": prose(h.text)}
                                                for h in m.search(q, k=k, mode=mode, explain=explain)]})

    def ask(r: Request):
        from memcli.retrieve.filters import make_filters

        q, p = r.query_params["q"], r.query_params

        def run(m):
            filters = make_filters(m.sources, since=p.get("since") or None, until=p.get("until") or None,
                                   tag=p.getlist("tag") or None, source=p.getlist("source") or None)
            return m.ask(q, answer="extractive", filters=filters).to_dict()
        return backend.read(run)

    def sources(r: Request):
        return backend.read(lambda m: [s.to_dict() for s in m.sources()])

    def source_status(r: Request):
        return backend.read(lambda m: m.ingest_status())

    def source(r: Request):
        return backend.read(lambda m: m.source_units(r.path_params["source_id"]))

    def timeline(r: Request):
        return backend.read(lambda m: m.timeline())

    def day(r: Request):
        from memcli.retrieve.filters import parse_day

        d = date.fromisoformat(r.path_params["day"]).isoformat()
        return backend.read(lambda m: {"day": d, "units": m.units_between(parse_day(d), parse_day(d, end=True),
                                                                         limit=None)["units"]})

    def between(r: Request):
        from memcli.retrieve.filters import parse_day

        since, until = parse_day(r.query_params["since"]), parse_day(r.query_params["until"], end=True)
        return backend.read(lambda m: m.units_between(since, until))

    def graph(r: Request):
        name = r.query_params.get("entity", "").strip()
        return backend.read(lambda m: m.graph.neighbourhood(name) if name else m.graph.overview())

    def entities(r: Request):
        return backend.read(lambda m: {"names": m.graph.suggest(r.query_params.get("prefix", ""))})

    def health(r: Request):
        def look(m):
            from memcli.consolidate.schedule import last_run

            return {"doctor": m.doctor().to_dict(), "stats": m.stats(), "schedule": last_run(m.home),
                    "server": backend.status()}
        return backend.read(look)

    async def forget(request: Request) -> Response:
        ref = (await body_of(request))["source"]
        return await _in_thread(api(lambda r: {"forgotten": [s.to_dict() for s in backend.write(lambda m: m.forget(ref))]}), request)

    async def pin(request: Request) -> Response:
        b = await body_of(request)
        ref, pinned = b["ref"], bool(b.get("pinned", True))
        return await _in_thread(api(lambda r: {"ref": ref, "pinned": pinned, "units": backend.write(lambda m: m.pin(ref, pinned))}), request)

    routes = [
        Route("/", index),
        Route("/api/search", api(search)), Route("/api/ask", api(ask)),
        Route("/api/sources", api(sources)), Route("/api/status", api(source_status)),
        Route("/api/sources/{source_id}", api(source)),
        Route("/api/timeline", api(timeline)), Route("/api/day/{day}", api(day)), Route("/api/between", api(between)),
        Route("/api/graph", api(graph)), Route("/api/entities", api(entities)), Route("/api/health", api(health)),
        Route("/api/forget", forget, methods=["POST"]), Route("/api/pin", pin, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Guard(Starlette(routes=routes), token=token, port=port, read_only=read_only)


async def _in_thread(endpoint, request):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(endpoint, request)
