"""Why a hit ranks where it does (`mem search --explain`, ``Hit.explain``): each retriever's
rank and score, the fused score, and what each later stage added."""

from __future__ import annotations


def explain(uid: str, final: float, ranks: dict, per: dict, stages: dict) -> dict:
    """Why a hit ranks where it does: each retriever's rank and score, the fused score, and
    what title bridging, the time boost and the reranker each added (0.0: nothing)."""
    out: dict = {name: {"rank": ranks[name].get(uid), "score": round(float(per[name][uid]), 6) if uid in per[name] else None}
                 for name in per}
    prev = stages["fused"].get(uid)
    out["fused"] = round(float(prev), 6) if prev is not None else None
    for stage in ("bridge", "time", "rerank"):
        now = stages.get(stage, {}).get(uid)
        if stage in stages:
            out[stage] = round(float(now) - float(prev), 6) if now is not None and prev is not None else (
                round(float(now), 6) if now is not None else None)
            prev = now if now is not None else prev
    out["final"] = round(float(final), 6)
    return out
