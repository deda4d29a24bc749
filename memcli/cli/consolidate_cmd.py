"""`mem consolidate`, `mem pin`, `mem history`, `mem schedule`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.context import memory, state
from memcli.cli.help import complete_path
from memcli.cli.options import JsonOpt

schedule_app = typer.Typer(help="Run `mem consolidate` from cron for this memory home.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("consolidate")(consolidate)
    app.command("pin")(pin)
    app.command("history")(history)
    app.add_typer(schedule_app, name="schedule")


def consolidate(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")] = False,
    only: Annotated[Optional[list[str]], typer.Option("--only", help="Run only this step (repeatable): dedupe, supersede, summarize, decay, compact.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List the units each step touched.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Dedupe, mark superseded facts, write summaries, let unused memory decay, compact.

    Takes the same write lock as `mem ingest`; run it from cron with `mem schedule install`.
    """
    rep = memory().consolidate(dry_run=dry_run, only=only)
    if json_:
        render.emit_json(rep.to_dict(verbose))
        return
    head = "would change (dry run)" if dry_run else "done"
    render.out.print(f"[bold]consolidate[/bold] — {head}")
    for s in rep.steps:
        render.out.print(f"  {s.step:10s} {_counts(s.counts)}  [dim]{s.seconds:.2f}s[/dim]")
        if verbose:
            for u in s.units[:50]:
                render.out.print(f"      {render.escape(u)}")
    b, a = rep.before["units"], rep.after["units"]
    live = b.get("committed", 0)
    if dry_run:
        # Nothing was written: the after-state is what the steps say they would do.
        c = {s.step: s.counts for s in rep.steps}
        gone = sum(c.get(step, {}).get(k, 0) for step, k in (("dedupe", "merged"), ("supersede", "superseded"),
                                                              ("decay", "archived")))
        after = live - gone + c.get("summarize", {}).get("summaries", 0)
        render.out.print(f"  live units {live} → {after} (would be); disk {rep.before['disk_bytes'] / 1e6:.1f} MB now "
                         f"(compaction is not simulated)")
    else:
        render.out.print(f"  live units {live} → {a.get('committed', 0)}; "
                         f"disk {rep.before['disk_bytes'] / 1e6:.1f} MB → {rep.after['disk_bytes'] / 1e6:.1f} MB")


def _counts(counts: dict) -> str:
    """"merged 3, levels 1: 4, 2: 1" — nested counts read as words, not as a Python dict."""
    def one(v):
        if isinstance(v, dict):
            return ", ".join(f"{k}: {x}" for k, x in v.items()) or "none"
        return str(v)
    return ", ".join(f"{k.replace('_', ' ')} {one(v)}" for k, v in counts.items())


def pin(
    ref: Annotated[str, typer.Argument(help="A unit id, or a source (path, directory or source id).", autocompletion=complete_path)],
    unpin: Annotated[bool, typer.Option("--unpin", help="Let it decay again.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Make memory evergreen: pinned units never decay or get archived."""
    n = memory().pin(ref, pinned=not unpin)
    if json_:
        render.emit_json({"ref": ref, "pinned": not unpin, "units": n})
    else:
        render.out.print(f"{'unpinned' if unpin else 'pinned'} {n} unit(s)")


def history(
    unit: Annotated[str, typer.Argument(help="A unit id (or a unique prefix of at least 6 characters).")],
    json_: JsonOpt = False,
) -> None:
    """A fact's history: the units that superseded or replaced each other (a newer fact, an
    edit of the file), oldest first, each with the window memory held it (what --as-of reads)."""
    chain = memory().history(unit)
    if json_:
        render.emit_json([r.to_dict() for r in chain])
        return
    for r in chain:
        when = (r.event_time or r.ingested_at).date().isoformat()
        label = r.status if r.status != "committed" else "current"
        held = f"held {(r.valid_from or r.ingested_at):%Y-%m-%d %H:%M} → " + (
            f"{r.valid_to:%Y-%m-%d %H:%M}" if r.valid_to else "now")
        render.out.print(f"[bold]{when}[/bold] {label}  [dim]{held}  {r.id}[/dim]")
        render.out.print(f"    {render.escape(r['text'][:200])}")


@schedule_app.command("install")
def schedule_install(
    every: Annotated[str, typer.Option("--every", help="How often: 30m, 6h, 1d, 1w.")] = "1d",
    json_: JsonOpt = False,
) -> None:
    """Add (or replace) the crontab line that consolidates this memory home."""
    from memcli.consolidate import schedule

    home = memory().ensure_home()
    e = schedule.install(home, every, config=state.config)
    if json_:
        render.emit_json({"installed": True, "line": e.line, "crontab": e.target})
    else:
        render.out.print(f"installed in {e.target}:\n  {render.escape(e.line)}")


@schedule_app.command("show")
def schedule_show(json_: JsonOpt = False) -> None:
    """The crontab line for this home and how its last run went."""
    from memcli.consolidate import schedule

    home = memory().home
    e = schedule.find(home)
    if json_:
        render.emit_json({"installed": e is not None, "line": e.line if e else schedule.command_for(home),
                          "last_run": e.last_run if e else schedule.last_run(home)})
        return
    if e is None:
        render.out.print("not scheduled; `mem schedule install --every 1d` adds:\n  "
                         + render.escape(f"17 3 * * * {schedule.command_for(home)}"))
        return
    render.out.print(f"{e.target}:\n  {render.escape(e.line)}")
    lr = e.last_run
    if lr is None:
        render.out.print("last run: never (no log yet)")
    else:
        from datetime import datetime

        at = datetime.fromtimestamp(lr["at"]).isoformat(timespec="seconds")
        render.out.print(f"last run: {at} — {'ok' if lr['ok'] else 'FAILED: ' + render.escape(lr.get('error', ''))}")


@schedule_app.command("remove")
def schedule_remove(json_: JsonOpt = False) -> None:
    """Remove this home's crontab line (other lines are untouched)."""
    from memcli.consolidate import schedule

    n = schedule.remove(memory().home)
    if json_:
        render.emit_json({"removed": n})
    else:
        render.out.print(f"removed {n} line(s)")


def forget_weak(mem, older: str, yes: bool, json_: bool) -> None:
    """`mem forget --weak`: list the decayed units that would go; delete them with --yes."""
    from memcli.consolidate.steps import older_than

    cutoff = older_than(older)
    recs = mem.weak_units(cutoff, forget=True) if yes else mem.weak_units(cutoff)
    items = [{"unit_id": r.id, "source": r.uri, "section": r.section, "text": r.text[:120]} for r in recs]
    if json_:
        render.emit_json({"deleted": yes, "units": items})
        return
    for it in items:
        render.out.print(f"  {render.escape(it['source'])} § {render.escape(it['section'] or '')}: "
                         f"{render.escape(it['text'])}")
    if yes:
        render.out.print(f"deleted {len(items)} weak unit(s)")
    else:
        render.out.print(f"{len(items)} weak unit(s) would be deleted; add --yes to delete them")



