"""`mem mcp`: this memory as a Model Context Protocol server (stdio), for AI agents.

Tools return the same JSON shapes as the CLI's ``--json``; a memcli error becomes an MCP
tool error carrying the CLI's message and hint, never a crash of the server. Stray prints
from libraries go to stderr: stdout belongs to the protocol.

When this home's resident process runs, search, ask, ingest and forget are its commands
(`mem … --json` over its socket): one set of models per home, and one writer. Without one
(or while it is busy with a read) they run on this process's own Memory.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any

from memcli import __version__

INSTRUCTIONS = (
    "memcli is the user's local, private memory of their documents and conversations. "
    "Use `search` to find passages (with file, section and lines), `ask` for a cited answer "
    "(it says when memory does not hold one), `ingest` to remember files or folders, "
    "`forget` to remove a source, `sources` and `stats` to see what is remembered, `history` for "
    "where a passage came from and what replaced it, `pin` to keep something from decaying."
)


def _hints(read_only: bool, *, destructive: bool = False, idempotent: bool = False):
    """MCP tool annotations: what an agent (and the person approving its calls) may rely on."""
    from mcp.types import ToolAnnotations

    return ToolAnnotations(read_only_hint=read_only, destructive_hint=destructive if not read_only else None,
                           idempotent_hint=idempotent if not read_only else None, open_world_hint=False)


def build_server(mem):
    """An MCPServer whose tools call ``mem`` (one call at a time: Memory is not thread-safe)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from memcli.errors import MemError

    server = MCPServer(name="memcli", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    lock = threading.Lock()

    def call(fn, *args, **kw) -> Any:
        with lock, contextlib.redirect_stdout(sys.stderr):
            try:
                return fn(*args, **kw)
            except MemError as e:
                raise ToolError(e.message + (f" (hint: {e.hint})" if e.hint else "")) from e

    def served(argv: list[str]) -> dict | None:
        """``mem ARGV --json`` on the running server of this home; None: do it here."""
        from memcli.server.client import served_json

        try:
            return served_json(mem.settings.home, argv)
        except RuntimeError as e:  # the command's own error message (and hint), as the CLI prints it
            raise ToolError(" ".join(str(e).replace("error: ", "", 1).split())) from None

    @server.tool(description="Search memory (hybrid BM25 + dense by default). Returns ranked hits "
                             "with text, source uri, section, line span and score.", annotations=_hints(True))
    def search(query: str, k: int = 10, mode: str | None = None) -> dict:
        from memcli.types import MODES

        if mode is not None and mode not in MODES:
            raise ToolError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
        reply = served(["search", "-k", str(k), "--json", *(["--mode", mode] if mode else []), "--", query])
        if reply is not None:
            return reply
        hits = call(mem.search, query, k=k, mode=mode)
        return {"query": query, "mode": mode or mem.settings.search.mode, "hits": [h.to_dict() for h in hits]}

    @server.tool(description="Answer a question from memory with numbered citations; says so when "
                             "memory does not hold the answer. answer: extractive (default) or generate. "
                             "since/until (YYYY-MM-DD), tags and sources (paths, folders or source ids) "
                             "narrow what the answer may come from.",
                 annotations=_hints(True))
    def ask(question: str, k: int | None = None, answer: str | None = None, since: str | None = None,
            until: str | None = None, tags: list[str] | None = None, sources: list[str] | None = None) -> dict:
        from memcli.retrieve.filters import make_filters

        if answer not in (None, "extractive", "generate"):
            raise ToolError("answer must be 'extractive' or 'generate'")
        flags = (["-k", str(k)] if k else []) + ({"generate": ["--generate"], "extractive": ["--extractive"]}.get(answer, []))
        flags += (["--since", since] if since else []) + (["--until", until] if until else [])
        flags += sum((["--tag", t] for t in tags or []), []) + sum((["--source", s] for s in sources or []), [])
        reply = served(["ask", "--json", *flags, "--", question])
        if reply is not None:
            return reply
        filters = call(make_filters, mem.sources, since=since, until=until, tag=tags, source=sources)
        return call(mem.ask, question, k=k, answer=answer, filters=filters).to_dict()

    @server.tool(description="Remember files or folders (md, txt, html, pdf, docx, code, chat exports). "
                             "Unchanged files are skipped; changed files replace their old units.",
                 annotations=_hints(False, idempotent=True))
    def ingest(paths: list[str], recursive: bool = True, glob: list[str] | None = None) -> dict:
        if not paths:
            raise ToolError("name at least one path")
        flags = (["--recursive"] if recursive else []) + sum((["--glob", g] for g in glob or []), [])
        reply = served(["ingest", "--json", *flags, "--", *paths])
        return reply if reply is not None else call(mem.ingest, paths, recursive=recursive, globs=glob).to_dict()

    @server.tool(description="Forget a source (a path, a folder of sources, or a source id) from every store.",
                 annotations=_hints(False, destructive=True, idempotent=True))
    def forget(source: str) -> dict:
        reply = served(["forget", "--yes", "--json", "--", source])
        return reply if reply is not None else {"forgotten": [s.to_dict() for s in call(mem.forget, source)]}

    @server.tool(description="List the sources in memory (uri, kind, units, times).", annotations=_hints(True))
    def sources() -> dict:
        return {"sources": [s.to_dict() for s in call(mem.sources)]}

    @server.tool(description="Counts and sizes of this memory.", annotations=_hints(True))
    def stats() -> dict:
        return call(mem.stats)

    @server.tool(description="Where a unit (a unit_id from search) came from — its source file, lines, section, "
                             "times — and its update history: the units it superseded or that superseded it, "
                             "oldest first.", annotations=_hints(True))
    def history(unit_id: str) -> dict:
        unit = call(mem.unit, unit_id)
        chain = call(mem.history, unit_id)
        keep = ("id", "uri", "source_id", "section", "line_start", "line_end", "event_time", "ingested_at", "status",
                "superseded_by", "valid_to", "pinned", "speaker", "text")
        return {"unit": {k: unit.get(k) for k in keep}, "history": [r.to_dict() for r in chain]}

    @server.tool(description="Pin memory so it never decays or gets archived: a unit_id, or a source path "
                             "(all its units). pinned=false unpins.", annotations=_hints(False, idempotent=True))
    def pin(ref: str, pinned: bool = True) -> dict:
        return {"ref": ref, "pinned": pinned, "units": call(mem.pin, ref, pinned)}

    @server.resource("mem://sources", name="sources", mime_type="application/json",
                     description="The sources in memory.")
    def sources_resource() -> str:
        import json

        return json.dumps([s.to_dict() for s in call(mem.sources)], default=str)

    @server.resource("mem://units/{unit_id}", name="unit", mime_type="application/json",
                     description="One memory unit with its provenance.")
    def unit_resource(unit_id: str) -> str:
        import json

        return json.dumps(call(mem.unit, unit_id), default=str)

    return server


class BearerGuard:
    """ASGI middleware for the HTTP transport: this server's own Host, and
    ``Authorization: Bearer <token>`` on every request (403 otherwise)."""

    def __init__(self, app, *, token: str, port: int) -> None:
        from memcli.ui.app import loopback_hosts

        self.app, self.token = app, token
        self.hosts = loopback_hosts(port)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            from memcli.ui.app import request_headers, same_secret

            h = request_headers(scope)
            auth = h.get("authorization", "")
            given = auth[7:] if auth.lower().startswith("bearer ") else ""
            if h.get("host") not in self.hosts or not same_secret(given, self.token):
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": b"forbidden: this server's Host and its bearer token\n"})
                return
        await self.app(scope, receive, send)


def serve_http(server, *, port: int, token: str, on_ready) -> None:
    """The Streamable HTTP transport on 127.0.0.1 (never another interface) until Ctrl-C."""
    import uvicorn

    from memcli.ui.serve import bind_loopback

    sock = bind_loopback(port)
    port = sock.getsockname()[1]
    app = BearerGuard(server.streamable_http_app(host="127.0.0.1"), token=token, port=port)
    on_ready(f"http://127.0.0.1:{port}/mcp")
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
