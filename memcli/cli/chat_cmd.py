"""`mem chat`: an interactive (or piped, one question per line) session over memory."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.context import memory
from memcli.cli.options import AsOfOpt

HELP = "/sources  citations of the last answer · /forget  do not save this chat · /exit  end"


def chat(
    generate: Annotated[Optional[bool], typer.Option("--generate/--extractive", help="LLM answers, or the best-supported sentence (default: config llm.answer).")] = None,
    k: Annotated[Optional[int], typer.Option("-k", help="Units to retrieve per question.", min=1)] = None,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Write the chat into memory when it ends.")] = True,
    as_of: AsOfOpt = None,
) -> None:
    """Chat with your memory: follow-ups are rewritten, the chat is saved into memory.

    Reads one question per line when stdin is piped. Slash commands: /sources, /forget, /exit.
    """
    mem = memory()
    how = "generate" if generate else ("extractive" if generate is False else None)
    from memcli.retrieve.filters import parse_moment

    session = mem.chat_session(answer=how, k=k, as_of=parse_moment(as_of) if as_of else None)
    session.save_enabled = save
    interactive = sys.stdin.isatty()
    if interactive:
        _readline(mem)
        render.out.print(f"[dim]memcli chat — {HELP}[/dim]")
    while True:
        try:
            line = input("you> ") if interactive else sys.stdin.readline()
        except EOFError:
            break
        if not interactive and line == "":
            break
        q = line.strip()
        if not q:
            continue
        if q in ("/exit", "/quit"):
            break
        if q == "/sources":
            for c in session.last_citations():
                render.out.print(f"[cyan][{c.number}][/cyan] {render.escape(render.location(c.uri, c.section, c.line_start, c.line_end))}")
            continue
        if q == "/forget":
            session.save_enabled = False
            render.out.print("[dim]this chat will not be saved[/dim]")
            continue
        if q.startswith("/"):
            render.out.print(f"[dim]{HELP}[/dim]")
            continue
        if not interactive:
            render.out.print(f"[bold]you>[/bold] {render.escape(q)}")
        ans = session.ask(q)
        standalone = session.turns[-1].standalone
        if standalone != q:
            render.out.print(f"[dim](searched for: {render.escape(standalone)})[/dim]")
        render.answer_view(ans, streamed=False, show_context=False)
    path = session.save()
    if path:
        render.out.print(f"[dim]saved this chat into memory ({len(session.turns)} exchanges): {path}[/dim]")


def _readline(mem) -> None:
    try:
        import readline
    except ImportError:  # not on every platform; input() still works
        return
    hist = mem.ensure_home() / "chat_history"
    try:
        readline.read_history_file(str(hist))
    except OSError:
        pass
    import atexit

    atexit.register(lambda: readline.write_history_file(str(hist)))
