"""LoCoMo: conversation memory recall by evidence turns, per question category.

Each conversation is written as its own LoCoMo file and ingested with `mem ingest` into a
throw-away home (conversation units keep their turn ids). For every question the ranked
units are mapped to the turns they span and scored:

- ``evidence_recall@k``: share of the question's evidence turns inside the top-k units;
- ``evidence_recall@Btok``: walking the ranking unit by unit and turn by turn, counting
  ``len("speaker: text".split())`` per turn, a turn is read while the running total <= B.
  This compares unit granularities fairly: a bigger unit covers more turns at the same k.

Overall metrics cover categories 1-4; category 5 (adversarial) is reported by itself.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

from memcli.config import Settings
from memcli.errors import NotFoundError, ReadError
from memcli.eval.fullcontext import answer_full
from memcli.eval.metrics import mean
from memcli.eval.runner import MODE_SPECS, NEIGHBOURS, EvalProgress, consolidate_for_eval, eval_workdir, ranked_for, rerankers_for, with_graph

_EVIDENCE = re.compile(r"D(\d+):(\d+)")
KS = (5, 10, 20)
BUDGETS = (512, 1024, 2048)
ANSWERABLE = {"1", "2", "3", "4"}


def evidence_ids(evidence: Sequence[str]) -> set[str]:
    out = set()
    for e in evidence or []:
        out.update(f"D{int(a)}:{int(b)}" for a, b in _EVIDENCE.findall(str(e)))  # "D30:05" is turn D30:5
    return out


def turn_words(conversation: dict) -> dict[str, int]:
    words = {}
    for key, turns in conversation.items():
        if re.fullmatch(r"session_\d+", key) and isinstance(turns, list):
            for t in turns:
                if isinstance(t, dict) and "dia_id" in t:
                    words[str(t["dia_id"])] = len(f"{t.get('speaker', '')}: {t.get('text', '')}".split())
    return words


def recall_at_budget(ranked_turns: Sequence[Sequence[str]], gold: set[str], words: dict[str, int], budget: int) -> float:
    if not gold:
        return 0.0
    total, read = 0, set()
    for turns in ranked_turns:
        for tid in turns:
            total += words.get(tid, 0)
            if total > budget:
                return len(gold & read) / len(gold)
            read.add(tid)
    return len(gold & read) / len(gold)


def spaced(items: list, n: int | None) -> list:
    """At most ``n`` items, evenly spaced: LoCoMo lists its QA by category, so a prefix would
    drop whole categories."""
    if n is None or n >= len(items):
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def score_question(ranked_turns: list[list[str]], gold: set[str], words: dict[str, int],
                   ks: Sequence[int] = KS) -> dict[str, float]:
    out = {}
    for k in ks:
        covered = {t for turns in ranked_turns[:k] for t in turns}
        out[f"evidence_recall@{k}"] = len(gold & covered) / len(gold) if gold else 0.0
    for b in BUDGETS:
        out[f"evidence_recall@{b}tok"] = recall_at_budget(ranked_turns, gold, words, b)
    return out


def load_locomo(path: Path) -> list[dict]:
    if not path.exists():
        raise NotFoundError(f"{path} not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ReadError(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from None
    if not isinstance(data, list) or not all(isinstance(c, dict) and "conversation" in c for c in data):
        raise ReadError(f"{path}: not a LoCoMo file (a list of samples with 'conversation')")
    return data


def _aggregate(scored: list[tuple[str, dict[str, float]]]) -> tuple[dict, dict]:
    keys = list(scored[0][1]) if scored else []
    overall = [s for c, s in scored if c in ANSWERABLE]
    metrics = {k: round(mean([s[k] for s in overall]), 4) for k in keys}
    by_cat = {}
    for cat in sorted({c for c, _ in scored}):
        rows = [s for c, s in scored if c == cat]
        by_cat[cat] = {k: round(mean([s[k] for s in rows]), 4) for k in keys} | {"queries": len(rows)}
    return metrics, by_cat


def gold_answer(q: dict) -> str:
    ans = str(q.get("answer", ""))
    # The reference code keeps only the part before the first ';' for category 3.
    return ans.split(";")[0] if str(q.get("category")) == "3" else ans


def score_answer(ans, q: dict) -> dict[str, float]:
    from memcli.eval.metrics import token_f1

    if str(q.get("category")) == "5":
        return {"abstained": float(ans.abstained)}
    return {"f1": token_f1(ans.answer, gold_answer(q)), "abstained": float(ans.abstained)}


def locomo_eval(*, path: Path, settings: Settings, modes: Sequence[str], limit: int | None = None,
                workdir: Path | None = None, on_progress: Callable[[EvalProgress], None] | None = None,
                embedder=None, answers: Sequence[str] = (), generator=None, ks: Sequence[int] = KS,
                consolidate: bool = False, questions: int | None = None) -> dict:
    from memcli.memory import Memory

    progress = on_progress or (lambda p: None)
    convs = load_locomo(path)[:limit]
    with eval_workdir(workdir, "mem-eval-locomo-") as workdir:
        scored: dict[str, list[tuple[str, dict[str, float]]]] = {m: [] for m in modes}
        seconds = {m: 0.0 for m in modes}
        answered: dict[str, list[tuple[str, dict[str, float]]]] = {}
        answer_s: dict[str, float] = {}
        full_seen: list[float] = []
        per_query, units_total, ingest_s, consolidated, dropped = [], 0, 0.0, [], []
        n_questions = sum(len(spaced(c.get("qa", []), questions)) for c in convs)
        rerankers = rerankers_for(modes, settings, generator)
        # Answer rows: each answer mode with the default search, and again after each reranker.
        answer_runs = [(how, None) for how in answers] + [
            (how, rr) for how in answers if how != "full" for rr in rerankers.values()]
        full_gen, full_cache = None, {}
        done = 0
        for ci, conv in enumerate(convs):
            sid = str(conv.get("sample_id") or f"conversation-{ci + 1}")
            cdir = workdir / re.sub(r"[^\w.-]", "_", sid)
            cdir.mkdir(parents=True, exist_ok=True)
            f = cdir / "conversation.json"
            body = json.dumps([{"sample_id": sid, "conversation": conv["conversation"]}], ensure_ascii=False)
            if not f.exists() or f.read_text(encoding="utf-8") != body:
                f.write_text(body, encoding="utf-8")  # the QA never goes into memory
            s = with_graph(settings.model_copy(update={"home": cdir / "home"}), modes)
            mem = Memory(s, embedder=embedder, generator=generator)
            t0 = time.perf_counter()
            mem.ingest([f], on_progress=lambda p: progress(EvalProgress(f"ingest {sid}", ci + 1, len(convs))))
            if s.graph.enabled:
                mem.graph.build()  # a kept workdir first ingested without the graph
            ingest_s += time.perf_counter() - t0
            if consolidate:
                consolidated.append(consolidate_for_eval(mem))
            embedder = mem._embedder  # load the model once for all conversations
            turns_of = _unit_turns(mem)
            units_total += len(turns_of)
            words = turn_words(conv["conversation"])
            as_of = _last_session_time(conv["conversation"])
            qa = spaced(list(enumerate(conv.get("qa", []))), questions)
            mem._prime_queries([str(q["question"]) for _, q in qa])
            retriever = mem._retriever
            n = max(s.search.candidates, 200)
            for qi, q in qa:
                cat = str(q.get("category"))
                gold = evidence_ids(q.get("evidence", []))
                missing = gold - set(words)
                if missing:  # an evidence id naming no turn of this conversation: reported, not scored
                    dropped.append({"question": f"{sid}#{qi}", "ids": sorted(missing)})
                    gold -= missing
                entry = {"id": f"{sid}#{qi}", "conversation": sid, "category": cat,
                         "question": q["question"], "evidence": sorted(gold), "modes": {}}
                for name in modes:
                    mode, _ = MODE_SPECS[name]
                    t = time.perf_counter()
                    fused, _ = ranked_for(retriever, name, q["question"], n)
                    if name != "hybrid-time" and mode == "hybrid":  # as `mem search` does
                        fused = retriever.time_boost(q["question"], fused, now=as_of)
                    if name in rerankers:
                        fused = retriever.rerank(q["question"], fused, rerankers[name])
                    fused = retriever.expand_neighbours(fused, NEIGHBOURS.get(name, 0))
                    ranked = [turns_of[u] for u, _ in fused if u in turns_of]
                    seconds[name] += time.perf_counter() - t
                    sc = score_question(ranked, gold, words, ks)
                    if gold:
                        scored[name].append((cat, sc))
                    entry["modes"][name] = {k: round(v, 4) for k, v in sc.items()} | {"top_turns": ranked[:3]}
                for how, rr in answer_runs:
                    label = how + (f"+{rr.name}" if rr else "")
                    t = time.perf_counter()
                    if how == "full":
                        full_gen = full_gen or generator or _full_window_generator(settings)
                        text, abstained, tr = answer_full(full_gen, conv["conversation"], q["question"],
                                                          max_tokens=s.llm.max_tokens, cache=full_cache)
                        ans = SimpleNamespace(answer=text, abstained=abstained)
                        if gold and cat in ANSWERABLE:
                            full_seen.append(len(gold & tr.turns_kept) / len(gold))
                    else:
                        ans = mem.ask(q["question"], answer=how, reranker=rr)
                    answer_s[label] = answer_s.get(label, 0.0) + time.perf_counter() - t
                    sc = score_answer(ans, q)
                    answered.setdefault(label, []).append((cat, sc))
                    entry["modes"][f"answer/{label}"] = {"answer": ans.answer, **{k: round(v, 4) for k, v in sc.items()}}
                if "generate" in answers:
                    generator = mem._generator  # load the GGUF once for all conversations
                per_query.append(entry)
                done += 1
                progress(EvalProgress("questions", done, n_questions))
        rows = []
        for name in modes:
            metrics, by_cat = _aggregate(scored[name])
            rows.append({"name": name, "metrics": metrics, "by_category": by_cat, "seconds": round(seconds[name], 3)})
        for label, sc in answered.items():
            row = _answer_row(label, sc, answer_s[label])
            model = full_gen if label == "full" else generator if label.startswith("generate") else None
            if model is not None:
                row["model"] = model.name  # which GGUF wrote these answers
            if label == "full" and full_cache:
                seen = list(full_cache.values())
                row["context"] = {
                    "n_ctx": full_gen.n_ctx, "truncated_conversations": sum(t.truncated for t in seen),
                    "transcript_share_seen": round(mean([t.tokens_kept / t.tokens_total for t in seen]), 4),
                    "evidence_share_seen": round(mean(full_seen), 4),
                    "note": "latest turns kept where the conversation exceeds the model window"}
            rows.append(row)
        answerable = [q for q in per_query if q["category"] in ANSWERABLE]
        return {
            # Recall is averaged over answerable questions that have evidence turns: that is "queries".
            "benchmark": "locomo", "dataset": path.name, "queries": sum(1 for q in answerable if q["evidence"]),
            "questions": {"answerable": len(answerable), "without_evidence": sum(1 for q in answerable if not q["evidence"]),
                          "adversarial": sum(1 for q in per_query if q["category"] == "5"),
                          "dropped_evidence_ids": dropped},
            "rows": rows, "per_query": per_query,
            "ingest": {"conversations": len(convs), "units": units_total, "seconds": round(ingest_s, 3),
                       "consolidate": _sum_counts(consolidated) if consolidate else None},
            "questions_per_conversation": questions,
            "settings": {"chat_units": settings.segment.chat_units, "chat_min_tokens": settings.segment.chat_min_tokens,
                         "chat_max_tokens": settings.segment.chat_max_tokens, "fusion_default": settings.search.fusion},
        }


def _sum_counts(reports: list[dict]) -> dict:
    out: dict = {"before": {}, "after": {}, "steps": {}}
    for r in reports:
        for side in ("before", "after"):
            for k, v in r[side].items():
                out[side][k] = out[side].get(k, 0) + v
        for step, counts in r["steps"].items():
            for k, v in counts.items():
                if isinstance(v, int):
                    out["steps"].setdefault(step, {})[k] = out["steps"].get(step, {}).get(k, 0) + v
    return out


def _full_window_generator(settings: Settings):
    """The configured GGUF with the window it was trained with (n_ctx 0), for the baseline."""
    from memcli.memory import Memory

    return Memory(settings.model_copy(update={"llm": settings.llm.model_copy(update={"n_ctx": 0})}))._generator


def _answer_row(how: str, scored: list[tuple[str, dict[str, float]]], seconds: float) -> dict:
    """F1 over categories 1-4; for category 5 the share of questions the answer declined."""
    answerable = [sc for c, sc in scored if c in ANSWERABLE]
    adversarial = [sc for c, sc in scored if c == "5"]
    metrics = {"f1": round(mean([sc["f1"] for sc in answerable]), 4),
               "false_abstention": round(mean([sc["abstained"] for sc in answerable]), 4),
               "abstention_accuracy_cat5": round(mean([sc["abstained"] for sc in adversarial]), 4)}
    by_cat = {}
    for cat in sorted({c for c, _ in scored}):
        rows = [sc for c, sc in scored if c == cat]
        by_cat[cat] = {k: round(mean([sc[k] for sc in rows]), 4) for k in rows[0]} | {"queries": len(rows)}
    return {"name": f"answer/{how}", "metrics": metrics, "by_category": by_cat, "seconds": round(seconds, 3)}


def _last_session_time(conversation: dict):
    from memcli.ingest.readers.chat import parse_time

    times = [parse_time(v) for k, v in conversation.items() if re.fullmatch(r"session_\d+_date_time", k)]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def _unit_turns(mem) -> dict[str, list[str]]:
    tbl = mem._lance.committed(["id", "turn_ids"])
    if tbl is None:
        return {}
    return dict(zip(tbl.column("id").to_pylist(), tbl.column("turn_ids").to_pylist()))


GRANULARITY = {"segment": "topic", "topic": "topic", "turn": "turn", "session": "session"}


def merge_granularities(results: dict[str, dict]) -> dict:
    """One result with rows named ``<granularity>/<mode>`` from one run per granularity."""
    first = next(iter(results.values()))
    rows, per_query = [], {}
    for g, res in results.items():
        for r in res["rows"]:
            rows.append(r | {"name": f"{g}/{r['name']}"})
        for q in res["per_query"]:
            entry = per_query.setdefault(q["id"], {k: v for k, v in q.items() if k != "modes"} | {"modes": {}})
            entry["modes"].update({f"{g}/{m}": v for m, v in q["modes"].items()})
    return first | {"rows": rows, "per_query": list(per_query.values()),
                    "ingest": {g: r["ingest"] for g, r in results.items()} | {
                        "conversations": first["ingest"]["conversations"],
                        "units": sum(r["ingest"]["units"] for r in results.values()),
                        "seconds": round(sum(r["ingest"]["seconds"] for r in results.values()), 3)},
                    "settings": first["settings"] | {"granularities": list(results)}}
