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
    "`forget` to remove a source, `sources` and `stats` to see what is remembered."
)


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
                             "with text, source uri, section, line span and score.")
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
                             "memory does not hold the answer. answer: extractive (default) or generate.")
    def ask(question: str, k: int | None = None, answer: str | None = None) -> dict:
        if answer not in (None, "extractive", "generate"):
            raise ToolError("answer must be 'extractive' or 'generate'")
        flags = (["-k", str(k)] if k else []) + ({"generate": ["--generate"], "extractive": ["--extractive"]}.get(answer, []))
        reply = served(["ask", "--json", *flags, "--", question])
        return reply if reply is not None else call(mem.ask, question, k=k, answer=answer).to_dict()

    @server.tool(description="Remember files or folders (md, txt, html, pdf, docx, code, chat exports). "
                             "Unchanged files are skipped; changed files replace their old units.")
    def ingest(paths: list[str], recursive: bool = True, glob: list[str] | None = None) -> dict:
        if not paths:
            raise ToolError("name at least one path")
        flags = (["--recursive"] if recursive else []) + sum((["--glob", g] for g in glob or []), [])
        reply = served(["ingest", "--json", *flags, "--", *paths])
        return reply if reply is not None else call(mem.ingest, paths, recursive=recursive, globs=glob).to_dict()

    @server.tool(description="Forget a source (a path, a folder of sources, or a source id) from every store.")
    def forget(source: str) -> dict:
        reply = served(["forget", "--yes", "--json", "--", source])
        return reply if reply is not None else {"forgotten": [s.to_dict() for s in call(mem.forget, source)]}

    @server.tool(description="List the sources in memory (uri, kind, units, times).")
    def sources() -> dict:
        return {"sources": [s.to_dict() for s in call(mem.sources)]}

    @server.tool(description="Counts and sizes of this memory.")
    def stats() -> dict:
        return call(mem.stats)

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
