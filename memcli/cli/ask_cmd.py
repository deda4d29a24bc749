"""`mem ask` and `mem models`: answers from memory with citations; which models are in use."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.context import config_target, memory
from memcli.cli.help import complete_path
from memcli.cli.options import (AsOfOpt, HopsOpt, KOpt, ModeOpt, SessionOpt, SinceOpt, SourceOpt, SpeakerOpt, TagOpt,
                                UntilOpt, search_filters)

models_app = typer.Typer(help="Show and choose the answer model (a GGUF for llama.cpp).", no_args_is_help=False,
                         invoke_without_command=True)


def register(app: typer.Typer) -> None:
    from memcli.cli.chat_cmd import chat

    app.command("ask")(ask)
    app.command("chat")(chat)
    app.add_typer(models_app, name="models")


def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    k: KOpt = None,
    mode: ModeOpt = None,
    hops: HopsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    speaker: SpeakerOpt = None,
    session: SessionOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    as_of: AsOfOpt = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="A .gguf file to answer with (implies --generate).")] = None,
    generate: Annotated[Optional[bool], typer.Option("--generate/--extractive", help="LLM-written answer, or the best-supported sentence (default: config llm.answer).")] = None,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print the answer when it is complete.")] = False,
    show_context: Annotated[bool, typer.Option("--show-context", help="Print the excerpts given to the model.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Also print the candidate sentences the answer was picked from, with their features and scores.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Answer, citations and timings as JSON.")] = False,
) -> None:
    """Answer a question from memory, citing the units it used.

    --since/--until/--tag/--source narrow what the answer may come from, as in `mem search`.
    """
    overrides = {"llm.model": str(model)} if model else {}
    mem = memory(**overrides)
    filters = search_filters(mem, since=since, until=until, speaker=speaker, session=session, tag=tag, source=source)
    how = "generate" if (generate or model) else ("extractive" if generate is False else None)
    stream = not (json_ or no_stream) and sys.stdout.isatty()
    started = False

    def show(piece: str) -> None:
        nonlocal started
        if not started:
            render.out.print("[bold]Answer:[/bold] ", end="")
            started = True
        render.out.print(piece, end="", markup=False)

    from memcli.retrieve.filters import parse_moment

    ans = mem.ask(question, k=k, mode=mode, answer=how, stream=stream, hops=hops,
                  explain=explain, filters=filters, as_of=parse_moment(as_of) if as_of else None)
    if stream:
        for piece in ans:
            show(piece)
        ans = ans.result()
    if json_:
        render.emit_json(ans.to_dict())
        return
    if started:
        render.out.print()
    render.answer_view(ans, streamed=started, show_context=show_context)
    if explain:
        render.explain_view(ans)


@models_app.callback()
def models(ctx: typer.Context, json_: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
           check: Annotated[bool, typer.Option("--check", help="Generate one token in a child process: does this llama.cpp build run on this CPU? Exit 7 if not.")] = False) -> None:
    """List the configured embedding and answer models, and whether they are found."""
    if ctx.invoked_subcommand:
        return
    from memcli.errors import ModelError
    from memcli.llm.models import resolve_gguf

    mem = memory()
    s = mem.settings
    rows: dict[str, object] = {"embed.model": s.embed.model, "llm.model": s.llm.model}
    try:
        rows["llm.path"] = str(resolve_gguf(s.llm.model))
    except ModelError as e:
        rows["llm.path"] = f"missing: {e.message}"
    try:
        import llama_cpp

        rows["llama_cpp"] = llama_cpp.__version__
        rows["gpu_offload"] = bool(llama_cpp.llama_supports_gpu_offload())
    except ImportError:
        rows["llama_cpp"] = "not installed"
        rows["gpu_offload"] = False
    rows["llm.answer"] = s.llm.answer
    verdict = None
    if check:
        if rows["llama_cpp"] == "not installed":
            raise ModelError("llama-cpp-python is not installed", hint="make install (builds it once)")
        verdict = mem.check_answer_model(force=True)
        if verdict is not None:
            rows["probe"] = f"{verdict.message()} ({verdict.seconds:.1f} s)"
            rows["probe_ok"] = verdict.ok
    render.record("Models", rows, json_)
    if verdict is not None and not verdict.ok:
        from memcli.llm.probe import REBUILD_HINT

        raise ModelError(verdict.message(), hint=REBUILD_HINT)


@models_app.command("use")
def models_use(path: Annotated[Path, typer.Argument(help="A .gguf file, 'smollm2' (the bundled default) or 'gemma3-270m'.", autocompletion=complete_path)],
               global_: Annotated[bool, typer.Option("--global", help="Write the user's config file, not this home's.")] = False) -> None:
    """Answer with another GGUF from now on (written to this home's config, or the user's)."""
    from memcli.config import set_config_value
    from memcli.llm.models import resolve_gguf

    from memcli.llm.models import ASSEMBLED_GGUF, PACKAGED_GGUF

    named = str(path) in PACKAGED_GGUF or str(path) in ASSEMBLED_GGUF
    target = str(path) if named else str(path.expanduser().resolve())
    resolve_gguf(target)
    cfg = set_config_value("llm.model", target, path=config_target(global_))
    render.out.print(f"llm.model = {target}  [dim]({cfg})[/dim]")
