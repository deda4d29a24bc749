"""`mem doctor`: check that the stores agree, and repair what a crash or a bug left behind.

Checks: an interrupted write (journal), pending units, units in one store but not the other,
units without a source and sources without their units, the embedder fingerprint, a stale
writer pid, and the home's permissions. ``repair=True`` fixes each (under the write lock).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from memcli.store.lexical import ROW_COLUMNS
from memcli.store.lock import pid_alive
from memcli.store.query import KEPT, units


@dataclass
class Finding:
    check: str
    ok: bool
    detail: str
    repaired: bool = False


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(f.ok or f.repaired for f in self.findings)

    def to_dict(self) -> dict:
        return {"healthy": self.healthy, "findings": [asdict(f) for f in self.findings]}


def diagnose(home: Path, cat, configured_model: str, *, repair: bool = False,
             home_mode: int | None = None) -> DoctorReport:
    """Check (and with ``repair``, fix through ``cat``, the Catalog) one home's stores;
    ``configured_model`` is the embedder the settings name; ``home_mode`` the home's mode
    as found (opening the stores tightens it)."""
    rep = DoctorReport()
    add = rep.findings.append
    lance, lex = cat.lance, cat.lexical

    mode = home_mode if home_mode is not None else home.stat().st_mode & 0o777
    f = Finding("home permissions", mode == 0o700, f"{home} is {oct(mode)}")
    if not f.ok and repair:
        os.chmod(home, 0o700)
        f.repaired = True
    add(f)

    pid_file = home / "write.pid"
    pid = pid_file.read_text().strip() if pid_file.exists() else ""
    stale = bool(pid) and pid.isdigit() and not pid_alive(int(pid))
    f = Finding("write lock", not stale, f"stale writer pid {pid}" if stale else "no stale writer")
    if stale and repair:
        pid_file.unlink(missing_ok=True)
        f.repaired = True
    add(f)

    j = cat.journal.pending()
    f = Finding("interrupted write", j is None,
                f"a killed {j.get('op')} left {len(j.get('sources') or [])} source(s) half-written" if j else "none")
    if j is not None and repair:
        cat.recover()
        f.repaired = True
    add(f)

    pending = lance.count_units(units(status="pending"))
    f = Finding("pending units", pending == 0, f"{pending} uncommitted unit(s)")
    if pending and repair:
        cat.delete_pending()
        f.repaired = True
    add(f)

    stored = lance.fingerprint()
    configured = configured_model
    same = not stored or stored.get("embed_model") == configured or configured.startswith("fake")
    detail = (f"vectors: {stored.get('embed_model')} (dim {stored.get('embed_dim')}); configured: {configured}"
              if stored else "no vectors yet")
    add(Finding("embedding model", same, detail if same else detail + " — run `mem reindex` (not done by --repair)"))

    sources = lance.source_map()
    tbl = lance.committed([*ROW_COLUMNS, "source_hash"])
    rows = [] if tbl is None else tbl.to_pylist()

    orphan_units = [r["id"] for r in rows if r["source_id"] not in sources
                    or r["source_hash"] != sources[r["source_id"]].content_hash]
    f = Finding("units without their source", not orphan_units, f"{len(orphan_units)} unit(s)")
    if orphan_units and repair:
        cat.drop_orphan_units(orphan_units)
        f.repaired = True
    add(f)

    # A source's units include those consolidation moved out of the live set (merged,
    # superseded, archived); summaries (level > 0) are extra.
    kept: dict[str, int] = {}
    for r in lance.units_where(units(status=KEPT, level=0), ["source_id"]):
        kept[r["source_id"]] = kept.get(r["source_id"], 0) + 1
    broken = [s for s in sources.values() if kept.get(s.source_id, 0) != s.n_units]
    f = Finding("sources with all their units", not broken,
                f"{len(broken)} source(s) short of units" + (f", e.g. {broken[0].uri}" if broken else ""))
    if broken and repair:
        # Dropping the source makes the next `mem ingest` of its file rebuild it whole.
        cat.forget([s.source_id for s in broken])
        f.repaired = True
    add(f)

    orphans = set(orphan_units)  # once: rebuilt per row it made a home full of orphans quadratic
    lance_ids = {r["id"] for r in rows if r["id"] not in orphans}
    # An index to rebuild: made by another version of mem, with fields this one does not know
    # (unusable here), or made before the index stored rows (searches read them from LanceDB,
    # slower at scale).
    stale = (("lexical index opens with this version's schema", "made by another version of mem") if lex.foreign
             else ("lexical index stores the rows a search shows", "made by an older mem") if not lex.has_rows
             else None)
    if stale:
        f = Finding(stale[0], False, f"{stale[1]}: --repair rebuilds it (stop `mem serve` first)")
        if repair:
            lex.reset()
            f.repaired = True
        add(f)
    if not lex.foreign:  # one that does not open cannot be compared; its finding says so above
        lex_ids = lex.all_ids()
        extra, missing = lex_ids - lance_ids, lance_ids - lex_ids
        f = Finding("lexical index matches LanceDB", not extra and not missing,
                    f"{len(extra)} orphan doc(s) in Tantivy, {len(missing)} unit(s) missing from it")
        if (extra or missing) and repair:
            cat.sync_lexical(sorted(extra), [r for r in rows if r["id"] in missing])
            f.repaired = True
        add(f)

    g = cat.graph
    if g is not None and g.exists():
        units_seen: set[str] = set()
        for name in ("mentions", "relations"):
            tbl = g.all(name, ["unit_id"])
            if tbl is not None:
                units_seen |= set(tbl.column("unit_id").to_pylist())
        # Merged/superseded/archived units keep their graph rows (a forget may revive them).
        kept_ids = {r["id"] for r in lance.units_where(units(status=KEPT), ["id"])}
        dangling = units_seen - kept_ids
        f = Finding("graph matches LanceDB", not dangling, f"{len(dangling)} unit(s) in the graph but not in memory")
        if dangling and repair:
            cat.drop_graph_orphans()
            f.repaired = True
        add(f)
    return rep


def plugin_finding():
    """`mem doctor`'s line for plugins (None: none installed). A plugin that failed to load is
    named with its error; memory itself is not at fault, so it does not fail the check."""
    from memcli.plugins import entry_points, load

    if not entry_points():
        return None
    loaded = load()
    if loaded.failures:
        bad = "; ".join(f"{f['name']}: {f['error']}" for f in loaded.failures)
        return Finding("plugins", True, f"{len(loaded.failures)} failed to load ({bad}); {len(loaded.plugins)} loaded")
    return Finding("plugins", True, f"{len(loaded.plugins)} loaded: " + ", ".join(p["name"] for p in loaded.plugins))
