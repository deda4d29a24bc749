"""Conversation turns and who said them, for retrieval: a turn spoken by the participant the
question names is more likely the answer than the same words from the other one."""

from __future__ import annotations

import re

_TURN_SPEAKER = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?([^:\n]{1,40}):")
_NAME = re.compile(r"\b[A-Z][\w'-]+")


def speaker_boost(query: str, amount: float):
    """A turn spoken by someone the question names ("When did Caroline …") scores ``amount``
    higher: the same words from the other participant are usually not the answer."""
    names = {m.group().lower() for m in _NAME.finditer(query)}
    if not names or amount <= 0:
        return lambda text: 0.0

    def boost(text: str) -> float:
        m = _TURN_SPEAKER.match(text or "")
        return amount if m and m.group(1).split()[0].lower() in names else 0.0
    return boost
