"""The history an edit leaves, for `--as-of` (issue #37): one step of LanceStore.commit_units.

Kept apart from the store's reads and writes: it is the only place that turns live units into
``replaced`` ones, and it runs inside the ingest's journaled write (a crash before the commit
wipes the sources, as any interrupted write does).
"""

from __future__ import annotations

from datetime import datetime, timezone

from memcli.store.query import REPLACED, chunks, in_list, lit


def keep_replaced(t, ids: str) -> None:
    """Before an edited file's units are replaced (``ids``: its source ids as an SQL list):
    new units whose text the old ones had keep the old ``valid_from``; old units whose text is
    gone become ``replaced``, valid until now, each pointing at the unit now at its place."""
    cols = ["id", "source_id", "text", "ord", "level", "valid_from", "ingested_at", "status"]
    rows = t.search().where(f"source_id IN {ids} AND status IN ('committed', 'pending')").select(cols).limit(
        None).to_arrow().to_pylist()
    old = [r for r in rows if r["status"] == "committed" and r["level"] == 0]
    new = [r for r in rows if r["status"] == "pending" and r["level"] == 0]
    if not old or not new:
        return
    first = {(r["source_id"], r["text"]): r["valid_from"] or r["ingested_at"] for r in old}
    inherit: dict[object, list[str]] = {}
    for r in new:
        since = first.get((r["source_id"], r["text"]))
        if since is not None:
            inherit.setdefault(since, []).append(r["id"])
    for since, uids in inherit.items():
        for part in chunks(uids):
            t.update(where=in_list("id", part), values={"valid_from": since})
    kept = {(r["source_id"], r["text"]) for r in new}
    gone = [r for r in old if (r["source_id"], r["text"]) not in kept]
    if not gone:
        return
    now = datetime.now(timezone.utc)
    by_ord = {}
    for r in new:
        by_ord.setdefault(r["source_id"], {})[r["ord"]] = r["id"]
    for part in chunks([r["id"] for r in gone]):
        t.update(where=in_list("id", part), values={"status": REPLACED, "valid_to": now})
    if len(gone) <= 20:  # `mem history`: what took its place (the unit now at its position)
        for r in gone:
            place = by_ord.get(r["source_id"], {})
            near = min(place, key=lambda o: abs(o - r["ord"]), default=None)
            if near is not None:
                t.update(where=f"id = {lit(r['id'])}", values={"superseded_by": place[near]})

