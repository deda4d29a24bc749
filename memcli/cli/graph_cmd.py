"""`mem graph`: look at the knowledge graph memory built at ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.context import memory
from memcli.cli.options import JsonOpt

graph_app = typer.Typer(help="Inspect the knowledge graph (entities, relations, PPR retrieval).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")


@graph_app.command("show")
def show(
    entity: Annotated[str, typer.Argument(help="An entity name (case and whitespace are folded).")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many neighbours and relations.", min=1)] = 20,
    json_: JsonOpt = False,
) -> None:
    """An entity's neighbours and the relations that name it, with their sources."""
    view = memory().graph.show(entity, limit)
    if json_:
        render.emit_json(view.to_dict())
        return
    kind = f" [dim]{render.escape(view.type)}[/dim]" if view.type else ""
    render.out.print(f"[bold]{render.escape(view.entity)}[/bold]{kind}  mentioned in {view.mentioned_in} units")
    if view.neighbours:
        render.out.print("neighbours: " + ", ".join(
            render.escape(nb["name"]) + (f" [dim]({nb['type']})[/dim]" if nb["type"] else "") for nb in view.neighbours))
    for r in view.relations:
        render.out.print(f"  {render.escape(r['subject_name'])} —{render.escape(r['relation'])}→ "
                         f"{render.escape(r['object_name'])}  [dim]{render.escape(r['source'])}[/dim]")


@graph_app.command("build")
def build(json_: JsonOpt = False) -> None:
    """Extract entities and relations for units ingested without the graph (resumable)."""
    res = memory().graph.build()
    if json_:
        render.emit_json(res)
    else:
        render.out.print(f"extracted {res['units']} units: {res['entities']} entities, {res['relations']} relations"
                         + (f" ({res['unusable']} with nothing usable)" if res["unusable"] else ""))


@graph_app.command("stats")
def stats(json_: JsonOpt = False) -> None:
    """Entity, mention and relation counts, graph size, and extraction failures."""
    render.record("Graph", memory().graph.stats(), json_)


@graph_app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path("memory.graphml"),
    fmt: Annotated[Optional[str], typer.Option("--format", help="graphml (Gephi, Cytoscape).")] = "graphml",
    json_: JsonOpt = False,
) -> None:
    """Write the graph (entity and unit nodes, weighted edges) for Gephi or Cytoscape."""
    from memcli.errors import ConfigError

    if fmt != "graphml":
        raise ConfigError(f"unknown --format {fmt!r}; graphml is supported")
    st = memory().graph.export(output)
    if json_:
        render.emit_json({"output": str(output), **st})
    else:
        render.out.print(f"wrote {render.escape(str(output))}: {st['entities']} entities, "
                         f"{st['units']} units, {st['edges']} edges")
