"""`mem mcp`, driven by the official MCP SDK's stdio client: a real server process, real calls."""

from __future__ import annotations

import json
import os
import sys

import anyio
import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402


def _payload(result) -> dict:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def _session_run(home, steps):
    env = {k: v for k, v in os.environ.items() if k.startswith(("MEM_", "HF_", "PATH", "HOME"))}
    env.update({"MEM_HOME": str(home), "MEM_EMBED__MODEL": "fake:64", "MEM_LLM__MODEL": "fake"})
    params = StdioServerParameters(command=sys.executable, args=["-m", "memcli", "mcp"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await steps(session)


def _agent_steps(corpus):
    async def steps(s: ClientSession):
        listed = {t.name: t for t in (await s.list_tools()).tools}
        assert {"search", "ask", "ingest", "forget", "sources", "stats", "history", "pin"} <= set(listed)
        for name in ("search", "ask", "sources", "stats", "history"):  # an agent may call these freely
            assert listed[name].annotations.read_only_hint is True, name
        assert listed["forget"].annotations.destructive_hint is True
        assert listed["ingest"].annotations.read_only_hint is False and not listed["ingest"].annotations.destructive_hint

        rep = _payload(await s.call_tool("ingest", {"paths": [str(corpus)]}))
        assert rep["added"] == 3 and not rep["failed"]

        found = _payload(await s.call_tool("search", {"query": "grilled sardines in Lisbon", "k": 3}))
        assert found["hits"][0]["uri"].endswith("trip.txt")  # same shape as `mem search --json`
        unit_id = found["hits"][0]["unit_id"]

        ans = _payload(await s.call_tool("ask", {"question": "Which variety is for sauce?"}))
        assert "San Marzano" in ans["answer"] and ans["citations"][0]["uri"].endswith("garden.md")
        # The same filters as `mem ask --source/--since`: only what they allow answers.
        narrowed = _payload(await s.call_tool("ask", {"question": "Which variety is for sauce?",
                                                      "sources": [str(corpus / "trip.txt")]}))
        assert "San Marzano" not in narrowed["answer"]
        assert all(c["uri"].endswith("trip.txt") for c in narrowed["citations"])
        nowhere = await s.call_tool("ask", {"question": "Which variety is for sauce?", "sources": ["/nowhere/at/all.md"]})
        assert nowhere.is_error and "no source in memory matches" in nowhere.content[0].text

        res = await s.read_resource(f"mem://units/{unit_id}")
        assert json.loads(res.contents[0].text)["uri"].endswith("trip.txt")
        prov = _payload(await s.call_tool("history", {"unit_id": unit_id}))
        assert prov["unit"]["uri"].endswith("trip.txt") and prov["unit"]["line_start"] >= 1
        assert [h["id"] for h in prov["history"]] == [unit_id]
        assert _payload(await s.call_tool("pin", {"ref": unit_id}))["units"] == 1

        srcs = _payload(await s.call_tool("sources", {}))["sources"]
        assert len(srcs) == 3
        gone = _payload(await s.call_tool("forget", {"source": str(corpus / "trip.txt")}))
        assert [g["uri"] for g in gone["forgotten"]] == [str(corpus / "trip.txt")]
        assert _payload(await s.call_tool("stats", {}))["sources"] == 2

        # Malformed calls are MCP errors, and the server keeps serving.
        bad_args = await s.call_tool("search", {"query": 42, "k": "many"})
        assert bad_args.is_error
        bad_mode = await s.call_tool("search", {"query": "bees", "mode": "magic"})
        assert bad_mode.is_error and "unknown mode" in bad_mode.content[0].text
        missing = await s.call_tool("forget", {"source": "/nowhere/at/all.md"})
        assert missing.is_error
        unknown = await s.call_tool("no_such_tool", {})
        assert unknown.is_error
        again = _payload(await s.call_tool("search", {"query": "varroa mites sticky board", "k": 1}))
        return again

    return steps


def test_an_agent_lists_ingests_searches_asks_and_forgets(tmp_path, corpus):
    again = anyio.run(_session_run, tmp_path / "home", _agent_steps(corpus))
    assert again["hits"][0]["uri"].endswith("garden.md")


def test_with_a_resident_server_the_agent_uses_its_models_and_its_one_writer(tmp_path, corpus, child_env):
    """The same session while `mem serve` runs for the home: search, ask, ingest and forget are
    the server's commands (one set of models, one writer), with the same answers and errors."""
    import subprocess
    import time

    from memcli.server.client import control

    home = tmp_path / "home"
    server = subprocess.Popen([sys.executable, "-m", "memcli", "serve", "--idle-timeout", "120"],
                              env={**child_env, "MEM_HOME": str(home)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        t0 = time.time()
        while control(home, "status", timeout=1) is None:
            assert time.time() - t0 < 60 and server.poll() is None, "server did not start"
            time.sleep(0.1)
        again = anyio.run(_session_run, home, _agent_steps(corpus))
        assert again["hits"][0]["uri"].endswith("garden.md")
        # ingest, search, three asks (one narrowed by a source, one naming no source), forget,
        # the failed forget, the last search (the bad mode, the malformed call, history and pin
        # run in the MCP process itself)
        assert control(home, "status")["served"] == 8
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_http_transport_needs_its_token(tmp_path, corpus):
    """`mem mcp --http`: Streamable HTTP on 127.0.0.1, the SDK's own client with the bearer
    token; without it, or with another Host, 403."""
    import http.client
    import subprocess

    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    env = {k: v for k, v in os.environ.items() if k.startswith(("MEM_", "HF_", "PATH", "HOME"))}
    env.update({"MEM_HOME": str(tmp_path / "home"), "MEM_EMBED__MODEL": "fake:64", "MEM_LLM__MODEL": "fake",
                "MEM_MCP_TOKEN": "t0ken-for-this-test"})
    proc = subprocess.Popen([sys.executable, "-m", "memcli", "mcp", "--http"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        line = proc.stderr.readline()
        url = line.split(" at ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp"), line
        port = int(url.split(":")[2].split("/")[0])

        def raw(headers):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/mcp", body="{}", headers={"Content-Type": "application/json", **headers})
            return c.getresponse().status

        assert raw({}) == 403
        assert raw({"Authorization": "Bearer wrong"}) == 403
        assert raw({"Authorization": "Bearer t0ken-for-this-test", "Host": f"attacker.example:{port}"}) == 403

        async def steps():
            client = create_mcp_http_client(headers={"Authorization": "Bearer t0ken-for-this-test"})
            async with client, streamable_http_client(url, http_client=client) as (read, write), \
                    ClientSession(read, write) as s:
                await s.initialize()
                listed = {t.name: t for t in (await s.list_tools()).tools}
                assert listed["forget"].annotations.destructive_hint is True
                rep = _payload(await s.call_tool("ingest", {"paths": [str(corpus)]}))
                assert rep["added"] == 3
                return _payload(await s.call_tool("search", {"query": "grilled sardines in Lisbon", "k": 1}))

        found = anyio.run(steps)
        assert found["hits"][0]["uri"].endswith("trip.txt")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
