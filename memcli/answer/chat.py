"""A multi-turn chat over memory: follow-up questions are rewritten into standalone ones
before retrieval, answers come from the same path as `mem ask`, and the chat itself is
written back into memory as a conversation when it ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from memcli.answer.candidates import QUESTION_SPEAKERS
from memcli.text import STOP, WORD

QUESTION_SPEAKER = next(iter(QUESTION_SPEAKERS))  # "you asked"
ANSWER_SPEAKER = "memcli answered"

# Words that lean on earlier turns ("when did she do it?").
_ANAPHORA = {"it", "its", "they", "them", "their", "he", "him", "his", "she", "her", "hers", "that", "this",
             "those", "these", "there", "then", "one", "else", "more", "also"}
REWRITE_SYSTEM = ("Rewrite the user's last question so that it can be understood without the conversation. "
                  "Replace pronouns with what they refer to. Reply with the rewritten question only.")


def needs_context(question: str) -> bool:
    words = [w.lower() for w in WORD.findall(question)]
    return bool(words) and (len(words) <= 3 or any(w in _ANAPHORA for w in words))


def cheap_rewrite(question: str, history: list[tuple[str, str]]) -> str:
    """Append the content words of the previous question (and its answer's subject) so
    retrieval sees what the pronouns point at."""
    if not history or not needs_context(question):
        return question
    prev_q, prev_a = history[-1]
    own = {w.lower() for w in WORD.findall(question)}
    carry = [w for w in WORD.findall(prev_q) if w.lower() not in STOP and w.lower() not in own
             and w.lower() not in _ANAPHORA]
    carry += [w for w in WORD.findall(prev_a)[:12] if w[:1].isupper() and w.lower() not in own]
    extra = " ".join(dict.fromkeys(carry))
    return f"{question} ({extra})" if extra else question


@dataclass
class ChatTurn:
    question: str
    standalone: str
    answer: object  # memcli.answer.Answer
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class ChatSession:
    """One chat. Its collaborators come in (Memory.chat_session builds it): ``ask`` and
    ``ingest`` are Memory's, ``generator`` a provider (loaded only to rewrite with the
    LLM), ``chats_dir`` where the transcript is written when the chat is saved."""

    def __init__(self, *, ask, ingest, generator, chats_dir, default_answer: str = "extractive",
                 answer: str | None = None, k: int | None = None, use_llm_rewrite: bool = True) -> None:
        self._ask, self._ingest, self._generator, self._chats_dir = ask, ingest, generator, chats_dir
        self.default_answer = default_answer
        self.answer_mode = answer
        self.k = k
        self.use_llm_rewrite = use_llm_rewrite
        self.turns: list[ChatTurn] = []
        self.started = datetime.now(timezone.utc)
        self.save_enabled = True

    def rewrite(self, question: str) -> str:
        history = [(t.question, t.answer.answer) for t in self.turns[-3:]]
        if not history or not needs_context(question):
            return question
        if self.use_llm_rewrite and (self.answer_mode or self.default_answer) == "generate":
            convo = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history)
            msgs = [{"role": "system", "content": REWRITE_SYSTEM},
                    {"role": "user", "content": f"{convo}\nUser: {question}\n\nRewritten question:"}]
            try:
                out = "".join(self._generator().stream(msgs, max_tokens=48, temperature=0.0)).strip()
            except Exception:  # a model failure must not end the chat: fall back
                out = ""
            out = out.splitlines()[0].strip() if out else ""
            # A tiny model rewrites badly: keep its rewrite only if it still asks the question.
            asked = {w.lower() for w in WORD.findall(question)} - STOP - _ANAPHORA
            if 3 <= len(out.split()) <= 40 and asked & {w.lower() for w in WORD.findall(out)}:
                return out
        return cheap_rewrite(question, history)

    def ask(self, question: str, stream: bool = False):
        """The follow-up, rewritten from the history and asked: its ``Answer`` (an
        ``AnswerStream`` with ``stream``)."""
        from memcli.answer.stream import AnswerStream

        steps = AnswerStream(self._steps(question))
        return steps if stream else steps.result()

    def _steps(self, question: str):
        standalone = self.rewrite(question)
        asked = self._ask(standalone, k=self.k, answer=self.answer_mode, stream=True)
        yield from asked
        ans = asked.result()
        ans.question = question
        self.turns.append(ChatTurn(question, standalone, ans))
        return ans

    def last_citations(self):
        return self.turns[-1].answer.citations if self.turns else []

    def transcript_jsonl(self) -> str:
        sid = f"chat-{self.started:%Y%m%d-%H%M%S}"
        lines = []
        for i, t in enumerate(self.turns):
            # The question is kept under a speaker that `mem ask` never quotes as an answer;
            # the answer keeps where it came from.
            lines.append({"session": sid, "id": f"{sid}:{2 * i + 1}", "speaker": QUESTION_SPEAKER, "text": t.question,
                          "time": t.at.isoformat()})
            cited = "; ".join(f"{c.uri}:{c.line_start}-{c.line_end}" for c in t.answer.citations)
            lines.append({"session": sid, "id": f"{sid}:{2 * i + 2}", "speaker": ANSWER_SPEAKER,
                          "text": t.answer.answer + (f" (from {cited})" if cited else ""), "time": t.at.isoformat()})
        return "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n"

    def save(self) -> Path | None:
        """Write the chat under <home>/chats/ and ingest it like any conversation export."""
        if not self.turns or not self.save_enabled:
            return None
        d = self._chats_dir()
        d.mkdir(exist_ok=True)
        path = d / f"chat-{self.started:%Y%m%d-%H%M%S}.jsonl"
        path.write_text(self.transcript_jsonl(), encoding="utf-8")
        self._ingest([path])
        return path
