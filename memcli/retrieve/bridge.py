"""Multi-hop bridging by title links: the second hop is a document the first hop names.

"Where was the director of Night Harbour born?": the first hop finds *Night Harbour*, whose
text names its director; the director's own page is what answers, and it shares few words
with the question. In a memory whose documents are titled by what they describe (a wiki, a
manual's pages, these multi-hop sets), a title mentioned in a top hit's text is such a link.
The linked documents are ranked by their dense similarity to the question and placed right
after the first-hop hits they came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from memcli.retrieve.policy import POLICY
from memcli.text import words as norm_words


class TitleIndex:
    """Normalised document title → the ids of the documents (sources) so titled.

    Built from the sources table once per version: one row a document, so a million-unit
    memory of twenty thousand files indexes twenty thousand titles, and nothing per query."""

    def __init__(self, rows: Sequence[dict], stop: frozenset[str] = frozenset(),
                 aliases: Sequence[tuple[str, str]] = ()) -> None:
        """``aliases``: (other name, title) pairs — a note's front-matter aliases and file name
        (graph "alias of" edges) — under which its text is linked too ([[Dan]] → Dan Okafor)."""
        self.by_title: dict[str, list[str]] = {}
        for r in rows:
            words = norm_words(r["title"] or "")
            key = " ".join(words)
            if not words or len(words) > POLICY.max_title_words or len(key) < POLICY.min_title_chars or key in stop:
                continue
            self.by_title.setdefault(key, []).append(r["id"])
        for alias, title in aliases:
            words = norm_words(alias)
            key, target = " ".join(words), " ".join(norm_words(title))
            # a name someone chose for a note may be short ("Dan"), never a lone letter pair
            if target in self.by_title and words and len(words) <= POLICY.max_title_words and len(key) >= POLICY.min_alias_chars \
                    and key not in stop and key not in self.by_title:
                self.by_title[key] = self.by_title[target]

    def mentioned(self, text: str) -> list[str]:
        """Titles named in ``text``, longest match first at each position, in text order."""
        words = norm_words(text)
        found: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(POLICY.max_title_words, len(words) - i), 0, -1):
                key = " ".join(words[i:i + n])
                if key in self.by_title:
                    if key not in found:
                        found.append(key)
                    i += n - 1
                    break
            i += 1
        return found


def bridge(fused: list[tuple[str, float]], titles: TitleIndex, rows: dict[str, dict],
           query_vec: np.ndarray | None, leaves: Callable[[list[str]], dict[str, list[tuple[str, np.ndarray]]]], *,
           seeds: int = 2, per_seed: int = 2) -> list[tuple[str, float]]:
    """``fused`` with the documents that its top ``seeds`` hits name inserted after them.

    ``leaves(source ids)``: each named document's units with their vectors, in order (one
    lookup for all of them)."""
    if not fused or not titles.by_title:
        return fused
    head = [u for u, _ in fused[:seeds]]
    own = {" ".join(norm_words(rows[u]["title"] or "")) for u in head if u in rows}
    named = {u: [t for t in titles.mentioned(rows[u]["text"]) if t not in own] for u in head if u in rows}
    wanted = sorted({d for ts in named.values() for t in ts for d in titles.by_title[t]})
    if not wanted:
        return fused
    units_of = leaves(wanted)
    out = list(fused[:seeds])
    placed = set(head)
    linked: list[str] = []
    for u in head:
        groups = [[(c, v) for d in titles.by_title[t] for c, v in units_of.get(d, ()) if c not in placed]
                  for t in named.get(u, ())]
        groups = [g for g in groups if g]
        if not groups:
            continue
        if query_vec is not None:  # each linked document by its unit closest to the question
            best = [max((float(v @ query_vec), c) for c, v in g) for g in groups]
            picks = [c for _, c in sorted(best, reverse=True)]
        else:
            picks = [g[0][0] for g in groups]
        for c in picks[:per_seed]:
            if c in placed:
                continue
            placed.add(c)
            linked.append(c)
    if not linked:
        return fused
    floor = fused[min(seeds, len(fused)) - 1][1]
    out.extend((c, floor - 1e-6 * (i + 1)) for i, c in enumerate(linked))
    out.extend((u, min(s, floor - 1e-6 * (len(linked) + 1))) for u, s in fused[seeds:] if u not in placed)
    return out
