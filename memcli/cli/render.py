"""Rendering helpers: rich for people, JSON for scripts."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape  # noqa: F401  (re-exported for commands)
from rich.table import Table
from rich.text import Text

class _Console(Console):
    def on_broken_pipe(self) -> None:
        """rich exits 1 when the reader goes away; `mem ask … | head -1` is not an error:
        the CLI's edge turns this into exit 0, quietly, as cat does."""
        raise BrokenPipeError


out = _Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)


def bind(width: int | None = None) -> None:
    """New consoles for the current sys.stdout/sys.stderr and environment: `mem serve` calls
    this per request so colours and width follow the client's terminal, not the server's."""
    global out, err
    out = _Console(highlight=False, soft_wrap=False, width=width)
    err = Console(stderr=True, highlight=False, width=width)


def table(t: Table) -> None:
    """A table for a person on a terminal; for a pipe, full values tab-separated, one row per
    line (header first when it has one): `mem sources | cut -f5` gets whole paths, never "…"."""
    if out.is_terminal:
        out.print(t)
        return
    cols = t.columns
    lines = ["\t".join(Text.from_markup(str(c.header)).plain for c in cols)] if t.show_header else []
    for i in range(t.row_count):
        lines.append("\t".join(Text.from_markup(str(c._cells[i])).plain.replace("\t", " ").replace("\n", " ")
                               if isinstance(c._cells[i], str) else str(c._cells[i]) for c in cols))
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.isoformat()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    return str(o)


@contextmanager
def stdout_reserved():
    """Keep the process's stdout for mem's own output while libraries work: Ray's driver prints
    "(raylet) A worker died …" to fd 1 from its own threads, which would break `--json` for a
    script. Their lines go to stderr instead. Only where stdout is this process's fd 1 (in
    `mem serve` a request's stdout is the client's stream, which no library writes to)."""
    try:
        real = sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        real = False
    if not real:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def highlight(text: str, query: str) -> Text:
    from memcli.retrieve.snippet import query_terms, term_matches

    terms = query_terms(query)
    t = Text()
    for i, word in enumerate(text.split(" ")):
        if i:
            t.append(" ")
        core = word.strip(".,;:!?()[]\"'*`#")
        t.append(word, style="bold yellow" if core and term_matches(core, terms) else None)
    return t


def location(uri: str, section: str, line_start: int, line_end: int) -> str:
    loc = uri
    if section:
        loc += f" § {section}"
    if line_start > 0:
        loc += f" (lines {line_start}–{line_end})" if line_end != line_start else f" (line {line_start})"
    return loc


def hits_view(hits, query: str, why: str | None = None) -> None:
    """``why``: the reason the filters matched nothing (Memory.why_empty)."""
    from memcli.markup import prose
    from memcli.retrieve.snippet import snippet

    if not hits:
        out.print(f"[yellow]No matching memory: {escape(why)}.[/yellow]" if why else "[dim]No matching memory.[/dim]")
        return
    for h in hits:
        out.print(f"[bold cyan]{h.rank:>2}.[/bold cyan] [green]{h.score:.3f}[/green]  "
                  f"{escape(location(h.uri, h.section, h.line_start, h.line_end))}")
        line = Text("    ")
        line.append_text(highlight(snippet(prose(h.text), query), query))
        out.print(line)
        if h.explain:
            when = f"dated {h.event_time[:10]} from its {h.time_source} · " if h.event_time and h.time_source else ""
            out.print(f"    [dim]{escape(when + explain_line(h.explain))}[/dim]")


def explain_line(e: dict) -> str:
    """`bm25 #3 (12.41) · dense #1 (0.812) · fused 0.874 · bridge +0.000 · time +0.020 · final 0.894`"""
    parts = []
    for name, v in e.items():
        if isinstance(v, dict):
            parts.append(f"{name} #{v['rank']} ({v['score']:.3g})" if v.get("rank") else f"{name} —")
    parts += [f"{k} {e[k]:.3f}" if k in ("fused", "final") else f"{k} {e[k]:+.3f}"
              for k in ("fused", "bridge", "time", "rerank", "final") if e.get(k) is not None]
    return " · ".join(parts)


def ingest_summary(rep) -> None:
    t = Table(title="Ingest summary", show_header=True, header_style="bold")
    for col in ("added", "updated", "unchanged", "failed", "units", "seconds"):
        t.add_column(col, justify="right")
    d = rep.to_dict()
    rate = f"{d['seconds']:.1f}"
    t.add_row(str(d["added"]), str(d["updated"]), str(d["unchanged"]),
              f"[red]{d['failed']}[/red]" if d["failed"] else "0", str(d["units"]), rate)
    out.print(t)
    if rep.recovered:
        r = rep.recovered
        out.print(f"[yellow]recovered an interrupted {r['op']}: {r['sources']} source(s) rolled back "
                  "and ingested again where their files were given[/yellow]")
    for p in rep.pruned:
        out.print(f"[dim]pruned (file gone):[/dim] {escape(p)}")
    if rep.skipped_dirs:
        out.print(f"[dim]{rep.skipped_dirs} subdirectories skipped (use -r to recurse)[/dim]")
    if rep.ignored:
        out.print(f"[dim]{rep.ignored} files of unsupported types ignored[/dim]")
    for f in rep.results:
        if f.status == "skipped":
            out.print(f"[dim]skipped {escape(f.path)}: {escape(f.message)}[/dim]")
    if rep.count("stub"):
        out.print(f"[dim]{rep.count('stub')} stub notes (a title or front matter, no text yet) not indexed[/dim]")
    for f in rep.failed:
        err.print(f"[red]✗[/red] {escape(f.path)}: {escape(f.message)}")


def record(title: str, data, as_json: bool) -> None:
    """One mapping, as --json or as a two-column table (stats, models, graph stats)."""
    if as_json:
        emit_json(data)
    else:
        kv_table(title, data)


def kv_table(title: str, rows: dict[str, Any]) -> None:
    t = Table(title=title, show_header=False)
    t.add_column("key", style="bold")
    t.add_column("value")
    for k, v in rows.items():
        t.add_row(k, escape(json.dumps(v, default=_default) if isinstance(v, (dict, list)) else str(v)))
    table(t)


def sources_table(srcs, why: str | None = None) -> None:
    """``why``: the reason a filter (--tag) matched nothing, said instead of "empty"."""
    if not srcs:
        out.print(f"[yellow]No source matches: {escape(why)}.[/yellow]" if why else
                  "[dim]Memory is empty. Add something with `mem ingest PATH`.[/dim]")
        return
    t = Table(show_header=True, header_style="bold")
    for col in ("id", "kind", "units", "ingested", "path"):
        t.add_column(col)
    for s in srcs:
        t.add_row(s.source_id if not out.is_terminal else s.source_id[:10], s.kind, str(s.n_units),
                  s.ingested_at.strftime("%Y-%m-%d %H:%M"), escape(s.uri))
    table(t)


def answer_view(ans, *, streamed: bool, show_context: bool) -> None:
    """The answer, then its supporting evidence, then numbered citations."""
    if not streamed:
        style = "yellow" if ans.abstained else "bold"
        out.print(f"[bold]Answer:[/bold] [{style}]{escape(ans.answer)}[/{style}]")
    if ans.note:
        out.print(f"[yellow]Note:[/yellow] {escape(ans.note)}")
        if streamed and ans.generated:
            out.print(f"[bold]Answer:[/bold] {escape(ans.answer)}")
    if ans.abstained:
        if ans.refusal:
            out.print(f"[dim]Why: {escape(ans.refusal)}[/dim]")
        if ans.closest:
            out.print("[dim]Closest memory:[/dim]")
            hits_view(ans.closest, ans.question)
        return
    if ans.evidence and ans.evidence != ans.answer:  # a line shown as the answer is not shown again
        when = f" ({ans.evidence_date})" if ans.evidence_date else ""
        out.print(f"[dim]Evidence{when}:[/dim] {escape(ans.evidence)}")
    elif ans.evidence_date:
        out.print(f"[dim]Event date: {ans.evidence_date}[/dim]")
    for c in ans.citations:
        flag = " [red](low-trust source)[/red]" if c.trust == "low" else ""
        out.print(f"[cyan][{c.number}][/cyan] {escape(location(c.uri, c.section, c.line_start, c.line_end))}{flag}")
    if show_context:
        context_view(ans)


def context_view(ans) -> None:
    """The excerpts the answer was chosen from (or the model read), in prompt order, with the
    evidence sentence highlighted."""
    out.print(f"[bold]Context[/bold] [dim]({len(ans.context)} excerpts, "
              f"{sum(c['tokens'] for c in ans.context)} tokens)[/dim]")
    for ctx in ans.context:
        where = location(ctx["uri"], ctx.get("section", ""), ctx.get("line_start", 0), ctx.get("line_end", 0))
        out.print(f"[cyan][{ctx['number']}][/cyan] {escape(where)} [dim]({ctx['tokens']} tokens)[/dim]")
        from memcli.markup import prose

        body = Text("\n".join("    " + line for line in prose(ctx.get("text", "")).splitlines()), style="dim")
        if ans.evidence:
            # The evidence was read across wrapped lines: any whitespace between its words.
            import re

            words = ans.evidence.split()
            body.highlight_regex(r"\s+".join(re.escape(w) for w in words), style="bold yellow")
        out.print(body)


def explain_view(ans) -> None:
    """The ranked candidates (`mem ask --explain`): score, the columns that moved it most, text."""
    if not ans.explain:
        out.print("[dim]No candidates to explain.[/dim]")
        return
    t = Table(title=f"Candidates ({ans.pick} pick)", show_header=True, header_style="bold")
    for col in ("#", "score", "features", "sentence"):
        t.add_column(col, overflow="fold")
    for i, row in enumerate(ans.explain, start=1):
        feats = ", ".join(f"{k} {v:.2f}" for k, v in row["features"].items() if k != "bias" and v)
        t.add_row(str(i), f"{row['score']:.2f}", feats, escape(row["text"][:200]))  # "`[tool.uv]`" is no style tag
    out.print(t)
