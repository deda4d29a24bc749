"""Ask: retrieve -> assemble context -> answer (extractive or generated) -> citations.

Every answer carries the excerpts it used. When retrieval finds nothing close enough, or the
model says the memory does not hold the answer, the result is "Not in your memory" with the
closest hits shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator

from memcli.embed.base import UNCALIBRATED_FLOOR
from memcli.text import estimate_tokens
from memcli.answer.candidates import terms as _terms
from memcli.answer.context import Excerpt, build_context
from memcli.answer.compare import mentions
from memcli.answer.hops import bridge
from memcli.answer.pick import best_sentence, load_pick, onward
from memcli.answer.refusal import check as refusal_check
from memcli.answer.result import Answer, Citation
from memcli.answer.sides import Sides, Versus
from memcli.answer.grounding import CITE, carries, invented, new_words, supported
from memcli.llm.guard import RepeatGuard
from memcli.llm.prompts import NOT_IN_MEMORY, messages
from memcli.types import Hit



def _citations(excerpts: list[Excerpt]) -> list[Citation]:
    out = []
    for ex in excerpts:
        h = ex.first
        last = ex.hits[-1]
        out.append(Citation(ex.number, h.unit_id, h.uri, h.section, h.line_start, last.line_end,
                            round(ex.score, 4), h.event_time, h.trust))
    return out


def _context_rows(excerpts: list[Excerpt]) -> list[dict]:
    """The excerpts as `--json` and `--show-context` show them, in their numbered order."""
    rows = [{"number": e.number, "unit_ids": [h.unit_id for h in e.hits], "tokens": e.tokens,
             "uri": e.first.uri, "section": e.first.section, "line_start": e.first.line_start,
             "line_end": e.hits[-1].line_end, "text": e.text} for e in excerpts]
    return sorted(rows, key=lambda c: c["number"])


def _unit_holding(ex: Excerpt, text: str) -> str:
    """The unit of ``ex`` whose text holds ``text`` (an excerpt can merge several)."""
    probe = text[:40]
    return next((h.unit_id for h in ex.hits if probe and probe in h.text), ex.first.unit_id)


def _evidence_unit(best) -> str:
    return _unit_holding(best.excerpt, best.sentence)


def used_excerpts(answer: str, excerpts: list[Excerpt]) -> list[Excerpt]:
    """Excerpts the answer cites with [n]; failing that, those sharing its content words."""
    by_num = {e.number: e for e in excerpts}
    cited = [by_num[int(n)] for n in dict.fromkeys(CITE.findall(answer)) if int(n) in by_num]
    if cited:
        return cited
    words = set(_terms(answer))
    overlap = sorted(((len(words & set(_terms(e.text))), e) for e in excerpts), key=lambda x: -x[0])
    return [e for n, e in overlap if n >= 2][:2] or excerpts[:1]


def _renumbered(ex: Excerpt, number: int) -> Excerpt:
    return Excerpt(ex.hits, ex.text, ex.score, number=number, tokens=ex.tokens, meta=ex.meta)


def _answering(question: str, best) -> str:
    """What of the reader's line answers the question: the span head's best read of it (shown
    or not: "light honey class" in "The honey won second prize in the light honey class"), so
    that the line's restatement of the question ("won" for "win") is not mistaken for an
    answer; the whole line where no head is shipped or its read only restates the question."""
    from memcli.answer.span_head import load

    head = load()
    if head is None:
        return best.sentence
    got, _ = head.best(question, best.sentence)
    read = best.sentence[got[0]:got[1]] if got else ""
    return read if new_words(read, question) else best.sentence


def _line_excerpts(best, n: int) -> list[Excerpt]:
    """The reader's ``n`` best distinct lines, each an excerpt of its own (numbered 1..n) that
    keeps its note's provenance: what a generated answer is prompted with."""
    out: list[Excerpt] = []
    for r in best.ranked:
        c = r.cand
        if any(c.text in e.text or e.text in c.text for e in out):
            continue
        unit = _unit_holding(c.excerpt, c.text)
        hits = [h for h in c.excerpt.hits if h.unit_id == unit] or c.excerpt.hits[:1]
        out.append(Excerpt(hits, c.text, r.score, number=len(out) + 1, meta={"unit": unit}))
        if len(out) >= n:
            break
    return out


class Asker:
    def __init__(self, settings, search: Callable[..., list[Hit]], generator: Callable[[], object],
                 floor: Callable[[], float] | None = None, embed: Callable[[list[str]], object] | None = None,
                 doc_freq: Callable[[list[str]], dict[str, int]] | None = None,
                 dated: Callable[..., list[Hit]] | None = None, now=None) -> None:
        self.s = settings  # LLMSettings
        self.search = search
        self.dated = dated  # search within [since, until] of event time, for questions about time
        self.now = now  # "last month" is read relative to this (--as-of), else to now
        self.generator = generator
        self.embed = embed  # question/sentence similarity for the extractive pick
        self.floor = floor or (lambda: UNCALIBRATED_FLOOR)  # the embedder's calibrated abstention floor
        self.doc_freq = doc_freq  # the memory's term statistics, for refusal by coverage
        self.ranker = load_pick(self.s.pick, self.s.span)

    def _context(self, hits: list[Hit]) -> list[Excerpt]:
        """The extractive context of ``hits``: within ``llm.context_tokens``, by estimate."""
        return build_context(hits, budget=self.s.context_tokens, count_tokens=estimate_tokens)

    def _extract(self, question: str, hits: list[Hit]):
        """The extractive context and its best evidence (kept: the extractive answer reuses them)."""
        excerpts = self._context(hits)
        return excerpts, best_sentence(question, excerpts, self.embed, self.ranker)

    def _excerpts(self, query: str, k: int | None, mode: str | None) -> list[Excerpt]:
        return self._context(self.search(query, k=k or self.s.k, mode=mode))

    def _sides(self, k: int | None, mode: str | None) -> Sides:
        """The reader of each side of a question about two things, searching as this ask does."""
        return Sides(lambda q: self._excerpts(q, k, mode),
                     lambda q: self._extract(q, self.search(q, k=k or self.s.k, mode=mode))[1])

    def _second_hop(self, question: str, k: int | None, mode: str | None):
        """(first-hop evidence, second-hop evidence, bridge name, second question) when the
        question asks through a bridge ("the author of X") and memory names it; else None."""
        b = bridge(question)
        if b is None:
            return None
        got = self._sides(k, mode).subject(b.entity, b.role, b.question)
        if got is None:
            return None
        name, hop = got
        first = hop.line
        q2 = b.substitute(question, name)
        # The second hop is about the bridge: its answer comes from its own note (titled with
        # its name), else from a note that names it.
        found = self.search(q2, k=k or self.s.k, mode=mode)
        hits = [h for h in found if h.title and mentions(h.title, name)] or \
            [h for h in found if mentions(h.text, name)] or \
            [h for h in self.search(name, k=k or self.s.k, mode=mode) if mentions(h.text, name)]
        if not hits:
            return None
        _, second = self._extract(q2, hits)
        if second is None or second.other_speaker or self._refusal(q2, second):
            return None
        return first, second, name, q2

    def _refusal(self, question: str, best) -> str:
        """Why memory does not hold the answer, or "": the reader found no line that answers
        (its calibrated threshold), or the question names what memory never mentions."""
        if best is None:
            return ""
        floor = self.ranker.policy.refuse_below
        if floor is not None and best.score < floor:
            return f"no line in the closest notes answers it (the reader's best: {best.score:.2f}, under {floor:.2f})"
        if not self.s.refuse_uncovered or self.doc_freq is None:
            return ""
        # The notes the evidence's lines come from: a two-part answer may join two.
        sids = list(dict.fromkeys(e.first.source_id for e in (best.excerpt, *best.also) if e.first.source_id))

        def in_evidence(words):
            counts = [self.doc_freq(words, source_id=sid) for sid in sids]
            return {w: sum(c.get(w, 0) for c in counts) for w in words}

        r = refusal_check(question, [x.features.get("type", 0.0) for x in best.ranked], self.doc_freq,
                          in_evidence if sids else None)
        return r.reason() if r.refuse else ""

    def _about_time(self, question: str, how: str, k: int | None) -> Answer | None:
        """"What did I do on 12 April?" / "When did I last …?": answered from the units' dates
        (answer/when.py), each part with its date; None: not such a question, or memory holds
        nothing dated for it (the usual pipeline answers)."""
        from datetime import datetime

        from memcli.answer.policy import STAGES
        from memcli.answer.when import about, shifted_years, time_question, when_text

        tq = time_question(question, self.now) if self.dated is not None else None
        if tq is None:
            return None
        n = max(k or self.s.k, 20)
        when = lambda h: datetime.fromisoformat(h.event_time)  # noqa: E731
        if tq.kind == "range":
            picked = []
            for back in range(6 if tq.yearless else 1):  # "12 April": the latest one memory holds
                q = shifted_years(tq, back)
                hits = [h for h in self.dated(tq.topic or question, q.since, q.until, n) if h.event_time]
                on_topic = [h for h in hits if about(h.text, tq.topic) >= 0.5]
                picked = sorted(on_topic or ([] if tq.topic else hits), key=when)[:STAGES.max_listed]
                if picked:
                    break
        else:
            hits = [h for h in self.search(tq.topic, k=n) if h.event_time and about(h.text, tq.topic) >= 0.5]
            picked = sorted(hits, key=when)[-1:] if tq.kind == "last" else sorted(hits, key=when)[:1]
        if not picked:
            return None
        lines = [(h, _lead_sentences(h.text, tq.topic)) for h in picked]
        text = "; ".join(f"{when_text(when(h))}: {s}" for h, s in lines)
        # One citation per dated unit, even where two are neighbours in one file.
        excerpts = [x for h in picked for x in self._context([h])]
        for i, e in enumerate(excerpts, start=1):
            e.number = i
        first = picked[0] if tq.kind != "last" else picked[-1]
        return Answer(question, text, how, False, citations=_citations(excerpts), context=_context_rows(excerpts),
                      evidence=lines[0][1], evidence_date=str(first.event_time)[:10], evidence_unit=first.unit_id,
                      pick="dates", note=f"answered from the dates of {len(picked)} unit(s): "
                                         + ("the latest about it" if tq.kind == "last" else
                                            "the earliest about it" if tq.kind == "first" else "those dated then"))

    def stream(self, question: str, *, k: int | None = None, mode: str | None = None, answer: str | None = None,
               explain: bool = False) -> Generator[str, None, Answer]:
        """The answer pipeline as one generator: it yields the generated text as the model
        writes it and returns the finished ``Answer`` (memcli.answer.stream.AnswerStream)."""
        how = answer or self.s.answer
        dated = self._about_time(question, how, k)
        if dated is not None:
            return dated
        t0 = time.perf_counter()
        hits = self.search(question, k=k or self.s.k, mode=mode)
        timings = {"retrieve": time.perf_counter() - t0}
        top_dense = max((h.scores.get("dense", 1.0) for h in hits), default=0.0)
        floor = self.s.min_similarity if self.s.min_similarity is not None else self.floor()
        if self.ranker.reader is not None and self.s.min_similarity is None:
            floor = -1.0  # the reader reads the lines and decides (its threshold, in _refusal)
        extracted = None
        if hits and top_dense < floor and self.embed is not None:
            # A short question can sit far from every whole unit ("What does Rc stand for?") and
            # close to the one sentence that answers it: the best sentence's own similarity counts.
            extracted = self._extract(question, hits)
            top_dense = max(top_dense, (extracted[1].signals or {}).get("similarity", 0.0) if extracted[1] else 0.0)
        if not hits or top_dense < floor:
            return Answer(question, NOT_IN_MEMORY, how, True, closest=hits[:3], timings=timings,
                          refusal="nothing in memory is close to the question" if hits else "memory is empty")
        t = time.perf_counter()
        gen = self.generator() if how == "generate" else None
        timings["model_load"] = time.perf_counter() - t
        if gen is not None:
            budget = min(self.s.generate_context_tokens or self.s.context_tokens,
                         gen.n_ctx - self.s.max_tokens - 256)
            count = gen.count_tokens
        else:
            budget, count = self.s.context_tokens, estimate_tokens
        t = time.perf_counter()
        if gen is None:
            excerpts, best = extracted or self._extract(question, hits)
        else:
            excerpts = build_context(hits, budget=budget, count_tokens=count)
            best = best_sentence(question, excerpts, self.embed, self.ranker)
        timings["context"] = time.perf_counter() - t
        ans = Answer(question, "", how, False, context=_context_rows(excerpts), timings=timings,
                     evidence=best.sentence if best else None, evidence_date=best.date if best else None,
                     pick=self.ranker.name)
        if explain and best is not None:
            ans.explain = [{"text": r.cand.text, "score": round(r.score, 4), "features": {k: round(v, 4) for k, v in r.features.items()},
                            "uri": r.cand.excerpt.first.uri} for r in best.ranked[:10]]
        if best is not None:
            ans.answer_span = list(best.span) if best.span else None
            ans.evidence_unit = _evidence_unit(best)
            if best.other_speaker:
                # Memory holds what someone else said about it, or what the person asked about
                # said of someone else, not what the question asks.
                ans.answer, ans.abstained, ans.closest = NOT_IN_MEMORY, True, hits[:3]
                ans.refusal = f"the evidence is about someone other than {best.other_speaker}"
                return ans
            ans.refusal = self._refusal(question, best)
            if ans.refusal:
                ans.answer, ans.abstained, ans.closest = NOT_IN_MEMORY, True, hits[:3]
                return ans
        if gen is None:
            self._extractive(ans, question, k, mode, best, excerpts, hits)
            timings["answer"] = time.perf_counter() - t
            return ans
        # Two things compared are read side by side, not generated: a small model guesses
        # which date is earlier, the reading does not.
        versus = self._sides(k, mode).answer(question)
        if versus is not None:
            self._versus(ans, versus)
            ans.note += " (read from both notes, not generated)"
            return ans
        return (yield from self._generate(ans, gen, question, excerpts, best, hits))

    def _extractive(self, ans: Answer, question: str, k: int | None, mode: str | None, best,
                    excerpts: list[Excerpt], hits: list[Hit]) -> None:
        """The extractive answer: a comparison, a two-hop answer, or the picked sentence (or span)."""
        versus = self._sides(k, mode).answer(question)
        hop = self._second_hop(question, k, mode) if best is not None and versus is None else None
        if hop is None and versus is None and best is not None and best.span:
            through = onward(question, best, excerpts, self.ranker.span)
            hop = (best, through[1], through[0], question) if through else None
        if versus is not None:
            self._versus(ans, versus)
            return
        if best is None:
            ans.answer, ans.abstained, ans.closest = NOT_IN_MEMORY, True, hits[:3]
            ans.refusal = "no sentence in the closest excerpts answers it"
            return
        elif hop is not None:
            first, second, name, q2 = hop
            ans.answer, ans.evidence, ans.evidence_date = second.answer, second.sentence, second.date
            ans.answer_span = list(second.span) if second.span else None
            ans.evidence_unit = _evidence_unit(second)
            ans.hops = [{"question": q2, "bridge": name, "bridge_evidence": first.sentence}]
            ans.note = f"answered in two hops, through {name}"
            cited = [second.excerpt, first.excerpt]
        else:
            ans.answer = best.answer
            # No prompt to order for: the cited excerpt is [1], the rest follow by rank.
            cited = [best.excerpt]
            excerpts = cited + sorted((e for e in excerpts if e is not best.excerpt), key=lambda e: -e.score)
            for i, e in enumerate(excerpts, start=1):
                e.number = i
            ans.context = _context_rows(excerpts)
            ans.citations = _citations(cited)
            return
        for i, e in enumerate(cited, start=1):
            e.number = i
        ans.context = _context_rows(cited)
        ans.citations = _citations(cited)

    @staticmethod
    def _versus(ans: Answer, versus: Versus) -> None:
        """A question about two things, answered by reading each: the answer, both sides'
        lines as the evidence, and every note read (the sides', and the bridges') cited."""
        ans.answer, ans.note = versus.answer, versus.note
        ans.evidence = " ".join(side.text for side in versus.sides)
        first = versus.sides[0]
        ans.answer_span, ans.evidence_unit = None, _unit_holding(first.excerpt, first.text)
        ans.hops = [{"question": side.via.question, "bridge": side.via.name, "bridge_evidence": side.via.line.sentence}
                    for side in versus.sides if side.via] or None
        read = [side.excerpt for side in versus.sides] + [side.via.line.excerpt for side in versus.sides if side.via]
        cited = list({e.first.unit_id: e for e in read}.values())
        for i, e in enumerate(cited, start=1):
            e.number = i
        ans.context = _context_rows(cited)
        ans.citations = _citations(cited)

    def _generate(self, ans: Answer, gen, question: str, excerpts: list[Excerpt], best,
                  hits: list[Hit]) -> Generator[str, None, Answer]:
        ans.model = gen.name
        t = time.perf_counter()
        guard = RepeatGuard()
        first = None
        # A small model copies what it is shown: shown the reader's best lines (not whole
        # excerpts), it answers with them; the citations are those lines' notes.
        excerpts = _line_excerpts(best, self.s.generate_lines) if best is not None else excerpts
        stream = gen.stream(messages(question, excerpts), max_tokens=self.s.max_tokens, temperature=self.s.temperature)
        try:
            for piece in stream:
                if first is None:
                    first = time.perf_counter() - t
                shown = guard.feed(piece)
                if shown:
                    yield shown
                if guard.stopped:
                    break  # a loop: the rest would only repeat
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        rest = guard.finish()
        if rest:
            yield rest
        text = guard.text.strip()
        ans.timings["first_token"] = first or 0.0
        ans.timings["generate"] = time.perf_counter() - t
        if guard.stopped:
            ans.note = "generation stopped at a repeated sentence"
        ans.answer = text
        if not text or "not in your memory" in text.lower():
            ans.abstained, ans.answer, ans.closest = True, NOT_IN_MEMORY, hits[:3]
            ans.refusal = "the model found no answer in the excerpts"
        elif best is not None and ((made_up := invented(text, shown := "\n".join(e.text for e in excerpts)))
                                   or not (grounded := supported(text, shown)) or not carries(text, _answering(question, best), question)):
            # The model wrote something the lines do not say, or left out what the reader's line
            # answers: the reader's line instead.
            ans.generated, ans.answer = text, best.answer
            ans.evidence, ans.evidence_unit = best.sentence, _evidence_unit(best)
            ans.note = ("The model's answer " + (f"named {', '.join(made_up[:3])}, which your notes do not mention"
                        if made_up else "said things your notes do not" if not grounded
                        else "left out what your notes say") + ", so this is the line from your notes that answers it.")
            ans.citations = _citations([_renumbered(best.excerpt, 1)])
        else:
            used = used_excerpts(text, excerpts)
            ans.citations = _citations(used)
            if best is not None and used:
                # The evidence is the first line the answer cites, so that both name one note.
                ans.evidence = used[0].text
                ans.evidence_unit = used[0].meta.get("unit") or ans.evidence_unit
        return ans


def _lead_sentences(text: str, topic: str, limit: int = 220) -> str:
    """What a dated unit says, in a line: its first sentence about ``topic`` (else its first),
    markup and heading lines gone."""
    from memcli.answer.when import about
    from memcli.markup import prose

    body = "\n".join(ln for ln in text.splitlines() if not re.match(r"\s{0,3}#{1,6}\s", ln))  # headings: the date's, the title's
    lines = [ln for ln in prose(body or text).splitlines() if ln.strip()]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(lines)) if s.strip()]
    best = next((s for s in sentences if topic and about(s, topic) >= 0.5), sentences[0] if sentences else "")
    return best if len(best) <= limit else best[: limit - 1].rsplit(" ", 1)[0] + "…"
