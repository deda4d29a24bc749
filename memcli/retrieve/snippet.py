"""Query-term matching for snippets and highlighting (light stemming by shared prefix)."""

from __future__ import annotations

from memcli.text import STOP, WORD as _WORD, stem_key  # noqa: F401  (STOP re-exported)


def query_terms(query: str) -> list[str]:
    terms = []
    for w in _WORD.findall(query.lower()):
        if w not in STOP and w not in terms:
            terms.append(w)
    return terms


def term_matches(word: str, terms: list[str]) -> bool:
    wl = word.lower()
    return any(wl == t or (len(t) > 3 and wl.startswith(stem_key(t))) for t in terms)


def snippet(text: str, query: str, width: int = 40) -> str:
    """The ``width``-word window of ``text`` holding the most query terms."""
    words = text.split()
    if len(words) <= width:
        return " ".join(words)
    terms = query_terms(query)
    hits = [1 if term_matches(w.strip(".,;:!?()[]\"'"), terms) else 0 for w in words]
    cur = sum(hits[:width])
    best, best_i = cur, 0
    for i in range(1, len(words) - width + 1):
        cur += hits[i + width - 1] - hits[i - 1]
        if cur > best:
            best, best_i = cur, i
    start = max(0, best_i - 3) if best > 0 else 0
    out = " ".join(words[start:start + width])
    return ("… " if start > 0 else "") + out + (" …" if start + width < len(words) else "")


def merge_adjacent(hits: list) -> list:
    """For reading: hits that are neighbouring units of one document (their line spans touch
    or overlap) become one hit spanning both, at the better rank. Conversation turns keep
    their own hits (their speakers and times differ)."""
    from dataclasses import replace

    out: list = []
    for h in hits:
        mate = next((o for o in out if o.source_id == h.source_id and not h.speaker and not o.speaker
                     and o.line_start > 0 and h.line_start > 0
                     and h.line_start <= o.line_end + 1 and o.line_start <= h.line_end + 1), None)
        if mate is None:
            out.append(replace(h))
            continue
        first, second = (mate, h) if mate.line_start <= h.line_start else (h, mate)
        mate.text = first.text + "\n\n" + second.text
        mate.line_start, mate.line_end = min(mate.line_start, h.line_start), max(mate.line_end, h.line_end)
        mate.char_start, mate.char_end = min(mate.char_start, h.char_start), max(mate.char_end, h.char_end)
        mate.section = first.section if first.section == second.section else first.section.split(" › ")[0]
    for i, h in enumerate(out, start=1):
        h.rank = i
    return out
